// Local application of the patches the app sends, so views update before
// the server answers.

import type { Email } from './jmap/types';

/** Applies an RFC 8620 §5.3 PatchObject to the two properties we patch locally. */
export function applyPatch(e: Email, patch: Record<string, unknown>): Email {
  const next: Email = { ...e, keywords: { ...e.keywords }, mailboxIds: { ...e.mailboxIds } };
  for (const [path, value] of Object.entries(patch)) {
    const [prop, ...rest] = path.split('/');
    const key = rest.join('/').replaceAll('~1', '/').replaceAll('~0', '~');
    if (prop !== 'keywords' && prop !== 'mailboxIds') continue;
    if (rest.length === 0) {
      next[prop] = { ...(value as Record<string, boolean>) };
    } else if (value === null) {
      delete next[prop][key];
    } else {
      next[prop][key] = true;
    }
  }
  return next;
}

/** Moves emails out of `from` (or out of everything when null) into `to`. */
export function movePatch(emails: readonly Email[], from: string | null, to: string): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const e of emails) {
    if (from === null || !e.mailboxIds[from]) {
      // Not in the source mailbox (or no source): the email lives only in `to`.
      if (from !== null) continue;
      out[e.id] = { mailboxIds: { [to]: true } };
    } else {
      out[e.id] = { [`mailboxIds/${from}`]: null, [`mailboxIds/${to}`]: true };
    }
  }
  return out;
}
