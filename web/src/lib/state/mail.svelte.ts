// The account's mail as the app holds it: mailboxes, identities, labels,
// and a cache of the emails and threads seen, all kept in step with the
// server through /changes (RFC 8620 §5.2) when a push StateChange arrives.

import { SvelteMap } from 'svelte/reactivity';
import { applyChanges, pullChanges } from '../jmap/changes';
import { assertSet, type JmapClient } from '../jmap/client';
import { CAP_LABELS, CAP_SUBMISSION, type Email, type Id, type Identity, type Label, type Mailbox, type Thread } from '../jmap/types';
import { JmapLabelStore, LocalLabelStore, type LabelStore } from '../labels';
import { applyPatch } from '../patch';

/** What a list row shows. */
export const ROW_PROPS = [
  'id', 'threadId', 'mailboxIds', 'keywords', 'from', 'to', 'subject', 'receivedAt', 'preview', 'hasAttachment', 'size',
] as const;

/** What the reader shows, on top of the row properties. */
export const FULL_PROPS = [
  ...ROW_PROPS, 'blobId', 'cc', 'bcc', 'replyTo', 'sentAt', 'messageId', 'inReplyTo', 'references',
  'textBody', 'htmlBody', 'attachments', 'bodyValues',
] as const;

const MAILBOX_PROPS = ['id', 'name', 'parentId', 'role', 'sortOrder', 'totalEmails', 'unreadEmails', 'totalThreads', 'unreadThreads', 'isSubscribed'];

const ROLE_ORDER = ['inbox', 'drafts', 'scheduled', 'sent', 'archive', 'junk', 'trash'];

export function sortMailboxes(list: readonly Mailbox[]): Mailbox[] {
  const rank = (m: Mailbox) => {
    const i = m.role ? ROLE_ORDER.indexOf(m.role) : -1;
    return i === -1 ? ROLE_ORDER.length : i;
  };
  return [...list].sort((a, b) => rank(a) - rank(b) || a.sortOrder - b.sortOrder || a.name.localeCompare(b.name));
}

export class MailStore {
  mailboxes = $state.raw<Mailbox[]>([]);
  identities = $state.raw<Identity[]>([]);
  labels = $state.raw<Label[]>([]);
  /** False while label names live only in this browser (no server support yet). */
  labelsOnServer = $state(true);
  /**
   * Emails by id; an entry may hold only the row properties. Entries are
   * replaced, never mutated, so a view reading one re-derives when it changes.
   */
  readonly emails = new SvelteMap<Id, Email>();
  /** Ids of emails whose full properties are in `emails`. */
  readonly full = new Set<Id>();
  readonly threads = new SvelteMap<Id, Thread>();
  /** The state string of each data type we hold, for /changes. */
  readonly states: Record<string, string | undefined> = { Mailbox: undefined, Email: undefined, Thread: undefined, Label: undefined, EmailSubmission: undefined };
  labelStore: LabelStore;

  constructor(readonly client: JmapClient) {
    this.labelStore = new JmapLabelStore(client);
  }

  byRole(role: string): Mailbox | undefined {
    return this.mailboxes.find((m) => m.role === role);
  }

  mailbox(id: Id): Mailbox | undefined {
    return this.mailboxes.find((m) => m.id === id);
  }

  get myAddresses(): Set<string> {
    const s = new Set(this.identities.map((i) => i.email.toLowerCase()));
    s.add(this.client.session.username.toLowerCase());
    return s;
  }

  /**
   * First load after login: everything the shell needs, in one request
   * (calls made in the same tick travel together).
   */
  async load(): Promise<void> {
    const mb = this.client.call('Mailbox/get', { ids: null, properties: MAILBOX_PROPS });
    const ids = this.client.has(CAP_SUBMISSION) ? this.client.call('Identity/get', { ids: null }) : null;
    // Settled here, thrown below: the folders show even if labels fail.
    const labels = this.loadLabels().then(
      () => null,
      (e: unknown) => e,
    );
    const [m, i] = await Promise.all([mb, ids]);
    this.mailboxes = sortMailboxes(m.list);
    this.states.Mailbox = m.state;
    this.identities = i?.list ?? [];
    const failed = await labels;
    if (failed) throw failed;
  }

  async loadLabels(): Promise<void> {
    if (!this.client.has(CAP_LABELS)) {
      this.labelsOnServer = false;
      this.labelStore = new LocalLabelStore(localStorage, `freehold.labels.${this.client.accountId}`);
    }
    this.labels = await this.labelStore.load();
  }

  /** Stores emails fetched with the given properties, merging over rows. */
  putEmails(list: readonly Email[], full: boolean): void {
    for (const e of list) {
      const old = this.emails.get(e.id);
      this.emails.set(e.id, old ? { ...old, ...e } : e);
      if (full) this.full.add(e.id);
    }
  }

