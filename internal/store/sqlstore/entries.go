package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"

	"freehold/internal/store"
)

func sortedUIDs(uids []store.UID) []store.UID {
	out := slices.Clone(uids)
	slices.Sort(out)
	return slices.Compact(out)
}

const entryCols = "mm.uid, mm.message_id, mm.modseq, m.keywords, mm.size, m.received_at"
const entryFrom = " FROM mailbox_messages mm JOIN messages m ON m.id = mm.message_id "

// queryEntries appends to out the entries that q selects (entryCols).
func queryEntries(ctx context.Context, r runner, out []store.MailboxEntry, q string, args ...any) ([]store.MailboxEntry, error) {
	rows, err := r.query(ctx, q, args...)
	return collect(out, rows, err, func(sc scanner) (store.MailboxEntry, error) {
		var e store.MailboxEntry
		var kw string
		var recv int64
		if err := sc.Scan(&e.UID, &e.MessageID, &e.ModSeq, &kw, &e.Size, &recv); err != nil {
			return e, err
		}
		e.ReceivedAt = fromNanos(recv)
		e.Keywords, err = decodeStrings(kw)
		return e, err
	})
}

// Entries implements store.Mail.
func (s *Store) Entries(ctx context.Context, acct store.AccountID, mailbox store.MailboxID) ([]store.MailboxEntry, error) {
	var out []store.MailboxEntry
	err := s.readTx(ctx, func(r runner) error {
		if _, err := mailboxByID(ctx, r, acct, mailbox); err != nil {
			return err
		}
		var err error
		out, err = queryEntries(ctx, r, nil, "SELECT "+entryCols+entryFrom+"WHERE mm.mailbox_id = ? ORDER BY mm.uid", mailbox)
		return err
	})
	return out, err
}

// entries returns the entries of a mailbox with the given UIDs, in UID
// order, inside a write transaction.
func (w *wtx) entries(mailbox store.MailboxID, uids []store.UID) ([]store.MailboxEntry, error) {
	var out []store.MailboxEntry
	err := chunks(sortedUIDs(uids), func(c []store.UID) error {
		args := padded(c)
		var err error
		out, err = queryEntries(w.ctx, w.r, out, "SELECT "+entryCols+entryFrom+"WHERE mm.mailbox_id = ? AND mm.uid IN ("+placeholders(len(args))+") ORDER BY mm.uid",
			append([]any{mailbox}, args...)...)
		return err
	})
	return out, err
}

const messageCols = `id, account_id, thread_id, blob_id, size, received_at, keywords, date, subject,
	from_addr, sender, reply_to, to_addr, cc, bcc, message_id, in_reply_to, refs, preview, has_attachment, modseq`

func scanMessage(sc scanner) (store.Message, error) {
	var m store.Message
	var recv, date, att int64
	var kw, from, sender, replyTo, to, cc, bcc, irt, refs string
	e := &m.Envelope
	err := sc.Scan(&m.ID, &m.AccountID, &m.ThreadID, &m.BlobID, &m.Size, &recv, &kw, &date, &e.Subject,
		&from, &sender, &replyTo, &to, &cc, &bcc, &e.MessageID, &irt, &refs, &m.Preview, &att, &m.ModSeq)
	if err != nil {
		return m, err
	}
	m.ReceivedAt, e.Date, m.HasAttachment = fromNanos(recv), fromNanos(date), att != 0
	errs := make([]error, 0, 9)
	var err2 error
	m.Keywords, err2 = decodeStrings(kw)
	errs = append(errs, err2)
	for _, f := range []struct {
		dst *[]store.EnvelopeAddress
		src string
	}{{&e.From, from}, {&e.Sender, sender}, {&e.ReplyTo, replyTo}, {&e.To, to}, {&e.Cc, cc}, {&e.Bcc, bcc}} {
		*f.dst, err2 = decodeAddrs(f.src)
		errs = append(errs, err2)
	}
	e.InReplyTo, err2 = decodeStrings(irt)
	errs = append(errs, err2)
	e.References, err2 = decodeStrings(refs)
	errs = append(errs, err2)
	return m, errors.Join(errs...)
}

