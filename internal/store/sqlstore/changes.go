package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"freehold/internal/store"
)

// HighestModSeq implements store.ChangeLog.
func (s *Store) HighestModSeq(ctx context.Context, acct store.AccountID) (store.ModSeq, error) {
	var m store.ModSeq
	err := s.read().queryRow(ctx, "SELECT highest_modseq FROM accounts WHERE id = ?", acct).Scan(&m)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, notFound("account %d", acct)
	}
	return m, err
}

// checkSince fails with ErrChangesTooOld when changes after since were
// pruned from the log.
func checkSince(ctx context.Context, r runner, acct store.AccountID, since store.ModSeq) (store.ModSeq, error) {
	var highest, pruned store.ModSeq
	err := r.queryRow(ctx, "SELECT highest_modseq, pruned_modseq FROM accounts WHERE id = ?", acct).Scan(&highest, &pruned)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, notFound("account %d", acct)
	}
	if err != nil {
		return 0, err
	}
	if since < pruned {
		return 0, fmt.Errorf("account %d: since %d, log starts after %d: %w", acct, since, pruned, store.ErrChangesTooOld)
	}
	return highest, nil
}

// Changes implements store.ChangeLog. A ModSeq's changes are never split:
// when limit falls inside a ModSeq, the result stops before it, or, if that
// ModSeq is the first, holds all of its changes even beyond limit, so that
// a caller can always continue from the last ModSeq it got. limit <= 0
// means no limit.
func (s *Store) Changes(ctx context.Context, acct store.AccountID, since store.ModSeq, limit int) ([]store.Change, error) {
	var out []store.Change
	err := s.readTx(ctx, func(r runner) error {
		if _, err := checkSince(ctx, r, acct, since); err != nil {
			return err
		}
		q := "SELECT modseq, kind, op, object_id, mailbox_id, uid, at FROM changes WHERE account_id = ? AND modseq > ? ORDER BY modseq, id"
		args := []any{acct, since}
		if limit > 0 {
			q += " LIMIT ?"
			args = append(args, limit+1)
		}
		var err error
		if out, err = scanChanges(r.query(ctx, q, args...)); err != nil {
			return err
		}
		if limit <= 0 || len(out) <= limit {
			return nil
		}
		last := out[limit-1].ModSeq
		if out[limit].ModSeq != last {
			out = out[:limit]
			return nil
		}
		i := limit - 1
		for i >= 0 && out[i].ModSeq == last {
			i--
		}
		if i >= 0 {
			out = out[:i+1]
			return nil
		}
		// The first ModSeq alone exceeds limit: return it whole.
		out, err = scanChanges(r.query(ctx, "SELECT modseq, kind, op, object_id, mailbox_id, uid, at FROM changes WHERE account_id = ? AND modseq = ? ORDER BY id", acct, last))
		return err
	})
	return out, err
}

func scanChanges(rows *sql.Rows, err error) ([]store.Change, error) {
	return collect(nil, rows, err, func(sc scanner) (store.Change, error) {
		var c store.Change
		var kind, op, at int64
		err := sc.Scan(&c.ModSeq, &kind, &op, &c.ID, &c.Mailbox, &c.UID, &at)
		c.Kind, c.Op, c.At = store.ChangeKind(kind), store.ChangeOp(op), fromNanos(at)
		return c, err
	})
}

// MailboxChanges implements store.Mail. Expunged UIDs come from the change
// log; changed entries are the current entries with a ModSeq above since.
// A UID expunged and then reused cannot happen (UIDs only grow).
func (s *Store) MailboxChanges(ctx context.Context, acct store.AccountID, mailbox store.MailboxID, since store.ModSeq) (store.MailboxDelta, error) {
	var d store.MailboxDelta
	err := s.readTx(ctx, func(r runner) error {
		if _, err := checkSince(ctx, r, acct, since); err != nil {
			return err
		}
		err := r.queryRow(ctx, "SELECT highest_modseq FROM mailboxes WHERE id = ? AND account_id = ?", mailbox, acct).Scan(&d.Highest)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("mailbox %d", mailbox)
		} else if err != nil {
			return err
		}
		rows, err := r.query(ctx, "SELECT DISTINCT uid FROM changes WHERE mailbox_id = ? AND kind = 4 AND op = 3 AND modseq > ? ORDER BY uid", mailbox, since)
		if err != nil {
			return err
		}
		for rows.Next() {
			var u store.UID
			if err := rows.Scan(&u); err != nil {
				rows.Close()
				return err
			}
			d.Expunged = append(d.Expunged, u)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		d.Changed, err = queryEntries(ctx, r, nil, "SELECT "+entryCols+entryFrom+"WHERE mm.mailbox_id = ? AND mm.modseq > ? ORDER BY mm.uid", mailbox, since)
		return err
	})
	return d, err
}

// PruneChanges implements store.Maintenance. Rows of one ModSeq share
// their time, so whole ModSeqs go; each account remembers the newest
// ModSeq removed, to refuse requests for changes since before it.
func (s *Store) PruneChanges(ctx context.Context, before time.Time) (int64, error) {
	cut := nanos(before)
	var n int64
	err := s.write(ctx, func(w *wtx) error {
		_, err := w.exec(`UPDATE accounts SET pruned_modseq = (
				SELECT MAX(c.modseq) FROM changes c WHERE c.account_id = accounts.id AND c.at < ?)
			WHERE EXISTS (SELECT 1 FROM changes c WHERE c.account_id = accounts.id AND c.at < ?)`, cut, cut)
		if err != nil {
			return err
		}
		n, err = w.execN(`DELETE FROM changes WHERE modseq <= (SELECT a.pruned_modseq FROM accounts a WHERE a.id = changes.account_id)`)
		return err
	})
	return n, err
}
