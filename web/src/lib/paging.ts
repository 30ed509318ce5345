// Which pages of a long query result to load for the rows on screen. The
// list holds one slot per position (an id once known); rows are loaded a
// page at a time as they scroll into view, with a page of margin.

import type { Id } from './jmap/types';

export const PAGE_SIZE = 50;

/** Pages that cover [first, last] plus `margin` pages on either side, within total. */
export function pagesFor(first: number, last: number, total: number, pageSize = PAGE_SIZE, margin = 1): number[] {
  if (total <= 0 || last < first) return [];
  const lastPage = Math.floor((total - 1) / pageSize);
  const from = Math.max(0, Math.floor(Math.max(0, first) / pageSize) - margin);
  const to = Math.min(lastPage, Math.floor(Math.min(last, total - 1) / pageSize) + margin);
  const out: number[] = [];
  for (let p = from; p <= to; p++) out.push(p);
  return out;
}

/** Pages of the range still holding an unknown id and not already being loaded. */
export function missingPages(
  ids: readonly (Id | undefined)[],
  first: number,
  last: number,
  inflight: ReadonlySet<number>,
  pageSize = PAGE_SIZE,
): number[] {
  return pagesFor(first, last, ids.length, pageSize).filter((p) => {
    if (inflight.has(p)) return false;
    const end = Math.min(ids.length, (p + 1) * pageSize);
    for (let i = p * pageSize; i < end; i++) if (ids[i] === undefined) return true;
    return false;
  });
}

/** Writes a loaded page of ids into the window at `position`, growing it to `total`. */
export function placePage(ids: readonly (Id | undefined)[], position: number, page: readonly Id[], total?: number): (Id | undefined)[] {
  const next = ids.slice();
  if (total !== undefined) next.length = total;
  for (let i = 0; i < page.length; i++) next[position + i] = page[i];
  // Array length growth leaves holes; make them explicit undefined slots.
  for (let i = 0; i < next.length; i++) if (!(i in next)) next[i] = undefined;
  return next;
}

/**
 * A page stays fresh if it was loaded after the query's current state: on
 * an inexact update we drop everything outside the visible pages.
 */
export function keepOnly(ids: readonly (Id | undefined)[], keep: readonly number[], pageSize = PAGE_SIZE): (Id | undefined)[] {
  const pages = new Set(keep);
  return ids.map((id, i) => (pages.has(Math.floor(i / pageSize)) ? id : undefined));
}
