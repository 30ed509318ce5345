package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"freehold/internal/store"
)

// Enqueue implements store.Queue.
func (s *Store) Enqueue(ctx context.Context, m store.OutboundMessage) (store.QueueID, error) {
	var id store.QueueID
	err := s.write(ctx, func(w *wtx) error {
		var err error
		id, err = w.enqueue(m)
		return err
	})
	return id, err
}

// enqueue stores an outbound message and its recipients. Created defaults
// to now.
func (w *wtx) enqueue(m store.OutboundMessage) (store.QueueID, error) {
	if m.BlobID == "" || len(m.Recipients) == 0 {
		return 0, invalid("outbound message without blob or recipients")
	}
	created := m.Created
	if created.IsZero() {
		created = w.now
	}
	var id store.QueueID
	err := w.queryRow(`INSERT INTO queue_messages (account_id, mail_from, blob_id, size, created, hold_until, dsn_ret, dsn_envid)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		m.Account, m.MailFrom, m.BlobID, m.Size, nanos(created), nanos(m.HoldUntil), m.DSNRet, m.DSNEnvID).Scan(&id)
	if err != nil {
		return 0, err
	}
	for i, r := range m.Recipients {
		_, err := w.exec(`INSERT INTO queue_recipients (queue_id, idx, address, notify, orcpt, status, attempts, next_attempt, last_error)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, i, r.Address, r.Notify, r.ORcpt, int64(r.Status), r.Attempts, nanos(r.NextAttempt), r.LastError)
		if err != nil {
			return 0, err
		}
	}
	return id, nil
}

const queueCols = "id, account_id, mail_from, blob_id, size, created, hold_until, dsn_ret, dsn_envid"

func scanQueued(sc scanner) (store.OutboundMessage, error) {
	var m store.OutboundMessage
	var created, hold int64
	err := sc.Scan(&m.ID, &m.Account, &m.MailFrom, &m.BlobID, &m.Size, &created, &hold, &m.DSNRet, &m.DSNEnvID)
	m.Created, m.HoldUntil = fromNanos(created), fromNanos(hold)
	return m, err
}

// scanQueue reads every row of a queueCols query, closing rows, and
// indexes the messages by ID so recipients can be attached to them.
func scanQueue(rows *sql.Rows, err error) ([]store.OutboundMessage, map[store.QueueID]int, error) {
	out, err := collect(nil, rows, err, scanQueued)
	idx := make(map[store.QueueID]int, len(out))
	for i, m := range out {
		idx[m.ID] = i
	}
	return out, idx, err
}

// QueueList implements store.Queue, oldest first.
func (s *Store) QueueList(ctx context.Context) ([]store.OutboundMessage, error) {
	var out []store.OutboundMessage
	err := s.readTx(ctx, func(r runner) error {
		var idx map[store.QueueID]int
		var err error
		out, idx, err = scanQueue(r.query(ctx, "SELECT "+queueCols+" FROM queue_messages ORDER BY id"))
		if err != nil {
			return err
		}
		return queryRecipients(ctx, r, func(id store.QueueID, rc store.OutboundRecipient) {
			if i, ok := idx[id]; ok {
				out[i].Recipients = append(out[i].Recipients, rc)
			}
		}, "SELECT "+recipientCols+" FROM queue_recipients ORDER BY queue_id, idx")
	})
	return out, err
}

const recipientCols = "queue_id, address, notify, orcpt, status, attempts, next_attempt, last_error"

// queryRecipients calls add for each recipient that q selects (recipientCols).
func queryRecipients(ctx context.Context, r runner, add func(store.QueueID, store.OutboundRecipient), q string, args ...any) error {
	rows, err := r.query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id store.QueueID
		var rc store.OutboundRecipient
		var status, next int64
		if err := rows.Scan(&id, &rc.Address, &rc.Notify, &rc.ORcpt, &status, &rc.Attempts, &next, &rc.LastError); err != nil {
			return err
		}
		rc.Status, rc.NextAttempt = store.RecipientStatus(status), fromNanos(next)
		add(id, rc)
	}
	return rows.Err()
}

// QueueGet implements store.Queue.
func (s *Store) QueueGet(ctx context.Context, id store.QueueID) (store.OutboundMessage, error) {
	var m store.OutboundMessage
	err := s.readTx(ctx, func(r runner) error {
		var err error
		m, err = scanQueued(r.queryRow(ctx, "SELECT "+queueCols+" FROM queue_messages WHERE id = ?", id))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("queued message %d", id)
		} else if err != nil {
			return err
		}
		return queryRecipients(ctx, r, func(_ store.QueueID, rc store.OutboundRecipient) { m.Recipients = append(m.Recipients, rc) },
			"SELECT "+recipientCols+" FROM queue_recipients WHERE queue_id = ? ORDER BY idx", id)
	})
	return m, err
}

// QueueRemove implements store.Queue.
func (s *Store) QueueRemove(ctx context.Context, id store.QueueID) error {
	return s.write(ctx, func(w *wtx) error {
		n, err := w.execN("DELETE FROM queue_messages WHERE id = ?", id)
		if err == nil && n == 0 {
			err = notFound("queued message %d", id)
		}
		return err
	})
}
