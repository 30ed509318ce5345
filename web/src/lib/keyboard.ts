// Keyboard shortcuts: one table maps keys to actions; the app decides what
// each action does in the current view.

export type Action =
  | 'next'
  | 'prev'
  | 'open'
  | 'back'
  | 'archive'
  | 'delete'
  | 'reply'
  | 'replyAll'
  | 'forward'
  | 'compose'
  | 'search'
  | 'star'
  | 'select'
  | 'help'
  | 'markRead'
  | 'markUnread';

export interface Shortcut {
  key: string;
  action: Action;
  description: string;
}

export const SHORTCUTS: readonly Shortcut[] = [
  { key: 'j', action: 'next', description: 'Next message' },
  { key: 'k', action: 'prev', description: 'Previous message' },
  { key: 'o', action: 'open', description: 'Open message' },
  { key: 'Enter', action: 'open', description: 'Open message' },
  { key: 'u', action: 'back', description: 'Back to the list' },
  { key: 'e', action: 'archive', description: 'Archive' },
  { key: '#', action: 'delete', description: 'Delete' },
  { key: 'r', action: 'reply', description: 'Reply' },
  { key: 'a', action: 'replyAll', description: 'Reply all' },
  { key: 'f', action: 'forward', description: 'Forward' },
  { key: 'c', action: 'compose', description: 'Compose' },
  { key: '/', action: 'search', description: 'Search' },
  { key: 's', action: 'star', description: 'Star (flag)' },
  { key: 'x', action: 'select', description: 'Select' },
  { key: 'I', action: 'markRead', description: 'Mark read' },
  { key: 'U', action: 'markUnread', description: 'Mark unread' },
  { key: '?', action: 'help', description: 'Show shortcuts' },
];

const byKey = new Map(SHORTCUTS.map((s) => [s.key, s.action]));

export interface KeyInput {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  /** The focus is in a text field, editor or other widget that takes keys. */
  inEditable: boolean;
  /** A modal dialog is open. */
  inDialog: boolean;
  /** The focus is on a button or link, which handles Enter itself. */
  onControl?: boolean;
}

/**
 * The action for a key press, or null. Shortcuts never fire while typing,
 * inside a dialog, or with Ctrl/Cmd/Alt (those belong to the browser).
 * Shift is not checked: "#", "?" and capitals already encode it.
 */
export function actionFor(e: KeyInput): Action | null {
  if (e.inEditable || e.inDialog || e.ctrlKey || e.metaKey || e.altKey) return null;
  if (e.key === 'Enter' && e.onControl) return null;
  return byKey.get(e.key) ?? null;
}

/** Whether an element takes typed keys itself. */
export function isEditable(el: Element | null): boolean {
  if (!el) return false;
  const tag = el.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') {
    const type = (el as HTMLInputElement).type;
    return !['checkbox', 'radio', 'button', 'submit', 'reset'].includes(type);
  }
  return (el as HTMLElement).isContentEditable === true;
}

/** Whether an element handles Enter itself (buttons, links, summaries). */
export function isControl(el: Element | null): boolean {
  if (!el) return false;
  return ['BUTTON', 'A', 'SUMMARY'].includes(el.tagName) || el.getAttribute('role') === 'button';
}
