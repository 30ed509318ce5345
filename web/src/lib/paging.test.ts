import { describe, expect, it } from 'vitest';
import { keepOnly, missingPages, pagesFor, placePage } from './paging';

describe('pagesFor', () => {
  it('covers the visible range with a page of margin, clamped to the list', () => {
    expect(pagesFor(0, 20, 1000, 50)).toEqual([0, 1]);
    expect(pagesFor(120, 160, 1000, 50)).toEqual([1, 2, 3, 4]);
    expect(pagesFor(990, 999, 1000, 50)).toEqual([18, 19]);
    expect(pagesFor(0, 10, 0, 50)).toEqual([]);
  });
  it('stays small anywhere in a 100,000-row list', () => {
    const pages = pagesFor(73_210, 73_240, 100_000, 50);
    expect(pages).toEqual([1463, 1464, 1465]);
  });
});

describe('missingPages', () => {
  it('skips loaded pages and pages in flight', () => {
    const ids: (string | undefined)[] = Array.from({ length: 200 }, () => undefined);
    for (let i = 0; i < 50; i++) ids[i] = `e${i}`;
    expect(missingPages(ids, 0, 60, new Set(), 50)).toEqual([1, 2]);
    expect(missingPages(ids, 0, 60, new Set([1]), 50)).toEqual([2]);
    ids[120] = 'x';
    expect(missingPages(ids, 100, 140, new Set(), 50)).toEqual([1, 2, 3]);
  });
});

describe('placePage', () => {
  it('writes a page at its position and sizes the window to the total', () => {
    const w = placePage([], 100, ['a', 'b'], 105);
    expect(w).toHaveLength(105);
    expect(w[99]).toBeUndefined();
    expect(w.slice(100, 103)).toEqual(['a', 'b', undefined]);
    expect(Object.keys(w)).toHaveLength(105);
  });
});

describe('keepOnly', () => {
  it('clears pages outside a set', () => {
    expect(keepOnly(['a', 'b', 'c', 'd'], [1], 2)).toEqual([undefined, undefined, 'c', 'd']);
  });
});
