// Settings the server acts on (urn:freehold:params:jmap:settings). The
// undo-send delay is one value for the account, whatever the browser or
// client: the server holds every submission that long before sending.
// Against a server without the capability, the delay is kept in this
// browser and the app asks for the hold itself (HOLDUNTIL).

import { assertSet, type JmapClient } from '../jmap/client';
import { CAP_SETTINGS } from '../jmap/types';
import type { Prefs } from './prefs.svelte';

/** The delays offered, in seconds; the server accepts 0 to 30. */
export const UNDO_CHOICES = [0, 5, 10, 20, 30] as const;

const SINGLETON = 'singleton';

export class Settings {
  /** True when the server keeps the settings (and holds submissions itself). */
  onServer = $state(false);
  undoSendSeconds = $state(10);
  /** The server's Settings state, for push updates. */
  state: string | undefined = undefined;

  constructor(
    private readonly client: JmapClient,
    private readonly prefs: Prefs,
  ) {}

  async load(): Promise<void> {
    if (!this.client.has(CAP_SETTINGS)) {
      this.onServer = false;
      this.undoSendSeconds = this.prefs.undoSeconds;
      return;
    }
    const r = await this.client.call('Settings/get', { ids: null });
    const s = r.list[0];
    if (s && Number.isInteger(s.undoSendSeconds)) this.undoSendSeconds = s.undoSendSeconds;
    this.state = r.state;
    this.onServer = true;
  }

  /** Changes the undo delay, on the server when it keeps it. */
  async setUndoSendSeconds(n: number): Promise<void> {
    const old = this.undoSendSeconds;
    this.undoSendSeconds = n;
    if (!this.onServer) {
      this.prefs.undoSeconds = n;
      this.prefs.save();
      return;
    }
    try {
      assertSet('Settings/set', await this.client.call('Settings/set', { update: { [SINGLETON]: { undoSendSeconds: n } } }));
    } catch (e) {
      this.undoSendSeconds = old;
      throw e;
    }
  }
}
