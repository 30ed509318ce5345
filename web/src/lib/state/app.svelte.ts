// The application root: login state, the stores, the list on screen, and
// the push channel that keeps them current.

import { connectPush } from '../jmap/push';
import { CSRF_HEADER, JmapClient } from '../jmap/client';
import { staleTypes } from '../jmap/changes';
import { UnauthorizedError } from '../jmap/errors';
import type { Email, Id, StateChange } from '../jmap/types';
import { SvelteSet } from 'svelte/reactivity';
import { sameSource, type ListSource } from '../router';
import { systemClock, type Clock } from '../schedule';
import { Composer } from './composer.svelte';
import { ListModel } from './list.svelte';
import { MailStore } from './mail.svelte';
import { Nav } from './nav.svelte';
import { Prefs } from './prefs.svelte';
import { Scheduled } from './scheduled.svelte';
import { Settings } from './settings.svelte';
import { Toasts } from './toasts.svelte';

export type Status = 'starting' | 'login' | 'ready' | 'offline';

export class App {
  status = $state<Status>('starting');
  /** Push channel state, shown discreetly in the header. */
  live = $state(false);
  readonly client = new JmapClient();
  readonly clock: Clock = systemClock;
  readonly toasts = new Toasts(() => (this.status = 'login'));
  readonly prefs = new Prefs();
  readonly nav = new Nav();
  readonly mail = new MailStore(this.client);
  readonly settings = new Settings(this.client, this.prefs);
  readonly composer = new Composer(this.mail, this.toasts, this.settings, this.clock);
  readonly scheduled = new Scheduled(this.mail, this.composer);
  list = $state.raw<ListModel | null>(null);
  /** Row ids ticked in the list (multi-select). */
  readonly selection = new SvelteSet<Id>();
  /** The newest email of the open conversation: what reply/forward answer. */
  current = $state.raw<Email | null>(null);
  helpOpen = $state(false);
  settingsOpen = $state(false);
  labelsOpen = $state(false);
  /** Emails whose thread is open; the conversation view reloads when they change. */
  conversationVersion = $state(0);
  private stopPush: (() => void) | undefined;
  private syncing: Promise<void> = Promise.resolve();

  async start(): Promise<void> {
    try {
      await this.client.loadSession();
    } catch (e) {
      this.status = e instanceof UnauthorizedError ? 'login' : 'offline';
      return;
    }
    try {
      // Both start in this tick, so their calls share one request.
      await Promise.all([this.mail.load(), this.settings.load()]);
    } catch (e) {
      if (e instanceof UnauthorizedError) {
        this.status = 'login';
        return;
      }
      this.toasts.error(e);
    }
    this.status = 'ready';
    this.stopPush = connectPush({
      url: this.client.eventSourceUrl(),
      onState: (c) => this.onStateChange(c),
      onStatus: (up) => {
        const was = this.live;
        this.live = up;
        // After a reconnect, catch up on whatever was missed meanwhile.
        if (up && !was) this.enqueueSync(['Mailbox', 'Email', 'Thread', 'EmailSubmission', 'Label', 'Settings']);
      },
    });
  }

  /** POST /login with JSON credentials; the server sets the session cookie. */
  async login(username: string, password: string): Promise<string | null> {
    let res: Response;
    try {
      res = await fetch('/login', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...CSRF_HEADER },
        credentials: 'same-origin',
        body: JSON.stringify({ username, password }),
      });
    } catch {
      return 'The server cannot be reached.';
    }
    if (res.status === 401 || res.status === 403) return 'Wrong address or password.';
    if (res.status === 429) return 'Too many attempts. Wait a moment and try again.';
    if (!res.ok) return `The server answered ${res.status}.`;
    await this.start();
    return this.status === 'ready' ? null : 'Logged in, but the mail service did not answer.';
  }

  async logout(): Promise<void> {
    this.stopPush?.();
    await fetch('/logout', { method: 'POST', headers: { ...CSRF_HEADER }, credentials: 'same-origin' }).catch(() => undefined);
    location.assign('/');
  }

  /** The list model for a source, reused while the source stays the same. */
  listFor(source: ListSource): ListModel {
    if (this.list && sameSource(this.list.source, source)) return this.list;
    const l = new ListModel(this.mail, source);
    this.list = l;
    this.selection.clear();
    void l.reset();
    return l;
  }

  private onStateChange(change: StateChange): void {
    const types = staleTypes(change, this.client.accountId, { ...this.mail.states, Settings: this.settings.state });
    if (types.length) this.enqueueSync(types);
  }

  /** Syncs run one after another so /changes never overlap. */
  private enqueueSync(types: string[]): void {
    this.syncing = this.syncing.then(() => this.sync(types)).catch((e: unknown) => {
      if (e instanceof UnauthorizedError) this.status = 'login';
    });
  }

  private async sync(types: string[]): Promise<void> {
    const t = new Set(types);
    const jobs: Promise<unknown>[] = [];
    if (t.has('Mailbox')) jobs.push(this.mail.syncMailboxes());
    if (t.has('Label')) jobs.push(this.mail.loadLabels());
    if (t.has('Settings') && this.settings.onServer) jobs.push(this.settings.load());
    const conversation: Promise<unknown>[] = [];
    if (t.has('Email')) conversation.push(this.mail.syncEmails().then(() => this.list?.refresh()));
    if (t.has('Thread')) conversation.push(this.mail.syncThreads());
    if (conversation.length) {
      // A new message changes both types: the open conversation reloads
      // once, after both, rather than once for each.
      const reload = Promise.allSettled(conversation).then((rs) => {
        if (rs.some((r) => r.status === 'fulfilled')) this.conversationVersion++;
      });
      jobs.push(...conversation, reload);
    }
    if (t.has('EmailSubmission') && this.nav.route.view === 'scheduled') jobs.push(this.scheduled.load());
    await Promise.all(jobs);
  }
}
