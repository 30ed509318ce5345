// The open draft: autosave to Drafts, send now (held for the undo delay)
// or later (RFC 8621 §7 EmailSubmission with HOLDUNTIL), and undo.

import { allRecipients, draftEmail, emptyDraft, isEmptyDraft, replyDraft, type Draft } from '../compose';
import { SetFailedError } from '../jmap/errors';
import type { Email, EmailAddress, Id, Identity } from '../jmap/types';
import { formatWhen, holdFor, onSuccessPatch, reopenAsDraftPatch, submissionCreate, undoWindow, type Clock } from '../schedule';
import type { MailStore } from './mail.svelte';
import type { Settings } from './settings.svelte';
import type { Toasts } from './toasts.svelte';

const AUTOSAVE_MS = 2000;

export class Composer {
  open = $state(false);
  draft = $state<Draft>(emptyDraft(null));
  saving = $state(false);
  sending = $state(false);
  savedAt = $state<Date | null>(null);
  /** Bumped when a new draft is loaded, so the editor reinitialises. */
  generation = $state(0);
  private dirty = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private saveChain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly mail: MailStore,
    private readonly toasts: Toasts,
    private readonly settings: Settings,
    private readonly clock: Clock,
  ) {}

  get identity(): Identity | null {
    return this.mail.identities.find((i) => i.id === this.draft.identityId) ?? this.mail.identities[0] ?? null;
  }

  private from(): EmailAddress {
    const i = this.identity;
    return i ? { name: i.name || null, email: i.email } : { name: null, email: this.mail.client.session.username };
  }

  private load(d: Draft): void {
    clearTimeout(this.timer);
    this.draft = d;
    this.dirty = false;
    this.savedAt = null;
    this.generation++;
    this.open = true;
  }

  compose(): void {
    this.load(emptyDraft(this.mail.identities[0] ?? null));
  }

  respond(mode: 'reply' | 'replyAll' | 'forward', original: Email): void {
    const part = original.textBody?.[0]?.partId;
    const originalText = (part && original.bodyValues?.[part]?.value) || original.preview || '';
    // Answer from the identity the message was sent to, when there is one.
    const addressed = new Set([...(original.to ?? []), ...(original.cc ?? [])].map((a) => a.email.toLowerCase()));
    const identity = this.mail.identities.find((i) => addressed.has(i.email.toLowerCase())) ?? this.mail.identities[0] ?? null;
    this.load(replyDraft(mode, { original, originalText, myAddresses: this.mail.myAddresses, identity }));
  }

  edit(d: Draft): void {
    this.load(d);
  }

  /** Called by the form on every edit. */
  changed(): void {
    this.dirty = true;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.save().catch((e: unknown) => this.toasts.error(e)), AUTOSAVE_MS);
  }

  private draftsId(): Id {
    const d = this.mail.byRole('drafts');
    if (!d) throw new Error('there is no Drafts folder');
    return d.id;
  }

  /**
   * Saves the draft. Emails are immutable (RFC 8621 §4.6), so a save
   * creates a new draft and destroys the previous one in the same request.
   * Saves are serialised so that two never race on the same old draft.
   */
  save(): Promise<Id | null> {
    const run = async (): Promise<Id | null> => {
      clearTimeout(this.timer);
      if (!this.dirty) return this.draft.draftId;
      if (isEmptyDraft(this.draft) && !this.draft.draftId) return null;
      this.dirty = false;
      this.saving = true;
      try {
        const old = this.draft.draftId;
        const r = await this.mail.client.call('Email/set', {
          create: { draft: draftEmail($state.snapshot(this.draft) as Draft, this.from(), this.draftsId()) },
          ...(old ? { destroy: [old] } : {}),
        });
        const id = r.created?.['draft']?.id;
        if (!id) {
          this.dirty = true;
          throw new SetFailedError('Email/set', r.notCreated ?? {});
        }
        this.draft.draftId = id;
        this.savedAt = this.clock.now();
        return id;
      } finally {
        this.saving = false;
      }
    };
    const p = this.saveChain.then(run, run);
    this.saveChain = p.catch(() => undefined);
    return p;
  }

  /** Closes the composer, keeping what was typed as a draft. */
  async close(): Promise<void> {
    try {
      await this.save();
    } catch (e) {
      this.toasts.error(e);
      return;
    }
    this.open = false;
  }

  async discard(): Promise<void> {
    clearTimeout(this.timer);
    const id = this.draft.draftId;
    this.dirty = false;
    this.open = false;
    if (id) await this.mail.destroyEmails([id]).catch((e: unknown) => this.toasts.error(e));
  }

  /**
   * Sends the draft. With sendAt the message waits on the server until
   * then; without, it still waits for the undo delay so "Undo" can cancel.
   */
  async send(sendAt: Date | null): Promise<void> {
    const d = this.draft;
    if (allRecipients(d).length === 0) {
      this.toasts.show('Add at least one recipient.');
      return;
    }
    const identity = this.identity;
    if (!identity) {
      this.toasts.show('This account has no identity to send from.');
      return;
    }
    this.sending = true;
    try {
      if (!d.draftId) this.dirty = true;
      const emailId = await this.save();
      if (!emailId) throw new Error('the draft could not be saved');
      const s = this.settings;
      const hold = holdFor(sendAt, { serverHolds: s.onServer, undoSeconds: s.undoSendSeconds }, this.clock);
      const sent = this.mail.byRole('sent');
      const r = await this.mail.client.call('EmailSubmission/set', {
        create: {
          send: submissionCreate({ identityId: identity.id, emailId, from: identity.email, recipients: allRecipients(d), sendAt: hold }),
        },
        onSuccessUpdateEmail: { '#send': onSuccessPatch(this.draftsId(), sent?.id) },
      });
      const created = r.created?.['send'];
      const subId = created?.id;
      if (!subId) throw new SetFailedError('EmailSubmission/set', r.notCreated ?? {});
      const kept = $state.snapshot(d) as Draft;
      this.open = false;
      const text = sendAt ? `Scheduled for ${formatWhen(sendAt, this.clock)}` : 'Sent';
      const window = undoWindow(created, hold, this.clock);
      const action = { label: 'Undo', run: () => this.undo(subId, emailId, kept) };
      if (window === null) this.toasts.show(text, { timeout: 3000 });
      else this.toasts.show(text, { timeout: sendAt ? 8000 : window, action });
    } catch (e) {
      this.toasts.error(e);
    } finally {
      this.sending = false;
    }
  }

  /** Cancels a pending submission and puts the message back into Drafts. */
  async cancelSubmission(subId: Id, emailId: Id): Promise<void> {
    const b = this.mail.client.batch();
    const s = b.add('EmailSubmission/set', { update: { [subId]: { undoStatus: 'canceled' } } });
    b.add('Email/set', { update: { [emailId]: reopenAsDraftPatch(this.draftsId()) } });
    await b.send();
    const failed = s.result.notUpdated?.[subId];
    if (failed) throw new Error(failed.type === 'cannotUnsend' ? 'too late: the message has already gone' : failed.type);
  }

  private async undo(subId: Id, emailId: Id, kept: Draft): Promise<void> {
    try {
      await this.cancelSubmission(subId, emailId);
      this.load({ ...kept, draftId: emailId });
      this.toasts.show('Sending undone: the message is back in Drafts.');
    } catch (e) {
      this.toasts.error(e);
    }
  }
}
