import { describe, expect, it } from 'vitest';
import { actionFor, SHORTCUTS, type KeyInput } from './keyboard';

const key = (k: string, extra: Partial<KeyInput> = {}): KeyInput => ({
  key: k, ctrlKey: false, metaKey: false, altKey: false, inEditable: false, inDialog: false, ...extra,
});

describe('actionFor', () => {
  it('maps the documented keys', () => {
    const expected: Record<string, string> = {
      j: 'next', k: 'prev', o: 'open', Enter: 'open', u: 'back', e: 'archive', '#': 'delete', r: 'reply',
      a: 'replyAll', f: 'forward', c: 'compose', '/': 'search', s: 'star', x: 'select', '?': 'help',
    };
    for (const [k, action] of Object.entries(expected)) expect(actionFor(key(k))).toBe(action);
  });
  it('stays quiet while typing, in dialogs and with modifiers', () => {
    expect(actionFor(key('j', { inEditable: true }))).toBeNull();
    expect(actionFor(key('j', { inDialog: true }))).toBeNull();
    expect(actionFor(key('r', { ctrlKey: true }))).toBeNull();
    expect(actionFor(key('f', { metaKey: true }))).toBeNull();
    expect(actionFor(key('e', { altKey: true }))).toBeNull();
    expect(actionFor(key('Enter', { onControl: true }))).toBeNull();
    expect(actionFor(key('q'))).toBeNull();
  });
  it('has one action per key', () => {
    const keys = SHORTCUTS.map((s) => s.key);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
