package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"freehold/internal/store"
)

const inbox = "INBOX"

// maxMailboxName bounds a mailbox's full name, in bytes.
const maxMailboxName = 1000

// canonicalMailboxName validates a mailbox name and spells INBOX, as a
// whole name or as the first component, in capitals (RFC 9051 §5.1).
func canonicalMailboxName(name string) (string, error) {
	if name == "" || len(name) > maxMailboxName || !utf8.ValidString(name) {
		return "", invalid("mailbox name %q", name)
	}
	parts := strings.Split(name, store.HierarchySeparator)
	for _, p := range parts {
		if p == "" {
			return "", invalid("mailbox name %q has an empty component", name)
		}
	}
	for _, r := range name {
		// '*' and '%' are IMAP LIST wildcards; a name holding them
		// could not be listed on its own.
		if r < 0x20 || r == 0x7f || r == '*' || r == '%' {
			return "", invalid("mailbox name %q has a forbidden character", name)
		}
	}
	if strings.EqualFold(parts[0], inbox) {
		parts[0] = inbox
	}
	return strings.Join(parts, store.HierarchySeparator), nil
}

func parentName(name string) (string, bool) {
	i := strings.LastIndex(name, store.HierarchySeparator)
	if i < 0 {
		return "", false
	}
	return name[:i], true
}

func validSpecialUse(u string) bool {
	switch u {
	case store.UseNone, store.UseSent, store.UseDrafts, store.UseJunk, store.UseTrash,
		store.UseArchive, store.UseAll, store.UseFlagged:
		return true
	}
	return false
}

const mailboxCols = "id, account_id, name, special_use, uid_validity, uid_next, subscribed, modseq"

func scanMailbox(sc scanner) (store.Mailbox, error) {
	var m store.Mailbox
	var sub int64
	err := sc.Scan(&m.ID, &m.AccountID, &m.Name, &m.SpecialUse, &m.UIDValidity, &m.UIDNext, &sub, &m.ModSeq)
	m.Subscribed = sub != 0
	return m, err
}

// scanMailboxes reads every row of a mailboxCols query, closing rows.
func scanMailboxes(rows *sql.Rows, err error) ([]store.Mailbox, error) {
	return collect(nil, rows, err, scanMailbox)
}

func mailboxByID(ctx context.Context, r runner, acct store.AccountID, id store.MailboxID) (store.Mailbox, error) {
	m, err := scanMailbox(r.queryRow(ctx, "SELECT "+mailboxCols+" FROM mailboxes WHERE id = ? AND account_id = ?", id, acct))
	if errors.Is(err, sql.ErrNoRows) {
		return m, notFound("mailbox %d", id)
	}
	return m, err
}

func mailboxByName(ctx context.Context, r runner, acct store.AccountID, name string) (store.Mailbox, error) {
	m, err := scanMailbox(r.queryRow(ctx, "SELECT "+mailboxCols+" FROM mailboxes WHERE account_id = ? AND name = ?", acct, name))
	if errors.Is(err, sql.ErrNoRows) {
		return m, notFound("mailbox %q", name)
	}
	return m, err
}

// Mailboxes implements store.Mailbox, in creation order.
func (s *Store) Mailboxes(ctx context.Context, acct store.AccountID) ([]store.Mailbox, error) {
	return scanMailboxes(s.read().query(ctx, "SELECT "+mailboxCols+" FROM mailboxes WHERE account_id = ? ORDER BY id", acct))
}

// Mailbox implements store.Mail.
func (s *Store) Mailbox(ctx context.Context, acct store.AccountID, id store.MailboxID) (store.Mailbox, error) {
	return mailboxByID(ctx, s.read(), acct, id)
}

// MailboxByName implements store.Mail.
func (s *Store) MailboxByName(ctx context.Context, acct store.AccountID, name string) (store.Mailbox, error) {
	n, err := canonicalMailboxName(name)
	if err != nil {
		return store.Mailbox{}, notFound("mailbox %q", name)
	}
	return mailboxByName(ctx, s.read(), acct, n)
}

