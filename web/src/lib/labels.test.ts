import { describe, expect, it } from 'vitest';
import { keywordFor, keywordPatch, labelsOf, labelState, LocalLabelStore, validateLabel } from './labels';
import type { Label } from './jmap/types';

/** True if the string may be sent as a JMAP keyword (RFC 8621 §4.1.1). */
function isValidKeyword(k: string): boolean {
  return k.length > 0 && k.length <= 255 && /^[\x21-\x7e]+$/.test(k) && !/[(){\]%*"\\]/.test(k);
}

const L = (id: string, name: string, keyword: string): Label => ({ id, name, keyword, color: '#188038' });

describe('keywordFor', () => {
  it('makes plain lower-case keywords like Thunderbird tags', () => {
    expect(keywordFor('Work')).toBe('work');
    expect(keywordFor('To Do')).toBe('to_do');
    expect(keywordFor('Café (perso)')).toBe('cafe_perso');
    expect(keywordFor('$Junk')).toBe('junk');
    expect(keywordFor('日本')).toBe('label');
  });
  it('never clashes with an existing keyword', () => {
    expect(keywordFor('Work', ['work', 'work-2'])).toBe('work-3');
  });
  it('always yields a valid keyword', () => {
    for (const n of ['a"b', 'x\\y', '%*{]', '  spaced  out ', 'ümlaut']) {
      expect(isValidKeyword(keywordFor(n))).toBe(true);
    }
    expect(isValidKeyword('$seen')).toBe(true);
    expect(isValidKeyword('a b')).toBe(false);
    expect(isValidKeyword('a(b')).toBe(false);
  });
});

describe('label logic', () => {
  const labels = [L('1', 'Work', 'work'), L('2', 'Home', 'home'), L('3', 'Later', 'later')];
  it('finds the labels of an email in list order', () => {
    expect(labelsOf({ later: true, work: true, $seen: true }, labels).map((l) => l.name)).toEqual(['Work', 'Later']);
    expect(labelsOf(undefined, labels)).toEqual([]);
  });
  it('builds keyword patches, escaping the JSON pointer', () => {
    expect(keywordPatch(['e1', 'e2'], 'work', true)).toEqual({ e1: { 'keywords/work': true }, e2: { 'keywords/work': true } });
    expect(keywordPatch(['e1'], 'a/b~c', false)).toEqual({ e1: { 'keywords/a~1b~0c': null } });
  });
  it('tells the state over a selection', () => {
    expect(labelState([{ work: true }, { work: true }], 'work')).toBe('all');
    expect(labelState([{ work: true }, {}], 'work')).toBe('some');
    expect(labelState([{}, {}], 'work')).toBe('none');
  });
  it('validates names and colours', () => {
    expect(validateLabel({ name: ' ', color: '#000000' }, [])).toMatch(/name/);
    expect(validateLabel({ name: 'work', color: '#000000' }, labels)).toMatch(/exists/);
    expect(validateLabel({ name: 'New', color: 'red' }, labels)).toMatch(/colour/);
    expect(validateLabel({ name: 'New', color: '#a1b2c3' }, labels)).toBeNull();
  });
});

describe('LocalLabelStore', () => {
  it('creates, renames, recolours and deletes', async () => {
    const mem = new Map<string, string>();
    const store = new LocalLabelStore({ getItem: (k) => mem.get(k) ?? null, setItem: (k, v) => void mem.set(k, v) }, 'labels');
    const a = await store.create({ name: 'Work', color: '#188038', keyword: 'work' });
    await store.create({ name: 'Home', color: '#1a73e8', keyword: 'home' });
    await store.update(a.id, { name: 'Job', color: '#d93025' });
    expect((await store.load()).map((l) => [l.name, l.color, l.keyword])).toEqual([
      ['Job', '#d93025', 'work'],
      ['Home', '#1a73e8', 'home'],
    ]);
    await store.destroy(a.id);
    expect((await store.load()).map((l) => l.name)).toEqual(['Home']);
  });
});
