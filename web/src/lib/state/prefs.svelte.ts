// Per-browser preferences, kept in localStorage.

export type Theme = 'auto' | 'light' | 'dark';

const KEY = 'freehold.prefs';

interface Stored {
  theme: Theme;
  undoSeconds: number;
  remoteImagesFrom: string[];
}

function read(): Partial<Stored> {
  try {
    return JSON.parse(localStorage.getItem(KEY) ?? '{}') as Partial<Stored>;
  } catch {
    return {};
  }
}

export class Prefs {
  theme = $state<Theme>('auto');
  /** How long "Undo" is offered after sending; the message is held that long. */
  undoSeconds = $state(10);
  /** Senders whose remote images are always shown. */
  remoteImagesFrom = $state<string[]>([]);

  constructor() {
    const s = read();
    if (s.theme === 'light' || s.theme === 'dark' || s.theme === 'auto') this.theme = s.theme;
    if (typeof s.undoSeconds === 'number' && s.undoSeconds >= 0 && s.undoSeconds <= 60) this.undoSeconds = s.undoSeconds;
    if (Array.isArray(s.remoteImagesFrom)) this.remoteImagesFrom = s.remoteImagesFrom.filter((x) => typeof x === 'string');
  }

  save(): void {
    const s: Stored = { theme: this.theme, undoSeconds: this.undoSeconds, remoteImagesFrom: this.remoteImagesFrom };
    localStorage.setItem(KEY, JSON.stringify(s));
  }

  cycleTheme(): void {
    this.theme = this.theme === 'auto' ? 'dark' : this.theme === 'dark' ? 'light' : 'auto';
    this.save();
  }

  allowRemoteFrom(sender: string): void {
    const s = sender.toLowerCase();
    if (!this.remoteImagesFrom.includes(s)) this.remoteImagesFrom = [...this.remoteImagesFrom, s];
    this.save();
  }

  remoteAllowed(sender: string | undefined): boolean {
    return sender !== undefined && this.remoteImagesFrom.includes(sender.toLowerCase());
  }
}