  putThreads(list: readonly Thread[]): void {
    for (const t of list) this.threads.set(t.id, t);
  }

  /** Loads a thread and its emails with everything the reader needs. */
  async loadThread(threadId: Id): Promise<Email[]> {
    const b = this.client.batch();
    const t = b.add('Thread/get', { ids: [threadId] });
    const e = b.add('Email/get', {
      '#ids': t.ref('/list/*/emailIds'),
      properties: FULL_PROPS,
      fetchTextBodyValues: true,
      maxBodyValueBytes: 1_000_000,
    });
    await b.send();
    this.putThreads(t.result.list);
    this.putEmails(e.result.list, true);
    this.states.Thread ??= t.result.state;
    this.states.Email ??= e.result.state;
    return e.result.list;
  }

  /**
   * Applies an Email/set update: the cache first (the view reacts at
   * once), then the server; on failure the affected emails are refetched.
   */
  async updateEmails(patches: Record<Id, Record<string, unknown>>): Promise<void> {
    for (const [id, patch] of Object.entries(patches)) {
      const e = this.emails.get(id);
      if (e) this.emails.set(id, applyPatch(e, patch));
    }
    try {
      assertSet('Email/set', await this.client.call('Email/set', { update: patches }));
    } catch (err) {
      await this.refetchEmails(Object.keys(patches));
      throw err;
    }
  }

  async destroyEmails(ids: readonly Id[]): Promise<void> {
    for (const id of ids) this.emails.delete(id);
    assertSet('Email/set', await this.client.call('Email/set', { destroy: ids }));
  }

  async refetchEmails(ids: readonly Id[]): Promise<void> {
    if (ids.length === 0) return;
    const full = ids.filter((id) => this.full.has(id));
    const rows = ids.filter((id) => !this.full.has(id));
    const calls: Promise<void>[] = [];
    const get = async (list: Id[], isFull: boolean) => {
      const r = await this.client.call('Email/get', {
        ids: list,
        properties: isFull ? FULL_PROPS : ROW_PROPS,
        ...(isFull ? { fetchTextBodyValues: true, maxBodyValueBytes: 1_000_000 } : {}),
      });
      for (const id of r.notFound) {
        this.emails.delete(id);
        this.full.delete(id);
      }
      this.putEmails(r.list, isFull);
    };
    if (full.length) calls.push(get(full, true));
    if (rows.length) calls.push(get(rows, false));
    await Promise.all(calls);
  }

  // --- Sync: called by the push handler with the types whose state moved.

  async syncMailboxes(): Promise<void> {
    const since = this.states.Mailbox;
    const r = since ? await pullChanges((s) => this.client.call('Mailbox/changes', { sinceState: s }), since) : { kind: 'reset' as const };
    if (r.kind === 'reset') {
      const all = await this.client.call('Mailbox/get', { ids: null, properties: MAILBOX_PROPS });
      this.mailboxes = sortMailboxes(all.list);
      this.states.Mailbox = all.state;
      return;
    }
    const want = [...r.changes.created, ...r.changes.updated];
    const got = want.length ? (await this.client.call('Mailbox/get', { ids: want, properties: MAILBOX_PROPS })).list : [];
    const cache = applyChanges(new Map(this.mailboxes.map((m) => [m.id, m])), r.changes, got);
    this.mailboxes = sortMailboxes([...cache.values()]);
    this.states.Mailbox = r.newState;
  }

  /** Returns the ids of emails that changed (for views to refresh) or null after a reset. */
  async syncEmails(): Promise<Set<Id> | null> {
    const since = this.states.Email;
    if (!since) return null;
    const r = await pullChanges((s) => this.client.call('Email/changes', { sinceState: s, maxChanges: 500 }), since);
    if (r.kind === 'reset') {
      const all = [...this.emails.keys()];
      this.states.Email = undefined;
      await this.refetchEmails(all);
      return null;
    }
    for (const id of r.changes.destroyed) {
      this.emails.delete(id);
      this.full.delete(id);
    }
    await this.refetchEmails(r.changes.updated.filter((id) => this.emails.has(id)));
    this.states.Email = r.newState;
    return new Set([...r.changes.created, ...r.changes.updated, ...r.changes.destroyed]);
  }

  async syncThreads(): Promise<Set<Id>> {
    const since = this.states.Thread;
    if (!since) return new Set();
    const r = await pullChanges((s) => this.client.call('Thread/changes', { sinceState: s }), since);
    if (r.kind === 'reset') {
      this.threads.clear();
      this.states.Thread = undefined;
      return new Set();
    }
    for (const id of r.changes.destroyed) this.threads.delete(id);
    const stale = r.changes.updated.filter((id) => this.threads.has(id));
    if (stale.length) this.putThreads((await this.client.call('Thread/get', { ids: stale })).list);
    this.states.Thread = r.newState;
    return new Set([...r.changes.updated, ...r.changes.destroyed]);
  }
}
