// What each keyboard action does in the current view.

import type { Action } from '../keyboard';
import type { Id } from '../jmap/types';
import { archive, markRead, remove, run, toggleFlag } from './actions';
import type { App } from './app.svelte';

/** The rows an action applies to: the selection, else the open thread, else the cursor row. */
export function targetRows(app: App): Id[] {
  if (app.selection.size > 0) return [...app.selection];
  const r = app.nav.route;
  const list = app.list;
  if (!list) return [];
  if (r.view === 'list' && r.threadId) {
    const row = list.ids.find((id) => id && app.mail.emails.get(id)?.threadId === r.threadId);
    if (row) return [row];
    return app.current ? [app.current.id] : [];
  }
  const id = list.ids[list.cursor];
  return id ? [id] : [];
}

export function openRow(app: App, index: number): void {
  const list = app.list;
  const id = list?.ids[index];
  const e = id ? app.mail.emails.get(id) : undefined;
  if (!list || !e) return;
  list.cursor = index;
  app.nav.go({ view: 'list', source: list.source, threadId: e.threadId });
}

function step(app: App, delta: number): void {
  const list = app.list;
  if (!list || list.total === 0) return;
  const r = app.nav.route;
  const next = Math.min(list.total - 1, Math.max(0, list.cursor + delta));
  if (r.view === 'list' && r.threadId) openRow(app, next);
  else list.cursor = next;
}

function backToList(app: App): void {
  const r = app.nav.route;
  if (r.view === 'list' && r.threadId) app.nav.go({ ...r, threadId: null });
}

export function handleAction(app: App, action: Action): void {
  const list = app.list;
  switch (action) {
    case 'next':
      return step(app, 1);
    case 'prev':
      return step(app, -1);
    case 'open':
      if (list) openRow(app, list.cursor);
      return;
    case 'back':
      return backToList(app);
    case 'archive':
    case 'delete': {
      const rows = targetRows(app);
      if (rows.length === 0) return;
      backToList(app);
      app.selection.clear();
      run(app, action === 'archive' ? archive(app, rows) : remove(app, rows));
      return;
    }
    case 'star':
      run(app, toggleFlag(app, targetRows(app)));
      return;
    case 'markRead':
    case 'markUnread':
      run(app, markRead(app, targetRows(app), action === 'markRead'));
      return;
    case 'select': {
      const id = list?.ids[list.cursor];
      if (!id) return;
      if (app.selection.has(id)) app.selection.delete(id);
      else app.selection.add(id);
      return;
    }
    case 'reply':
    case 'replyAll':
    case 'forward':
      if (app.current) app.composer.respond(action, app.current);
      return;
    case 'compose':
      app.composer.compose();
      return;
    case 'search':
      document.getElementById('search')?.focus();
      return;
    case 'help':
      app.helpOpen = true;
      return;
  }
}
