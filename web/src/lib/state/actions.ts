// Organising mail: the operations behind the toolbar, the reader and the
// shortcuts. A list row stands for its whole thread, so each operation
// applies to the thread's emails (as a conversation view should).

import type { Email, Id } from '../jmap/types';
import { keywordPatch } from '../labels';
import { movePatch } from '../patch';
import type { ListSource } from '../router';
import type { App } from './app.svelte';

/** The cached emails of the threads of the given row ids. */
export function threadEmails(app: App, rowIds: Iterable<Id>): Email[] {
  const out = new Map<Id, Email>();
  for (const id of rowIds) {
    const row = app.mail.emails.get(id);
    if (!row) continue;
    const t = app.mail.threads.get(row.threadId);
    for (const eid of t?.emailIds ?? [id]) {
      const e = app.mail.emails.get(eid);
      if (e) out.set(eid, e);
    }
    out.set(id, row);
  }
  return [...out.values()];
}

/** The emails of a thread still to load (threads are fetched lazily). */
async function ensureThreads(app: App, rowIds: Id[]): Promise<Email[]> {
  const missing = new Set<Id>();
  for (const id of rowIds) {
    const row = app.mail.emails.get(id);
    const t = row ? app.mail.threads.get(row.threadId) : undefined;
    for (const eid of t?.emailIds ?? []) if (!app.mail.emails.has(eid)) missing.add(eid);
  }
  if (missing.size) await app.mail.refetchEmails([...missing]);
  return threadEmails(app, rowIds);
}

function sourceMailbox(source: ListSource | undefined): Id | null {
  return source?.kind === 'mailbox' ? source.mailboxId : null;
}

export async function moveTo(app: App, rowIds: Id[], targetId: Id, what: string): Promise<void> {
  const emails = await ensureThreads(app, rowIds);
  let from = sourceMailbox(app.list?.source);
  if (from === targetId) return;
  let patch = movePatch(emails, from, targetId);
  if (Object.keys(patch).length === 0 && from !== null) {
    from = null;
    patch = movePatch(emails, null, targetId);
  }
  await app.mail.updateEmails(patch);
  app.toasts.show(`${what}: ${rowIds.length} conversation${rowIds.length === 1 ? '' : 's'}`);
}

export async function archive(app: App, rowIds: Id[]): Promise<void> {
  const a = app.mail.byRole('archive');
  if (!a) {
    app.toasts.show('There is no Archive folder.');
    return;
  }
  await moveTo(app, rowIds, a.id, 'Archived');
}

/** Moves to Trash; in Trash itself, deletes for good. */
export async function remove(app: App, rowIds: Id[]): Promise<void> {
  const trash = app.mail.byRole('trash');
  if (!trash || sourceMailbox(app.list?.source) === trash.id) {
    const emails = await ensureThreads(app, rowIds);
    await app.mail.destroyEmails(emails.map((e) => e.id));
    app.toasts.show(`Deleted for good: ${rowIds.length}`);
    return;
  }
  await moveTo(app, rowIds, trash.id, 'Moved to Trash');
}

export async function setKeyword(app: App, rowIds: Id[], keyword: string, on: boolean, wholeThread = true): Promise<void> {
  const emails = wholeThread ? await ensureThreads(app, rowIds) : rowIds.map((id) => app.mail.emails.get(id)).filter((e): e is Email => !!e);
  const ids = emails.filter((e) => (e.keywords[keyword] === true) !== on).map((e) => e.id);
  if (ids.length) await app.mail.updateEmails(keywordPatch(ids, keyword, on));
}

export function isUnread(app: App, rowId: Id): boolean {
  return threadEmails(app, [rowId]).some((e) => !e.keywords.$seen);
}

export function isFlagged(app: App, rowId: Id): boolean {
  return threadEmails(app, [rowId]).some((e) => e.keywords.$flagged);
}

export async function toggleFlag(app: App, rowIds: Id[]): Promise<void> {
  const on = !rowIds.every((id) => isFlagged(app, id));
  // Flags go on the newest email only (like most clients); removal clears the thread.
  await setKeyword(app, rowIds, '$flagged', on, !on);
}

export async function markRead(app: App, rowIds: Id[], read: boolean): Promise<void> {
  await setKeyword(app, rowIds, '$seen', read);
}

/** Runs an action, reporting a failure as a toast. */
export function run(app: App, p: Promise<unknown>): void {
  p.catch((e: unknown) => app.toasts.error(e));
}