// MailboxStatus implements store.Mail.
func (s *Store) MailboxStatus(ctx context.Context, acct store.AccountID, id store.MailboxID) (store.MailboxStatus, error) {
	var st store.MailboxStatus
	err := s.readTx(ctx, func(r runner) error {
		var hi int64
		row := r.queryRow(ctx, "SELECT "+mailboxCols+", highest_modseq FROM mailboxes WHERE id = ? AND account_id = ?", id, acct)
		var err error
		// highest_modseq follows mailboxCols; scanMailbox reads the rest.
		st.Mailbox, err = scanMailbox(scanFunc(func(dest ...any) error { return row.Scan(append(dest, &hi)...) }))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("mailbox %d", id)
		} else if err != nil {
			return err
		}
		st.HighestModSeq = store.ModSeq(hi)
		return r.queryRow(ctx, `SELECT COUNT(*), CAST(COALESCE(SUM(1 - seen), 0) AS BIGINT),
			CAST(COALESCE(SUM(deleted), 0) AS BIGINT), CAST(COALESCE(SUM(size), 0) AS BIGINT)
			FROM mailbox_messages WHERE mailbox_id = ?`, id).Scan(&st.Messages, &st.Unseen, &st.Deleted, &st.Size)
	})
	return st, err
}

// CreateMailbox implements store.Mail.
func (s *Store) CreateMailbox(ctx context.Context, acct store.AccountID, nm store.NewMailbox) (store.Mailbox, error) {
	name, err := canonicalMailboxName(nm.Name)
	if err != nil {
		return store.Mailbox{}, err
	}
	if !validSpecialUse(nm.SpecialUse) {
		return store.Mailbox{}, invalid("special use %q", nm.SpecialUse)
	}
	var m store.Mailbox
	err = s.writeAccount(ctx, acct, func(w *wtx) error {
		if parent, ok := parentName(name); ok {
			if _, err := mailboxByName(w.ctx, w.r, acct, parent); err != nil {
				return err
			}
		}
		m, err = w.createMailbox(acct, name, nm.SpecialUse)
		return err
	})
	return m, err
}

// createMailbox inserts a mailbox whose name is canonical and whose parent
// exists, with a UIDVALIDITY never used before in the account.
func (w *wtx) createMailbox(acct store.AccountID, name, use string) (store.Mailbox, error) {
	if _, err := mailboxByName(w.ctx, w.r, acct, name); err == nil {
		return store.Mailbox{}, errorsExists("mailbox " + name)
	} else if !errors.Is(err, store.ErrNotFound) {
		return store.Mailbox{}, err
	}
	modseq, err := w.modseq(acct)
	if err != nil {
		return store.Mailbox{}, err
	}
	// UIDVALIDITY follows the clock in seconds, and is always above the
	// account's last one, so a mailbox deleted and created again (or
	// several created in one second) never reuses a value (RFC 9051
	// §2.3.1.1).
	var last int64
	if err := w.queryRow("SELECT last_uidvalidity FROM accounts WHERE id = ?", acct).Scan(&last); err != nil {
		return store.Mailbox{}, err
	}
	v := max(w.now.Unix(), last+1)
	if v > 1<<32-1 {
		v = last + 1
	}
	if _, err := w.exec("UPDATE accounts SET last_uidvalidity = ? WHERE id = ?", v, acct); err != nil {
		return store.Mailbox{}, err
	}
	m := store.Mailbox{AccountID: acct, Name: name, SpecialUse: use, UIDValidity: uint32(v), UIDNext: 1, Subscribed: true, ModSeq: modseq}
	err = w.queryRow(`INSERT INTO mailboxes (account_id, name, special_use, uid_validity, uid_next, subscribed, modseq, highest_modseq)
		VALUES (?, ?, ?, ?, 1, 1, ?, ?) RETURNING id`, acct, name, use, v, modseq, modseq).Scan(&m.ID)
	if err != nil {
		return store.Mailbox{}, w.s.uniqueErr(err, "mailbox "+name)
	}
	return m, w.logChange(acct, store.Change{Kind: store.ChangeMailbox, Op: store.OpCreated, ID: int64(m.ID)})
}

func errorsExists(what string) error { return fmt.Errorf("%s: %w", what, store.ErrExists) }

// SetSubscribed implements store.Mail.
func (s *Store) SetSubscribed(ctx context.Context, acct store.AccountID, id store.MailboxID, subscribed bool) error {
	return s.writeAccount(ctx, acct, func(w *wtx) error {
		if _, err := mailboxByID(w.ctx, w.r, acct, id); err != nil {
			return err
		}
		return w.touchMailbox(acct, id, "subscribed = ?", b2i(subscribed))
	})
}

// touchMailbox updates a mailbox record (set is "col = ?, ...") and logs it.
func (w *wtx) touchMailbox(acct store.AccountID, id store.MailboxID, set string, args ...any) error {
	modseq, err := w.modseq(acct)
	if err != nil {
		return err
	}
	args = append(args, modseq, id)
	if _, err := w.exec("UPDATE mailboxes SET "+set+", modseq = ? WHERE id = ?", args...); err != nil {
		return err
	}
	return w.logChange(acct, store.Change{Kind: store.ChangeMailbox, Op: store.OpUpdated, ID: int64(id)})
}

