// One message list (a mailbox, a label or a search) over Email/query with
// collapsed threads. Only the pages near the visible rows are loaded, so a
// 100,000-message mailbox costs a few pages; Email/queryChanges keeps it
// current (RFC 8620 §5.6).

import { applyQueryChanges } from '../jmap/changes';
import { errorMessage, MethodError } from '../jmap/errors';
import type { Id } from '../jmap/types';
import { keepOnly, missingPages, pagesFor, PAGE_SIZE, placePage } from '../paging';
import type { ListSource } from '../router';
import { ROW_PROPS, type MailStore } from './mail.svelte';

const SORT = [{ property: 'receivedAt', isAscending: false }];

export class ListModel {
  /** One slot per thread in the result; undefined until its page loads. */
  ids = $state.raw<(Id | undefined)[]>([]);
  loaded = $state(false);
  error = $state<string | null>(null);
  /** The keyboard cursor (j/k). */
  cursor = $state(0);
  private queryState: string | undefined;
  private inflight = new Set<number>();
  private first = 0;
  private last = 40;
  /** Bumped on reset: answers to older requests are dropped. */
  private generation = 0;
  /** The first load of a reset, while it is on its way. */
  private loading: Promise<void> | null = null;

  constructor(
    private readonly mail: MailStore,
    readonly source: ListSource,
  ) {}

  get total(): number {
    return this.ids.length;
  }

  filter(): Record<string, unknown> {
    const s = this.source;
    if (s.kind === 'mailbox') return { inMailbox: s.mailboxId };
    const excluded = ['trash', 'junk'].map((r) => this.mail.byRole(r)?.id).filter((x): x is Id => !!x);
    const base = excluded.length ? { inMailboxOtherThan: excluded } : {};
    return s.kind === 'label' ? { ...base, hasKeyword: s.keyword } : { ...base, text: s.query };
  }

  private queryArgs(): Record<string, unknown> {
    return { filter: this.filter(), sort: SORT, collapseThreads: true };
  }

  async reset(): Promise<void> {
    this.generation++;
    this.inflight.clear();
    this.queryState = undefined;
    this.error = null;
    const p = this.loadPages([0, ...pagesFor(this.first, this.last, Math.max(this.total, PAGE_SIZE))], true);
    this.loading = p;
    try {
      await p;
    } finally {
      if (this.loading === p) this.loading = null;
    }
  }

  /** Called as the list scrolls: loads the pages around [first, last]. */
  setVisible(first: number, last: number): void {
    this.first = first;
    this.last = last;
    const pages = missingPages(this.ids, first, last, this.inflight);
    if (pages.length) void this.loadPages(pages, false);
  }

  private async loadPages(pages: number[], withTotal: boolean): Promise<void> {
    const gen = this.generation;
    const todo = [...new Set(pages)].filter((p) => !this.inflight.has(p));
    if (todo.length === 0) return;
    for (const p of todo) this.inflight.add(p);
    const b = this.mail.client.batch();
    const calls = todo.map((p, i) => {
      const q = b.add('Email/query', {
        ...this.queryArgs(),
        position: p * PAGE_SIZE,
        limit: PAGE_SIZE,
        calculateTotal: withTotal && i === 0,
      });
      const e = b.add('Email/get', { '#ids': q.ref('/ids'), properties: ROW_PROPS });
      const t = b.add('Thread/get', { '#ids': e.ref('/list/*/threadId') });
      return { q, e, t };
    });
    try {
      await b.send();
      if (gen !== this.generation) return;
      let ids = this.ids;
      for (const { q, e, t } of calls) {
        const r = q.result;
        this.mail.putEmails(e.result.list, false);
        this.mail.putThreads(t.result.list);
        this.mail.states.Email ??= e.result.state;
        this.mail.states.Thread ??= t.result.state;
        this.queryState ??= r.queryState;
        ids = placePage(ids, r.position, r.ids, r.total ?? Math.max(ids.length, r.position + r.ids.length));
      }
      this.ids = ids;
      this.loaded = true;
    } catch (err) {
      if (gen === this.generation) this.error = errorMessage(err);
    } finally {
      if (gen === this.generation) for (const p of todo) this.inflight.delete(p);
    }
  }

  /** After an Email state change: RFC 8620 §5.6 queryChanges, else reload what is on screen. */
  async refresh(): Promise<void> {
    if (!this.queryState && this.loading) {
      // The first page is on its way (a push right after login): starting
      // over would throw its answer away. Wait for it, then ask what
      // changed since its state.
      await this.loading;
    }
    if (!this.queryState) return this.reset();
    const gen = this.generation;
    try {
      const r = await this.mail.client.call('Email/queryChanges', {
        ...this.queryArgs(),
        sinceQueryState: this.queryState,
        calculateTotal: true,
      });
      if (gen !== this.generation) return;
      const upd = applyQueryChanges(this.ids, r);
      this.queryState = r.newQueryState;
      const added = r.added.map((a) => a.id).filter((id) => !this.mail.emails.has(id));
      if (added.length) await this.mail.refetchEmails(added);
      if (upd.exact) {
        this.ids = upd.ids;
        this.setVisible(this.first, this.last);
        return;
      }
      this.ids = keepOnly(upd.ids, pagesFor(this.first, this.last, upd.ids.length));
      this.generation++;
      this.inflight.clear();
      await this.loadPages(pagesFor(this.first, this.last, this.ids.length), true);
    } catch (err) {
      if (err instanceof MethodError) {
        // cannotCalculateChanges, tooManyChanges, unsupported: start over.
        this.ids = keepOnly(this.ids, pagesFor(this.first, this.last, this.ids.length));
        return this.reset();
      }
      throw err;
    }
  }
}
