// How mailboxes are named on screen.

import type { Mailbox } from './jmap/types';

/**
 * The name shown for a mailbox. The inbox is called "INBOX" in IMAP
 * (RFC 9051 §5.1) and servers often pass that name on to JMAP; people read
 * "Inbox". Every other mailbox shows the name its owner gave it.
 */
export function mailboxName(m: Pick<Mailbox, 'name' | 'role'>): string {
  if (m.role === 'inbox' && m.name.toUpperCase() === 'INBOX') return 'Inbox';
  return m.name;
}
