import { describe, expect, it } from 'vitest';
import { formatRoute, parseRoute, type Route } from './router';

describe('routes', () => {
  const cases: [string, Route][] = [
    ['/', { view: 'home' }],
    ['/folders', { view: 'folders' }],
    ['/scheduled', { view: 'scheduled' }],
    ['/mail/M1', { view: 'list', source: { kind: 'mailbox', mailboxId: 'M1' }, threadId: null }],
    ['/mail/M1/T9', { view: 'list', source: { kind: 'mailbox', mailboxId: 'M1' }, threadId: 'T9' }],
    ['/label/to_do', { view: 'list', source: { kind: 'label', keyword: 'to_do' }, threadId: null }],
    ['/search/from%3Aann%20report/T2', { view: 'list', source: { kind: 'search', query: 'from:ann report' }, threadId: 'T2' }],
  ];
  it('parse and format are inverse', () => {
    for (const [path, route] of cases) {
      expect(parseRoute(path)).toEqual(route);
      expect(formatRoute(route)).toBe(path);
    }
  });
  it('falls back to home on nonsense', () => {
    expect(parseRoute('/mail')).toEqual({ view: 'home' });
    expect(parseRoute('/nope/x')).toEqual({ view: 'home' });
    expect(parseRoute('/search/%E0%A4%A')).toEqual({ view: 'home' });
    expect(parseRoute('/mail/M1/')).toEqual(parseRoute('/mail/M1'));
  });
});
