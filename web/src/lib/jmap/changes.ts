// Keeping local copies in step with the server: RFC 8620 §5.2 (/changes),
// §5.6 (/queryChanges) and §7.1 (StateChange push).

import { MethodError } from './errors';
import type { ChangesResponse, Id, QueryChangesResponse, StateChange } from './types';

export interface ObjectChanges {
  created: Id[];
  updated: Id[];
  destroyed: Id[];
}

export const noChanges = (): ObjectChanges => ({ created: [], updated: [], destroyed: [] });

/**
 * The data types whose state in a push StateChange differs from the state
 * we hold for the account; types we do not track are ignored.
 */
export function staleTypes(change: StateChange, accountId: Id, known: Readonly<Record<string, string | undefined>>): string[] {
  const changed = change.changed[accountId];
  if (!changed) return [];
  return Object.keys(changed).filter((type) => type in known && known[type] !== changed[type]);
}

/**
 * Folds a later page of changes into an earlier one. An object created and
 * then destroyed within the span is never reported; one created then
 * updated stays "created"; one destroyed is no longer "updated".
 */
export function mergeChanges(a: ObjectChanges, b: ObjectChanges): ObjectChanges {
  const created = new Set(a.created);
  const updated = new Set(a.updated);
  const destroyed = new Set(a.destroyed);
  for (const id of b.created) {
    if (destroyed.delete(id)) updated.add(id);
    else created.add(id);
  }
  for (const id of b.updated) if (!created.has(id)) updated.add(id);
  for (const id of b.destroyed) {
    updated.delete(id);
    if (!created.delete(id)) destroyed.add(id);
  }
  return { created: [...created], updated: [...updated], destroyed: [...destroyed] };
}

/**
 * Applies changes to a cache: destroyed ids leave, created and updated ids
 * take the freshly fetched object. An id that was created or updated but
 * not fetched (it vanished in between) leaves too, so nothing stale stays.
 */
export function applyChanges<T extends { id: Id }>(
  cache: ReadonlyMap<Id, T>,
  changes: ObjectChanges,
  fetched: readonly T[],
): Map<Id, T> {
  const next = new Map(cache);
  for (const id of changes.destroyed) next.delete(id);
  const got = new Map(fetched.map((o) => [o.id, o]));
  for (const id of [...changes.created, ...changes.updated]) {
    const o = got.get(id);
    if (o) next.set(id, o);
    else next.delete(id);
  }
  return next;
}

export type PullResult = { kind: 'changes'; changes: ObjectChanges; newState: string } | { kind: 'reset' };

/**
 * Calls Foo/changes from `since` until hasMoreChanges is false. When the
 * server cannot calculate the changes (RFC 8620 §5.2), the caller must
 * reload from scratch: the result says "reset".
 */
export async function pullChanges(
  fetchPage: (sinceState: string) => Promise<ChangesResponse>,
  since: string,
  maxPages = 50,
): Promise<PullResult> {
  let acc = noChanges();
  let state = since;
  for (let i = 0; i < maxPages; i++) {
    let page: ChangesResponse;
    try {
      page = await fetchPage(state);
    } catch (e) {
      if (e instanceof MethodError && (e.type === 'cannotCalculateChanges' || e.type === 'tooManyChanges')) {
        return { kind: 'reset' };
      }
      throw e;
    }
    acc = mergeChanges(acc, page);
    state = page.newState;
    if (!page.hasMoreChanges) return { kind: 'changes', changes: acc, newState: state };
  }
  return { kind: 'reset' };
}

export interface WindowUpdate {
  ids: (Id | undefined)[];
  /** False when a removed id was not in the window, so positions may have shifted. */
  exact: boolean;
}

/**
 * RFC 8620 §5.6: brings a sparse window of query results up to date. All
 * removed ids are taken out first, then added ids are inserted in order of
 * their index. Unknown positions are `undefined` and are fetched later.
 */
export function applyQueryChanges(
  ids: readonly (Id | undefined)[],
  resp: Pick<QueryChangesResponse, 'removed' | 'added' | 'total'>,
): WindowUpdate {
  const removed = new Set(resp.removed);
  const known = ids.filter((id): id is Id => id !== undefined);
  let exact = resp.removed.every((id) => known.includes(id)) || ids.every((id) => id !== undefined);
  const next: (Id | undefined)[] = ids.filter((id) => id === undefined || !removed.has(id));
  // Holes may have held removed ids: when we did not see every removed id,
  // shrinking by the unseen count keeps the tail length right at least.
  const unseen = resp.removed.filter((id) => !known.includes(id)).length;
  if (unseen > 0 && ids.some((id) => id === undefined)) {
    for (let i = next.length - 1, n = unseen; i >= 0 && n > 0; i--) {
      if (next[i] === undefined) {
        next.splice(i, 1);
        n--;
      }
    }
  }
  for (const { id, index } of [...resp.added].sort((a, b) => a.index - b.index)) {
    if (index > next.length) next.length = index;
    next.splice(index, 0, id);
  }
  if (resp.total !== undefined && resp.total !== next.length) {
    if (next.length > resp.total) next.length = resp.total;
    else {
      while (next.length < resp.total) next.push(undefined);
    }
    exact = false;
  }
  return { ids: next, exact };
}
