package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"freehold/internal/store"
)

// This file implements store.WebSessions and store.JMAPObjects; jmap_*.go
// the rest of store.JMAP.

var _ store.JMAP = (*Store)(nil)

// CreateWebSession implements store.WebSessions.
func (s *Store) CreateWebSession(ctx context.Context, ws store.WebSession) error {
	return s.write(ctx, func(w *wtx) error {
		_, err := w.exec("INSERT INTO web_sessions (token_hash, account_id, created, expires) VALUES (?, ?, ?, ?)",
			ws.TokenHash, ws.Account, nanos(ws.Created), nanos(ws.Expires))
		return s.uniqueErr(err, "web session")
	})
}

// WebSession implements store.WebSessions.
func (s *Store) WebSession(ctx context.Context, tokenHash string) (store.WebSession, error) {
	ws := store.WebSession{TokenHash: tokenHash}
	var created, expires int64
	err := s.read().queryRow(ctx, "SELECT account_id, created, expires FROM web_sessions WHERE token_hash = ?", tokenHash).
		Scan(&ws.Account, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return ws, notFound("web session")
	}
	ws.Created, ws.Expires = fromNanos(created), fromNanos(expires)
	return ws, err
}

// RenewWebSession implements store.WebSessions.
func (s *Store) RenewWebSession(ctx context.Context, tokenHash string, expires time.Time) error {
	return s.write(ctx, func(w *wtx) error {
		n, err := w.execN("UPDATE web_sessions SET expires = ? WHERE token_hash = ?", nanos(expires), tokenHash)
		if err == nil && n == 0 {
			return notFound("web session")
		}
		return err
	})
}

// DeleteWebSession implements store.WebSessions.
func (s *Store) DeleteWebSession(ctx context.Context, tokenHash string) error {
	return s.write(ctx, func(w *wtx) error {
		_, err := w.exec("DELETE FROM web_sessions WHERE token_hash = ?", tokenHash)
		return err
	})
}

// PruneWebSessions implements store.WebSessions.
func (s *Store) PruneWebSessions(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, func(w *wtx) error {
		var err error
		n, err = w.execN("DELETE FROM web_sessions WHERE expires < ?", nanos(before))
		return err
	})
	return n, err
}

// RecordUpload implements store.EmailIndex.
func (s *Store) RecordUpload(ctx context.Context, acct store.AccountID, u store.Upload) error {
	return s.write(ctx, func(w *wtx) error {
		n, err := w.execN("UPDATE jmap_uploads SET created = ? WHERE account_id = ? AND blob_id = ?",
			nanos(u.Created), acct, u.BlobID)
		if err != nil || n > 0 {
			return err
		}
		_, err = w.exec("INSERT INTO jmap_uploads (account_id, blob_id, type, size, created) VALUES (?, ?, ?, ?, ?)",
			acct, u.BlobID, u.Type, u.Size, nanos(u.Created))
		return err
	})
}

// HasBlob implements store.EmailIndex. The unary plus keeps SQLite, which
// has no statistics, from preferring an index on account_id (a scan of
// the account's messages) to messages_blob.
func (s *Store) HasBlob(ctx context.Context, acct store.AccountID, id string) (bool, error) {
	var n int
	err := s.read().queryRow(ctx, `SELECT
		(SELECT COUNT(*) FROM jmap_uploads WHERE account_id = ? AND blob_id = ?) +
		(SELECT COUNT(*) FROM (SELECT 1 FROM messages WHERE blob_id = ? AND +account_id = ? LIMIT 1) m)`,
		acct, id, id, acct).Scan(&n)
	return n > 0, err
}

// JMAPObjects implements store.JMAPObjects.
func (s *Store) JMAPObjects(ctx context.Context, acct store.AccountID, kind store.ChangeKind) ([]store.JMAPObject, error) {
	rows, err := s.read().query(ctx, "SELECT id, data FROM jmap_objects WHERE account_id = ? AND kind = ? ORDER BY id", acct, int64(kind))
	return collect(nil, rows, err, func(sc scanner) (store.JMAPObject, error) {
		o := store.JMAPObject{Kind: kind}
		var data string
		err := sc.Scan(&o.ID, &data)
		o.Data = []byte(data)
		return o, err
	})
}

// CreateJMAPObject implements store.JMAPObjects.
func (s *Store) CreateJMAPObject(ctx context.Context, acct store.AccountID, kind store.ChangeKind, data []byte) (int64, error) {
	var id int64
	err := s.write(ctx, func(w *wtx) error {
		if err := w.queryRow("INSERT INTO jmap_objects (account_id, kind, data) VALUES (?, ?, ?) RETURNING id",
			acct, int64(kind), string(data)).Scan(&id); err != nil {
			return err
		}
		return w.logChange(acct, store.Change{Kind: kind, Op: store.OpCreated, ID: id})
	})
	return id, err
}

// UpdateJMAPObject implements store.JMAPObjects.
func (s *Store) UpdateJMAPObject(ctx context.Context, acct store.AccountID, kind store.ChangeKind, id int64, data []byte) error {
	return s.write(ctx, func(w *wtx) error {
		n, err := w.execN("UPDATE jmap_objects SET data = ? WHERE id = ? AND account_id = ? AND kind = ?",
			string(data), id, acct, int64(kind))
		if err != nil {
			return err
		}
		if n == 0 {
			return notFound("object %d", id)
		}
		return w.logChange(acct, store.Change{Kind: kind, Op: store.OpUpdated, ID: id})
	})
}

// DeleteJMAPObject implements store.JMAPObjects.
func (s *Store) DeleteJMAPObject(ctx context.Context, acct store.AccountID, kind store.ChangeKind, id int64) error {
	return s.write(ctx, func(w *wtx) error {
		n, err := w.execN("DELETE FROM jmap_objects WHERE id = ? AND account_id = ? AND kind = ?", id, acct, int64(kind))
		if err != nil {
			return err
		}
		if n == 0 {
			return notFound("object %d", id)
		}
		return w.logChange(acct, store.Change{Kind: kind, Op: store.OpDestroyed, ID: id})
	})
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// ClaimVacationReply implements store.VacationReplies: one statement that
// inserts the record, or moves it when the last reply is older than
// since, so two claims cannot both succeed.
func (s *Store) ClaimVacationReply(ctx context.Context, acct store.AccountID, sender string, now, since time.Time) (bool, error) {
	var n int64
	err := s.write(ctx, func(w *wtx) error {
		var err error
		n, err = w.execN(`INSERT INTO jmap_vacation_replies (account_id, sender, sent_at) VALUES (?, ?, ?)
			ON CONFLICT (account_id, sender) DO UPDATE SET sent_at = excluded.sent_at
			WHERE jmap_vacation_replies.sent_at < ?`,
			acct, strings.ToLower(sender), nanos(now), nanos(since))
		return err
	})
	return n > 0, err
}

// ForgetVacationReplies implements store.VacationReplies.
func (s *Store) ForgetVacationReplies(ctx context.Context, acct store.AccountID) error {
	return s.write(ctx, func(w *wtx) error {
		_, err := w.exec("DELETE FROM jmap_vacation_replies WHERE account_id = ?", acct)
		return err
	})
}
