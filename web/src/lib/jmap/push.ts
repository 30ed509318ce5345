// RFC 8620 §7.3: the EventSource push channel.

import type { StateChange } from './types';

export interface PushOptions {
  url: string;
  onState: (change: StateChange) => void;
  /** Called with true when connected, false when the connection dropped. */
  onStatus?: (connected: boolean) => void;
  /** Injectable for tests; defaults to the browser's EventSource. */
  eventSource?: (url: string) => EventSource;
}

/**
 * Opens the push channel and keeps it open: the browser reconnects by
 * itself after a network error, and when it gives up (readyState CLOSED,
 * e.g. after an HTTP error) we reopen with a growing delay. Returns a
 * function that closes it for good.
 */
export function connectPush(opts: PushOptions): () => void {
  const open = opts.eventSource ?? ((u: string) => new EventSource(u, { withCredentials: true }));
  let es: EventSource | undefined;
  let closed = false;
  let retry = 1000;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const start = () => {
    if (closed) return;
    es = open(opts.url);
    es.addEventListener('open', () => {
      retry = 1000;
      opts.onStatus?.(true);
    });
    es.addEventListener('state', (ev) => {
      try {
        const data = JSON.parse((ev as MessageEvent<string>).data) as StateChange;
        if (data && typeof data.changed === 'object') opts.onState(data);
      } catch {
        // A malformed event is dropped; the next one carries full states.
      }
    });
    es.addEventListener('error', () => {
      opts.onStatus?.(false);
      if (es?.readyState === 2 /* CLOSED */) {
        timer = setTimeout(start, retry);
        retry = Math.min(retry * 2, 60_000);
      }
    });
  };
  start();
  return () => {
    closed = true;
    if (timer) clearTimeout(timer);
    es?.close();
  };
}