// children returns the mailboxes below name.
func (w *wtx) children(acct store.AccountID, name string) ([]store.Mailbox, error) {
	prefix := name + store.HierarchySeparator
	return scanMailboxes(w.query("SELECT "+mailboxCols+" FROM mailboxes WHERE account_id = ? AND substr(name, 1, ?) = ? ORDER BY id",
		acct, utf8.RuneCountInString(prefix), prefix))
}

// RenameMailbox implements store.Mail.
func (s *Store) RenameMailbox(ctx context.Context, acct store.AccountID, id store.MailboxID, newName string) error {
	name, err := canonicalMailboxName(newName)
	if err != nil {
		return err
	}
	return s.writeAccount(ctx, acct, func(w *wtx) error {
		m, err := mailboxByID(w.ctx, w.r, acct, id)
		if err != nil {
			return err
		}
		if name == m.Name {
			return nil
		}
		if strings.HasPrefix(name, m.Name+store.HierarchySeparator) {
			return invalid("cannot move mailbox %q under itself", m.Name)
		}
		if _, err := mailboxByName(w.ctx, w.r, acct, name); err == nil {
			return errorsExists("mailbox " + name)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if parent, ok := parentName(name); ok {
			if _, err := mailboxByName(w.ctx, w.r, acct, parent); err != nil {
				return err
			}
		}
		if m.Name == inbox {
			return w.renameInbox(acct, m, name)
		}
		kids, err := w.children(acct, m.Name)
		if err != nil {
			return err
		}
		if err := w.touchMailbox(acct, m.ID, "name = ?", name); err != nil {
			return err
		}
		for _, k := range kids {
			kn := name + strings.TrimPrefix(k.Name, m.Name)
			if err := w.touchMailbox(acct, k.ID, "name = ?", kn); err != nil {
				return err
			}
		}
		return nil
	})
}

// renameInbox creates newName and moves INBOX's messages into it, keeping
// their UIDs (the new mailbox has its own UIDVALIDITY); INBOX stays, empty,
// with its children (RFC 9051 §6.3.6).
func (w *wtx) renameInbox(acct store.AccountID, in store.Mailbox, newName string) error {
	nm, err := w.createMailbox(acct, newName, store.UseNone)
	if err != nil {
		return err
	}
	modseq, err := w.modseq(acct)
	if err != nil {
		return err
	}
	entries, err := w.entryRefs(in.ID, nil)
	if err != nil {
		return err
	}
	if _, err := w.exec("UPDATE mailbox_messages SET mailbox_id = ?, modseq = ? WHERE mailbox_id = ?", nm.ID, modseq, in.ID); err != nil {
		return err
	}
	for _, e := range entries {
		if err := w.logChange(acct, store.Change{Kind: store.ChangeEntry, Op: store.OpDestroyed, ID: int64(e.msg), Mailbox: in.ID, UID: e.uid}); err != nil {
			return err
		}
		if err := w.logChange(acct, store.Change{Kind: store.ChangeEntry, Op: store.OpCreated, ID: int64(e.msg), Mailbox: nm.ID, UID: e.uid}); err != nil {
			return err
		}
		if err := w.messageUpdated(acct, e.msg); err != nil {
			return err
		}
	}
	if _, err := w.exec("UPDATE mailboxes SET uid_next = ?, highest_modseq = ? WHERE id = ?", int64(in.UIDNext), modseq, nm.ID); err != nil {
		return err
	}
	return w.contentsChanged(acct, in.ID)
}

// DeleteMailbox implements store.Mail.
func (s *Store) DeleteMailbox(ctx context.Context, acct store.AccountID, id store.MailboxID) error {
	return s.writeAccount(ctx, acct, func(w *wtx) error {
		m, err := mailboxByID(w.ctx, w.r, acct, id)
		if err != nil {
			return err
		}
		if m.Name == inbox {
			return invalid("INBOX cannot be deleted")
		}
		kids, err := w.children(acct, m.Name)
		if err != nil {
			return err
		}
		if len(kids) > 0 {
			return invalid("mailbox %q has children", m.Name)
		}
		entries, err := w.entryRefs(m.ID, nil)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := w.removeEntry(acct, m.ID, e); err != nil {
				return err
			}
		}
		if _, err := w.exec("DELETE FROM mailboxes WHERE id = ?", m.ID); err != nil {
			return err
		}
		return w.logChange(acct, store.Change{Kind: store.ChangeMailbox, Op: store.OpDestroyed, ID: int64(m.ID)})
	})
}
