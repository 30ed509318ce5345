// The Scheduled view: submissions still waiting to be sent
// (EmailSubmission/query, undoStatus "pending"), cancel and edit; and the
// messages another mail program scheduled over SMTP FUTURERELEASE
// (HeldMessage/get), which can only be cancelled.

import { draftFromEmail } from '../compose';
import { errorMessage } from '../jmap/errors';
import type { Email, EmailSubmission, HeldMessage, Id } from '../jmap/types';
import type { Composer } from './composer.svelte';
import { FULL_PROPS, type MailStore } from './mail.svelte';

export interface ScheduledItem {
  submission: EmailSubmission;
  email: Email | undefined;
}

export class Scheduled {
  items = $state.raw<ScheduledItem[]>([]);
  held = $state.raw<HeldMessage[]>([]);
  loading = $state(false);
  error = $state<string | null>(null);

  constructor(
    private readonly mail: MailStore,
    private readonly composer: Composer,
  ) {}

  async load(): Promise<void> {
    this.loading = true;
    this.error = null;
    try {
      const b = this.mail.client.batch();
      const q = b.add('EmailSubmission/query', {
        filter: { undoStatus: 'pending' },
        sort: [{ property: 'sendAt', isAscending: true }],
      });
      const s = b.add('EmailSubmission/get', { '#ids': q.ref('/ids') });
      const e = b.add('Email/get', {
        '#ids': s.ref('/list/*/emailId'),
        properties: ['id', 'subject', 'to', 'cc', 'bcc', 'preview', 'threadId', 'mailboxIds', 'keywords'],
      });
      const h = b.add('HeldMessage/get', { ids: null });
      await b.send();
      // A server without held-message listing answers unknownMethod: the
      // submissions are still worth showing.
      this.held = h.failed ? [] : h.result.list;
      this.mail.states.EmailSubmission = s.result.state;
      const emails = new Map(e.result.list.map((x) => [x.id, x]));
      this.items = s.result.list
        .filter((sub) => sub.undoStatus === 'pending')
        .map((sub) => ({ submission: sub, email: emails.get(sub.emailId) }));
    } catch (err) {
      this.error = errorMessage(err);
    } finally {
      this.loading = false;
    }
  }

  async cancel(subId: Id): Promise<void> {
    const item = this.items.find((i) => i.submission.id === subId);
    if (!item) return;
    await this.composer.cancelSubmission(subId, item.submission.emailId);
    this.items = this.items.filter((i) => i.submission.id !== subId);
  }

  /** Cancels a message held by SMTP FUTURERELEASE. */
  async cancelHeld(id: Id): Promise<void> {
    const r = await this.mail.client.call('HeldMessage/set', { destroy: [id] });
    const failed = r.notDestroyed?.[id];
    if (failed) throw new Error(failed.type === 'notFound' ? 'too late: the message has already gone' : failed.type);
    this.held = this.held.filter((m) => m.id !== id);
  }

  /** Edit = cancel, then reopen the message as a draft in the composer. */
  async edit(subId: Id): Promise<void> {
    const item = this.items.find((i) => i.submission.id === subId);
    if (!item) return;
    await this.cancel(subId);
    const r = await this.mail.client.call('Email/get', {
      ids: [item.submission.emailId],
      properties: FULL_PROPS,
      fetchTextBodyValues: true,
      fetchHTMLBodyValues: true,
    });
    const e = r.list[0];
    if (!e) throw new Error('the message is gone');
    const textPart = e.textBody[0]?.partId;
    const htmlPart = e.htmlBody.find((p) => p.type === 'text/html')?.partId;
    const text = (textPart && e.bodyValues[textPart]?.value) || '';
    const html = htmlPart ? (e.bodyValues[htmlPart]?.value ?? null) : null;
    this.composer.edit(draftFromEmail(e, text, html, item.submission.identityId));
  }
}
