package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"freehold/internal/store"
)

// Deliver implements store.Mail. It is atomic: if one target fails (an
// unknown account, or quota exceeded), nothing is stored and the error is a
// *store.DeliveryError naming that target's account.
func (s *Store) Deliver(ctx context.Context, d store.Delivery) ([]store.Delivered, error) {
	if len(d.Targets) == 0 && d.Outbound == nil {
		return nil, invalid("delivery without target")
	}
	if len(d.Targets) > 0 && d.Message.BlobID == "" {
		return nil, invalid("delivery without blob")
	}
	// Lock the accounts in id order, so that concurrent deliveries to
	// the same accounts in other orders cannot deadlock (PostgreSQL).
	accts := make([]store.AccountID, len(d.Targets))
	for i, t := range d.Targets {
		accts[i] = t.Account
	}
	slices.Sort(accts)
	var out []store.Delivered
	err := s.write(ctx, func(w *wtx) error {
		out = out[:0]
		if err := w.putBlobs(d.Blobs); err != nil {
			return err
		}
		for _, a := range accts {
			if err := w.lockAccount(a); err != nil {
				return &store.DeliveryError{Account: a, Err: err}
			}
		}
		for _, t := range d.Targets {
			del, err := w.deliverOne(d.Message, t)
			if err != nil {
				return &store.DeliveryError{Account: t.Account, Err: err}
			}
			out = append(out, del)
		}
		if d.Outbound != nil {
			if _, err := w.enqueue(*d.Outbound); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (w *wtx) deliverOne(m store.NewMessage, t store.DeliveryTarget) (store.Delivered, error) {
	mb, err := w.targetMailbox(t.Account, t.Mailbox)
	if err != nil {
		return store.Delivered{}, err
	}
	kw := store.NormalizeKeywords(append(append([]string(nil), m.Keywords...), t.Keywords...))
	id, err := w.insertMessage(t.Account, m, kw)
	if err != nil {
		return store.Delivered{}, err
	}
	uid, err := w.addEntry(t.Account, mb, id, m.Size, kw)
	if err != nil {
		return store.Delivered{}, err
	}
	return store.Delivered{Account: t.Account, Message: id, Mailbox: mb, UID: uid}, nil
}

// targetMailbox resolves a delivery's mailbox name; an empty, invalid or
// unknown name means INBOX.
func (w *wtx) targetMailbox(acct store.AccountID, name string) (store.MailboxID, error) {
	if n, err := canonicalMailboxName(name); err == nil && name != "" {
		m, err := mailboxByName(w.ctx, w.r, acct, n)
		if err == nil {
			return m.ID, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return 0, err
		}
	}
	m, err := mailboxByName(w.ctx, w.r, acct, inbox)
	if errors.Is(err, store.ErrNotFound) {
		// Every account has an INBOX; none means no account.
		return 0, notFound("account %d", acct)
	}
	return m.ID, err
}

// Append implements store.Mail.
func (s *Store) Append(ctx context.Context, acct store.AccountID, mailbox store.MailboxID, m store.NewMessage) (store.MailboxEntry, error) {
	if m.BlobID == "" {
		return store.MailboxEntry{}, invalid("message without blob")
	}
	var e store.MailboxEntry
	err := s.writeAccount(ctx, acct, func(w *wtx) error {
		if _, err := mailboxByID(w.ctx, w.r, acct, mailbox); err != nil {
			return err
		}
		kw := store.NormalizeKeywords(m.Keywords)
		id, err := w.insertMessage(acct, m, kw)
		if err != nil {
			return err
		}
		uid, err := w.addEntry(acct, mailbox, id, m.Size, kw)
		if err != nil {
			return err
		}
		e = store.MailboxEntry{UID: uid, MessageID: id, ModSeq: w.modseqs[acct], Keywords: kw, Size: m.Size,
			ReceivedAt: fromNanos(nanos(m.ReceivedAt))}
		return nil
	})
	return e, err
}

// charge adds count messages of bytes to the account's usage counters,
// and fails with ErrQuotaExceeded when that takes it over its quota (the
// failing request is rolled back, counters included). It takes the
// request's ModSeq for the account in the same statement when it has not
// been taken yet: a delivery's hot path.
func (w *wtx) charge(acct store.AccountID, count, bytes int64) error {
	var quota, used int64
	var err error
	if _, ok := w.modseqs[acct]; ok {
		err = w.queryRow("UPDATE accounts SET msg_count = msg_count + ?, msg_bytes = msg_bytes + ? WHERE id = ? RETURNING quota_bytes, msg_bytes",
			count, bytes, acct).Scan(&quota, &used)
	} else {
		var m store.ModSeq
		err = w.queryRow(`UPDATE accounts SET highest_modseq = highest_modseq + 1, msg_count = msg_count + ?, msg_bytes = msg_bytes + ?
			WHERE id = ? RETURNING highest_modseq, quota_bytes, msg_bytes`, count, bytes, acct).Scan(&m, &quota, &used)
		if err == nil {
			w.modseqs[acct] = m
		}
	}
	if errors.Is(err, sql.ErrNoRows) {
		return notFound("account %d", acct)
	}
	if err != nil {
		return err
	}
	if bytes > 0 && quota > 0 && used > quota {
		return fmt.Errorf("account %d would use %d of %d bytes: %w", acct, used, quota, store.ErrQuotaExceeded)
	}
	return nil
}

// insertMessage stores a message row in its thread and counts it in the
// account's usage. The caller adds it to a mailbox.
func (w *wtx) insertMessage(acct store.AccountID, m store.NewMessage, kw []string) (store.MessageID, error) {
	if err := w.charge(acct, 1, m.Size); err != nil {
		return 0, err
	}
	modseq := w.modseqs[acct]
	thread, err := w.assignThread(acct, m.Envelope)
	if err != nil {
		return 0, err
	}
	env := m.Envelope
	var id store.MessageID
	err = w.queryRow(`INSERT INTO messages (account_id, thread_id, blob_id, size, received_at, keywords,
		date, subject, from_addr, sender, reply_to, to_addr, cc, bcc, message_id, in_reply_to, refs,
		preview, has_attachment, modseq)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		acct, thread, m.BlobID, m.Size, nanos(m.ReceivedAt), jsonText(nonNil(kw)),
		nanos(env.Date), env.Subject, jsonText(nonNil(env.From)), jsonText(nonNil(env.Sender)),
		jsonText(nonNil(env.ReplyTo)), jsonText(nonNil(env.To)), jsonText(nonNil(env.Cc)), jsonText(nonNil(env.Bcc)),
		env.MessageID, jsonText(nonNil(env.InReplyTo)), jsonText(nonNil(env.References)),
		m.Preview, b2i(m.HasAttachment), modseq).Scan(&id)
	if err != nil {
		return 0, err
	}
	return id, w.logChange(acct, store.Change{Kind: store.ChangeEmail, Op: store.OpCreated, ID: int64(id)})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Threading limits: how many References are considered, and the longest
// Message-ID kept.
const (
	maxThreadRefs  = 20
	maxMsgIDLength = 250
)

// threadKeys returns the Message-IDs that place a message in a thread:
// its own, its In-Reply-To and its last References.
func threadKeys(env store.Envelope) []string {
	var keys []string
	add := func(id string) {
		id = strings.TrimSpace(strings.Trim(strings.TrimSpace(id), "<>"))
		if id == "" || len(id) > maxMsgIDLength {
			return
		}
		for _, k := range keys {
			if k == id {
				return
			}
		}
		keys = append(keys, id)
	}
	add(env.MessageID)
	for _, id := range env.InReplyTo {
		add(id)
	}
	refs := env.References
	if len(refs) > maxThreadRefs {
		refs = refs[len(refs)-maxThreadRefs:]
	}
	for _, id := range refs {
		add(id)
	}
	return keys
}

// assignThread places a new message: in the thread of a message whose
// Message-ID it references, or which references its Message-ID, or which
// shares a reference with it; else in a new thread. When several threads
// match, the oldest wins. Threads are never merged afterwards: a message
// that arrives late and links two existing threads joins the oldest and
// leaves the other as it is.
func (w *wtx) assignThread(acct store.AccountID, env store.Envelope) (store.ThreadID, error) {
	var args []any // the thread keys, padded: one statement shape per power of two
	if keys := threadKeys(env); len(keys) > 0 {
		args = padded(keys)
	}
	var found sql.NullInt64
	if len(args) > 0 {
		err := w.queryRow("SELECT MIN(thread_id) FROM message_refs WHERE account_id = ? AND msgid IN ("+placeholders(len(args))+")",
			append([]any{acct}, args...)...).Scan(&found)
		if err != nil {
			return 0, err
		}
	}
	var tid store.ThreadID
	if found.Valid {
		tid = store.ThreadID(found.Int64)
		if err := w.logChange(acct, store.Change{Kind: store.ChangeThread, Op: store.OpUpdated, ID: int64(tid)}); err != nil {
			return 0, err
		}
	} else {
		if err := w.queryRow("INSERT INTO threads (account_id) VALUES (?) RETURNING id", acct).Scan(&tid); err != nil {
			return 0, err
		}
		if err := w.logChange(acct, store.Change{Kind: store.ChangeThread, Op: store.OpCreated, ID: int64(tid)}); err != nil {
			return 0, err
		}
	}
	if len(args) == 0 {
		return tid, nil
	}
	// One statement for all keys; padding repeats a key, which the
	// conflict clause absorbs.
	rows := make([]any, 0, 3*len(args))
	for _, k := range args {
		rows = append(rows, acct, k, tid)
	}
	_, err := w.exec("INSERT INTO message_refs (account_id, msgid, thread_id) VALUES "+
		strings.TrimSuffix(strings.Repeat("(?, ?, ?), ", len(args)), ", ")+" ON CONFLICT DO NOTHING", rows...)
	return tid, err
}

// addEntry puts a message in a mailbox under the mailbox's next UID.
func (w *wtx) addEntry(acct store.AccountID, mailbox store.MailboxID, msg store.MessageID, size int64, kw []string) (store.UID, error) {
	modseq, err := w.modseq(acct)
	if err != nil {
		return 0, err
	}
	var uid int64
	if err := w.queryRow("UPDATE mailboxes SET uid_next = uid_next + 1, highest_modseq = ? WHERE id = ? RETURNING uid_next - 1", modseq, mailbox).Scan(&uid); err != nil {
		return 0, err
	}
	if uid >= 1<<32-1 {
		return 0, invalid("mailbox %d has used all UIDs", mailbox)
	}
	_, err = w.exec("INSERT INTO mailbox_messages (mailbox_id, uid, message_id, modseq, seen, deleted, size) VALUES (?, ?, ?, ?, ?, ?, ?)",
		mailbox, uid, msg, modseq, b2i(hasKeyword(kw, store.KeywordSeen)), b2i(hasKeyword(kw, store.KeywordDeleted)), size)
	if err != nil {
		return 0, err
	}
	if err := w.logChange(acct, store.Change{Kind: store.ChangeEntry, Op: store.OpCreated, ID: int64(msg), Mailbox: mailbox, UID: store.UID(uid)}); err != nil {
		return 0, err
	}
	// HIGHESTMODSEQ was set above; only the change remains to be noted.
	k := noteKey{kind: 0, id: int64(mailbox)}
	if _, ok := w.noted[k]; ok {
		return store.UID(uid), nil
	}
	w.noted[k] = struct{}{}
	return store.UID(uid), w.logChange(acct, store.Change{Kind: store.ChangeMailbox, Op: store.OpUpdated, ID: int64(mailbox)})
}

// contentsChanged records that a mailbox's entries changed: its
// HIGHESTMODSEQ moves, and its counts (JMAP Mailbox) may have changed.
func (w *wtx) contentsChanged(acct store.AccountID, mailbox store.MailboxID) error {
	k := noteKey{kind: 0, id: int64(mailbox)} // kind 0: contents, not the record
	if _, ok := w.noted[k]; ok {
		return nil
	}
	w.noted[k] = struct{}{}
	modseq, err := w.modseq(acct)
	if err != nil {
		return err
	}
	if _, err := w.exec("UPDATE mailboxes SET highest_modseq = ? WHERE id = ?", modseq, mailbox); err != nil {
		return err
	}
	return w.logChange(acct, store.Change{Kind: store.ChangeMailbox, Op: store.OpUpdated, ID: int64(mailbox)})
}

// entryRef names one entry of a mailbox.
type entryRef struct {
	uid store.UID
	msg store.MessageID
}

// scanEntryRef reads a (uid, message_id) row.
func scanEntryRef(sc scanner) (entryRef, error) {
	var e entryRef
	err := sc.Scan(&e.uid, &e.msg)
	return e, err
}

// entryRefs returns the entries of a mailbox with the given UIDs (all of
// them when uids is nil), in UID order.
func (w *wtx) entryRefs(mailbox store.MailboxID, uids []store.UID) ([]entryRef, error) {
	var out []entryRef
	scan := func(rows *sql.Rows, err error) error {
		out, err = collect(out, rows, err, scanEntryRef)
		return err
	}
	if uids == nil {
		err := scan(w.query("SELECT uid, message_id FROM mailbox_messages WHERE mailbox_id = ? ORDER BY uid", mailbox))
		return out, err
	}
	err := chunks(sortedUIDs(uids), func(c []store.UID) error {
		args := padded(c)
		return scan(w.query("SELECT uid, message_id FROM mailbox_messages WHERE mailbox_id = ? AND uid IN ("+placeholders(len(args))+") ORDER BY uid",
			append([]any{mailbox}, args...)...))
	})
	return out, err
}

// removeEntry takes a message out of a mailbox, and destroys the message
// when it was in no other mailbox.
func (w *wtx) removeEntry(acct store.AccountID, mailbox store.MailboxID, e entryRef) error {
	if _, err := w.exec("DELETE FROM mailbox_messages WHERE mailbox_id = ? AND uid = ?", mailbox, e.uid); err != nil {
		return err
	}
	if err := w.logChange(acct, store.Change{Kind: store.ChangeEntry, Op: store.OpDestroyed, ID: int64(e.msg), Mailbox: mailbox, UID: e.uid}); err != nil {
		return err
	}
	if err := w.contentsChanged(acct, mailbox); err != nil {
		return err
	}
	var one int
	err := w.queryRow("SELECT 1 FROM mailbox_messages WHERE message_id = ? LIMIT 1", e.msg).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return w.destroyMessage(acct, e.msg)
	}
	if err != nil {
		return err
	}
	return w.messageUpdated(acct, e.msg)
}

// messageUpdated records a change of a message's mailboxes.
func (w *wtx) messageUpdated(acct store.AccountID, msg store.MessageID) error {
	modseq, err := w.modseq(acct)
	if err != nil {
		return err
	}
	if _, err := w.exec("UPDATE messages SET modseq = ? WHERE id = ?", modseq, msg); err != nil {
		return err
	}
	return w.logChange(acct, store.Change{Kind: store.ChangeEmail, Op: store.OpUpdated, ID: int64(msg)})
}

// destroyMessage deletes a message that is in no mailbox any more, and
// its thread when it was the last message of it.
func (w *wtx) destroyMessage(acct store.AccountID, msg store.MessageID) error {
	var thread store.ThreadID
	var size int64
	if err := w.queryRow("SELECT thread_id, size FROM messages WHERE id = ?", msg).Scan(&thread, &size); err != nil {
		return err
	}
	if _, err := w.exec("DELETE FROM messages WHERE id = ?", msg); err != nil {
		return err
	}
	if err := w.charge(acct, -1, -size); err != nil {
		return err
	}
	if err := w.logChange(acct, store.Change{Kind: store.ChangeEmail, Op: store.OpDestroyed, ID: int64(msg)}); err != nil {
		return err
	}
	var one int
	err := w.queryRow("SELECT 1 FROM messages WHERE thread_id = ? LIMIT 1", thread).Scan(&one)
	if err == nil {
		return w.logChange(acct, store.Change{Kind: store.ChangeThread, Op: store.OpUpdated, ID: int64(thread)})
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if _, err := w.exec("DELETE FROM message_refs WHERE thread_id = ?", thread); err != nil {
		return err
	}
	if _, err := w.exec("DELETE FROM threads WHERE id = ?", thread); err != nil {
		return err
	}
	return w.logChange(acct, store.Change{Kind: store.ChangeThread, Op: store.OpDestroyed, ID: int64(thread)})
}
