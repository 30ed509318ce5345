import { describe, expect, it } from 'vitest';
import { mailboxName } from './mailboxes';

describe('mailboxName', () => {
  it('shows the IMAP INBOX as Inbox', () => {
    expect(mailboxName({ name: 'INBOX', role: 'inbox' })).toBe('Inbox');
    expect(mailboxName({ name: 'inbox', role: 'inbox' })).toBe('Inbox');
  });
  it('keeps a name the owner chose', () => {
    expect(mailboxName({ name: 'Boîte de réception', role: 'inbox' })).toBe('Boîte de réception');
    expect(mailboxName({ name: 'INBOX', role: null })).toBe('INBOX');
    expect(mailboxName({ name: 'Archive', role: 'archive' })).toBe('Archive');
  });
});
