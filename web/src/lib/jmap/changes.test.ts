import { describe, expect, it } from 'vitest';
import { applyChanges, applyQueryChanges, mergeChanges, pullChanges, staleTypes } from './changes';
import { MethodError } from './errors';
import type { ChangesResponse } from './types';

describe('staleTypes', () => {
  it('lists only tracked types whose state moved, for our account', () => {
    const change = { '@type': 'StateChange' as const, changed: { A1: { Email: 'e2', Mailbox: 'm1', Thread: 't2', CalendarEvent: 'c9' }, A2: { Email: 'x' } } };
    expect(staleTypes(change, 'A1', { Email: 'e1', Mailbox: 'm1', Thread: 't1' }).sort()).toEqual(['Email', 'Thread']);
    expect(staleTypes(change, 'A3', { Email: 'e1' })).toEqual([]);
  });
});

describe('mergeChanges', () => {
  it('cancels create+destroy, keeps create+update as create, drops update of destroyed', () => {
    const m = mergeChanges(
      { created: ['a', 'b'], updated: ['c', 'd'], destroyed: [] },
      { created: ['e'], updated: ['a', 'c'], destroyed: ['b', 'd'] },
    );
    expect(m.created.sort()).toEqual(['a', 'e']);
    expect(m.updated).toEqual(['c']);
    expect(m.destroyed).toEqual(['d']);
  });
  it('treats an id destroyed then created again as updated', () => {
    const m = mergeChanges({ created: [], updated: [], destroyed: ['x'] }, { created: ['x'], updated: [], destroyed: [] });
    expect(m).toEqual({ created: [], updated: ['x'], destroyed: [] });
  });
});

describe('applyChanges', () => {
  it('updates the cache and drops ids that could not be fetched', () => {
    const cache = new Map([
      ['a', { id: 'a', v: 1 }],
      ['b', { id: 'b', v: 1 }],
      ['c', { id: 'c', v: 1 }],
    ]);
    const next = applyChanges(cache, { created: ['d'], updated: ['a', 'c'], destroyed: ['b'] }, [{ id: 'a', v: 2 }, { id: 'd', v: 1 }]);
    expect([...next.entries()].sort()).toEqual([
      ['a', { id: 'a', v: 2 }],
      ['d', { id: 'd', v: 1 }],
    ]);
    expect(cache.size).toBe(3);
  });
});

describe('pullChanges', () => {
  const page = (p: Partial<ChangesResponse>): ChangesResponse => ({
    accountId: 'A1', oldState: '', newState: '', hasMoreChanges: false, created: [], updated: [], destroyed: [], ...p,
  });
  it('follows hasMoreChanges and merges', async () => {
    const pages: Record<string, ChangesResponse> = {
      s1: page({ newState: 's2', hasMoreChanges: true, created: ['a'] }),
      s2: page({ newState: 's3', destroyed: ['a'], created: ['b'] }),
    };
    const r = await pullChanges(async (since) => pages[since] as ChangesResponse, 's1');
    expect(r).toEqual({ kind: 'changes', newState: 's3', changes: { created: ['b'], updated: [], destroyed: [] } });
  });
  it('asks for a reset when the server cannot calculate changes', async () => {
    const r = await pullChanges(async () => {
      throw new MethodError('cannotCalculateChanges', 'Email/changes', 'c0');
    }, 's1');
    expect(r).toEqual({ kind: 'reset' });
  });
  it('passes other errors on', async () => {
    await expect(pullChanges(async () => {
      throw new MethodError('serverFail', 'Email/changes', 'c0');
    }, 's1')).rejects.toBeInstanceOf(MethodError);
  });
});

describe('applyQueryChanges', () => {
  it('applies removals then additions in index order (RFC 8620 §5.6 example)', () => {
    // The RFC's example: ids a..f; c moved to the front, b removed, x added.
    const r = applyQueryChanges(['a', 'b', 'c', 'd', 'e'], {
      removed: ['b', 'c'],
      added: [{ id: 'x', index: 3 }, { id: 'c', index: 0 }],
      total: 5,
    });
    expect(r).toEqual({ ids: ['c', 'a', 'd', 'x', 'e'], exact: true });
  });
  it('prepends new mail into a sparse window exactly', () => {
    const r = applyQueryChanges(['a', 'b', undefined, undefined], { removed: [], added: [{ id: 'n', index: 0 }], total: 5 });
    expect(r).toEqual({ ids: ['n', 'a', 'b', undefined, undefined], exact: true });
  });
  it('is inexact when a removed id was outside the known part', () => {
    const r = applyQueryChanges(['a', 'b', undefined, undefined], { removed: ['zz'], added: [], total: 3 });
    expect(r.exact).toBe(false);
    expect(r.ids).toHaveLength(3);
    expect(r.ids.slice(0, 2)).toEqual(['a', 'b']);
  });
  it('ignores unknown removed ids in a complete window', () => {
    const r = applyQueryChanges(['a', 'b'], { removed: ['zz'], added: [], total: 2 });
    expect(r).toEqual({ ids: ['a', 'b'], exact: true });
  });
});
