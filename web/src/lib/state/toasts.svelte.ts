import { errorMessage, UnauthorizedError } from '../jmap/errors';

// Short messages shown at the bottom of the screen and read out by screen
// readers (the container is an aria-live region).

export interface Toast {
  id: number;
  text: string;
  action?: { label: string; run: () => void | Promise<void> };
  /** Milliseconds before it goes away on its own. */
  timeout: number;
}

export class Toasts {
  list = $state<Toast[]>([]);
  private seq = 0;

  /** Called instead of showing an error when the session has expired. */
  constructor(private readonly onUnauthorized: () => void = () => undefined) {}

  show(text: string, opts: { action?: Toast['action']; timeout?: number } = {}): number {
    const id = ++this.seq;
    const t: Toast = { id, text, timeout: opts.timeout ?? 5000 };
    if (opts.action) t.action = opts.action;
    this.list = [...this.list, t];
    setTimeout(() => this.dismiss(id), t.timeout);
    return id;
  }

  error(e: unknown): void {
    if (e instanceof UnauthorizedError) {
      this.onUnauthorized();
      return;
    }
    const msg = errorMessage(e);
    this.show(`Something went wrong: ${msg}`, { timeout: 8000 });
  }

  dismiss(id: number): void {
    this.list = this.list.filter((t) => t.id !== id);
  }
}