// Messages implements store.Mail.
func (s *Store) Messages(ctx context.Context, acct store.AccountID, ids []store.MessageID) ([]store.Message, error) {
	byID := make(map[store.MessageID]*store.Message, len(ids))
	uniq := slices.Clone(ids)
	slices.Sort(uniq)
	uniq = slices.Compact(uniq)
	err := s.readTx(ctx, func(r runner) error {
		return chunks(uniq, func(c []store.MessageID) error {
			args := padded(c)
			in := placeholders(len(args))
			rows, err := r.query(ctx, "SELECT "+messageCols+" FROM messages WHERE account_id = ? AND id IN ("+in+")", append([]any{acct}, args...)...)
			if err != nil {
				return err
			}
			for rows.Next() {
				m, err := scanMessage(rows)
				if err != nil {
					rows.Close()
					return err
				}
				byID[m.ID] = &m
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			rows, err = r.query(ctx, "SELECT message_id, mailbox_id FROM mailbox_messages WHERE message_id IN ("+in+") ORDER BY mailbox_id", args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var id store.MessageID
				var mb store.MailboxID
				if err := rows.Scan(&id, &mb); err != nil {
					return err
				}
				if m := byID[id]; m != nil {
					m.Mailboxes = append(m.Mailboxes, mb)
				}
			}
			return rows.Err()
		})
	})
	if err != nil {
		return nil, err
	}
	out := make([]store.Message, 0, len(ids))
	for _, id := range ids {
		if m := byID[id]; m != nil {
			out = append(out, *m)
		}
	}
	return out, nil
}

// Copy implements store.Mail. A message is one Email that can sit in
// several mailboxes; copying it to a mailbox it is already in makes a new
// Email (same blob, keywords and thread) for the new UID, counted in the
// quota, since one Email cannot be twice in one mailbox.
func (s *Store) Copy(ctx context.Context, acct store.AccountID, r store.CopyRequest) ([]store.UIDPair, error) {
	var pairs []store.UIDPair
	err := s.writeAccount(ctx, acct, func(w *wtx) error {
		pairs = pairs[:0]
		for _, id := range []store.MailboxID{r.From, r.To} {
			if _, err := mailboxByID(w.ctx, w.r, acct, id); err != nil {
				return err
			}
		}
		src, err := w.entries(r.From, r.UIDs)
		if err != nil {
			return err
		}
		for _, e := range src {
			uid, err := w.copyEntry(acct, r, e)
			if err != nil {
				return err
			}
			pairs = append(pairs, store.UIDPair{From: e.UID, To: uid})
		}
		return nil
	})
	return pairs, err
}

func (w *wtx) copyEntry(acct store.AccountID, r store.CopyRequest, e store.MailboxEntry) (store.UID, error) {
	msg := e.MessageID
	var one int
	err := w.queryRow("SELECT 1 FROM mailbox_messages WHERE mailbox_id = ? AND message_id = ? LIMIT 1", r.To, msg).Scan(&one)
	switch {
	case err == nil:
		if msg, err = w.cloneMessage(acct, msg); err != nil {
			return 0, err
		}
	case !errors.Is(err, sql.ErrNoRows):
		return 0, err
	default:
		if err := w.messageUpdated(acct, msg); err != nil {
			return 0, err
		}
	}
	uid, err := w.addEntry(acct, r.To, msg, e.Size, e.Keywords)
	if err != nil {
		return 0, err
	}
	if r.Move {
		if err := w.removeEntry(acct, r.From, entryRef{uid: e.UID, msg: e.MessageID}); err != nil {
			return 0, err
		}
	}
	return uid, nil
}

// cloneMessage makes a new Email from an existing one, in the same thread.
func (w *wtx) cloneMessage(acct store.AccountID, msg store.MessageID) (store.MessageID, error) {
	modseq, err := w.modseq(acct)
	if err != nil {
		return 0, err
	}
	var size int64
	if err := w.queryRow("SELECT size FROM messages WHERE id = ?", msg).Scan(&size); err != nil {
		return 0, err
	}
	if err := w.charge(acct, 1, size); err != nil {
		return 0, err
	}
	const cols = `account_id, thread_id, blob_id, size, received_at, keywords, date, subject, from_addr, sender,
		reply_to, to_addr, cc, bcc, message_id, in_reply_to, refs, preview, has_attachment`
	var id store.MessageID
	err = w.queryRow("INSERT INTO messages ("+cols+", modseq) SELECT "+cols+", CAST(? AS BIGINT) FROM messages WHERE id = ? RETURNING id", modseq, msg).Scan(&id)
	if err != nil {
		return 0, err
	}
	var thread int64
	if err := w.queryRow("SELECT thread_id FROM messages WHERE id = ?", id).Scan(&thread); err != nil {
		return 0, err
	}
	if err := w.logChange(acct, store.Change{Kind: store.ChangeThread, Op: store.OpUpdated, ID: thread}); err != nil {
		return 0, err
	}
	return id, w.logChange(acct, store.Change{Kind: store.ChangeEmail, Op: store.OpCreated, ID: int64(id)})
}

// UpdateKeywords implements store.Mail. Only messages whose keywords
// actually change get a new ModSeq and are returned in changed; the new
// ModSeq applies to the message in every mailbox it is in.
func (s *Store) UpdateKeywords(ctx context.Context, acct store.AccountID, u store.KeywordUpdate) ([]store.MailboxEntry, []store.UID, error) {
	kws := store.NormalizeKeywords(u.Keywords)
	var changed []store.MailboxEntry
	var failed []store.UID
	err := s.writeAccount(ctx, acct, func(w *wtx) error {
		changed, failed = changed[:0], failed[:0]
		if _, err := mailboxByID(w.ctx, w.r, acct, u.Mailbox); err != nil {
			return err
		}
		entries, err := w.entries(u.Mailbox, u.UIDs)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if u.UnchangedSince != 0 && e.ModSeq > u.UnchangedSince {
				failed = append(failed, e.UID)
				continue
			}
			next := applyKeywords(e.Keywords, u.Mode, kws)
			if slices.Equal(next, e.Keywords) {
				continue
			}
			if err := w.setKeywords(acct, e.MessageID, next); err != nil {
				return err
			}
			e.Keywords, e.ModSeq = next, w.modseqs[acct]
			changed = append(changed, e)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return changed, failed, nil
}

func applyKeywords(cur []string, mode store.KeywordMode, kws []string) []string {
	switch mode {
	case store.KeywordsReplace:
		return kws
	case store.KeywordsAdd:
		return store.NormalizeKeywords(append(slices.Clone(cur), kws...))
	default:
		out := slices.DeleteFunc(slices.Clone(cur), func(k string) bool { return slices.Contains(kws, k) })
		if len(out) == 0 {
			return nil
		}
		return out
	}
}

// setKeywords changes a message's keywords and gives all its mailbox
// entries the request's ModSeq (RFC 7162: a flag change is a change of the
// message in every mailbox that shows it).
func (w *wtx) setKeywords(acct store.AccountID, msg store.MessageID, kw []string) error {
	modseq, err := w.modseq(acct)
	if err != nil {
		return err
	}
	if _, err := w.exec("UPDATE messages SET keywords = ?, modseq = ? WHERE id = ?", jsonText(nonNil(kw)), modseq, msg); err != nil {
		return err
	}
	if _, err := w.exec("UPDATE mailbox_messages SET modseq = ?, seen = ?, deleted = ? WHERE message_id = ?",
		modseq, b2i(hasKeyword(kw, store.KeywordSeen)), b2i(hasKeyword(kw, store.KeywordDeleted)), msg); err != nil {
		return err
	}
	rows, err := w.query("SELECT mailbox_id, uid FROM mailbox_messages WHERE message_id = ?", msg)
	if err != nil {
		return err
	}
	var refs []store.Change
	for rows.Next() {
		c := store.Change{Kind: store.ChangeEntry, Op: store.OpUpdated, ID: int64(msg)}
		if err := rows.Scan(&c.Mailbox, &c.UID); err != nil {
			rows.Close()
			return err
		}
		refs = append(refs, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, c := range refs {
		if err := w.logChange(acct, c); err != nil {
			return err
		}
		if err := w.contentsChanged(acct, c.Mailbox); err != nil {
			return err
		}
	}
	return w.logChange(acct, store.Change{Kind: store.ChangeEmail, Op: store.OpUpdated, ID: int64(msg)})
}

// Expunge implements store.Mail.
func (s *Store) Expunge(ctx context.Context, acct store.AccountID, mailbox store.MailboxID, uids []store.UID) ([]store.UID, error) {
	var removed []store.UID
	err := s.writeAccount(ctx, acct, func(w *wtx) error {
		removed = removed[:0]
		if _, err := mailboxByID(w.ctx, w.r, acct, mailbox); err != nil {
			return err
		}
		var refs []entryRef
		var err error
		if uids == nil {
			refs, err = w.deletedRefs(mailbox)
		} else {
			refs, err = w.entryRefs(mailbox, uids)
		}
		if err != nil {
			return err
		}
		for _, e := range refs {
			if err := w.removeEntry(acct, mailbox, e); err != nil {
				return err
			}
			removed = append(removed, e.uid)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return removed, nil
}

func (w *wtx) deletedRefs(mailbox store.MailboxID) ([]entryRef, error) {
	rows, err := w.query("SELECT uid, message_id FROM mailbox_messages WHERE mailbox_id = ? AND deleted = 1 ORDER BY uid", mailbox)
	return collect(nil, rows, err, scanEntryRef)
}
