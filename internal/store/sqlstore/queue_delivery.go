package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"freehold/internal/store"
)

var _ store.QueueDelivery = (*Store)(nil)

// claimScan bounds how many due recipient rows one claim looks at, per
// work item asked for: rows of skipped domains are passed over.
const claimScan = 16

// QueueClaim implements store.QueueDelivery. Each recipient row is leased
// with a conditional UPDATE (lease_until <= now), so that of two nodes
// selecting the same rows concurrently only one gets each: on PostgreSQL
// the second UPDATE waits for the first to commit and then finds the row
// leased.
func (s *Store) QueueClaim(ctx context.Context, c store.QueueClaim) ([]store.QueueWork, error) {
	var out []store.QueueWork
	err := s.write(ctx, func(w *wtx) error {
		out = out[:0]
		var err error
		out, err = w.queueClaim(c)
		return err
	})
	return out, err
}

type dueRow struct {
	id     store.QueueID
	idx    int
	domain string
	rcpt   store.OutboundRecipient
}

func (w *wtx) queueClaim(c store.QueueClaim) ([]store.QueueWork, error) {
	now := nanos(c.Now)
	skip := map[string]bool{}
	for _, d := range c.Skip {
		skip[strings.ToLower(d)] = true
	}
	rows, err := w.query(`SELECT r.queue_id, r.idx, r.domain, r.address, r.notify, r.orcpt, r.attempts, r.next_attempt, r.last_error
		FROM queue_recipients r JOIN queue_messages m ON m.id = r.queue_id
		WHERE r.status = 0 AND r.next_attempt <= ? AND r.lease_until <= ? AND m.hold_until <= ?
		ORDER BY r.status, r.next_attempt, r.queue_id, r.idx LIMIT ?`, now, now, now, c.Limit*claimScan+len(c.Skip)*claimScan)
	if err != nil {
		return nil, err
	}
	type key struct {
		id     store.QueueID
		domain string
	}
	var order []key
	groups := map[key][]dueRow{}
	var backfill []dueRow
	for rows.Next() {
		var d dueRow
		var next int64
		if err := rows.Scan(&d.id, &d.idx, &d.domain, &d.rcpt.Address, &d.rcpt.Notify, &d.rcpt.ORcpt,
			&d.rcpt.Attempts, &next, &d.rcpt.LastError); err != nil {
			rows.Close()
			return nil, err
		}
		d.rcpt.NextAttempt = fromNanos(next)
		if d.domain == "" {
			d.domain = addressDomain(d.rcpt.Address)
			backfill = append(backfill, d)
		}
		if skip[d.domain] {
			continue
		}
		k := key{d.id, d.domain}
		if _, ok := groups[k]; !ok {
			if len(order) >= c.Limit {
				continue
			}
			order = append(order, k)
		}
		groups[k] = append(groups[k], d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, d := range backfill {
		if _, err := w.exec("UPDATE queue_recipients SET domain = ? WHERE queue_id = ? AND idx = ?", d.domain, d.id, d.idx); err != nil {
			return nil, err
		}
	}
	until := c.Now.Add(c.Lease)
	var out []store.QueueWork
	for _, k := range order {
		work, err := w.lease(k.id, k.domain, groups[k], now, until)
		if err != nil {
			return nil, err
		}
		if len(work.Index) > 0 {
			out = append(out, work)
		}
	}
	// Claiming a message releases it: a JMAP submission held in it can
	// no longer be undone (jmap_submission.go). Not only messages with a
	// HoldUntil: QueueRetry releases a hold by clearing it.
	released := make([]store.QueueID, len(out))
	for i, work := range out {
		released[i] = work.Message.ID
	}
	if err := w.submissionsReleased(released); err != nil {
		return nil, err
	}
	return out, nil
}

// lease takes the rows of one message and domain that are still free and
// counts the attempt.
func (w *wtx) lease(id store.QueueID, domain string, rows []dueRow, now int64, until time.Time) (store.QueueWork, error) {
	var b [12]byte
	rand.Read(b[:])
	work := store.QueueWork{Domain: domain, Lease: hex.EncodeToString(b[:]), Until: until}
	for _, d := range rows {
		n, err := w.execN(`UPDATE queue_recipients SET lease_id = ?, lease_until = ?, attempts = attempts + 1
			WHERE queue_id = ? AND idx = ? AND status = 0 AND lease_until <= ?`,
			work.Lease, nanos(until), id, d.idx, now)
		if err != nil {
			return work, err
		}
		if n == 1 {
			d.rcpt.Attempts++
			work.Index = append(work.Index, d.idx)
			work.Message.Recipients = append(work.Message.Recipients, d.rcpt)
		}
	}
	if len(work.Index) == 0 {
		return work, nil
	}
	rcpts := work.Message.Recipients
	m, err := scanQueued(w.queryRow("SELECT "+queueCols+" FROM queue_messages WHERE id = ?", id))
	if err != nil {
		return work, err
	}
	m.Recipients = rcpts
	work.Message = m
	return work, nil
}

func addressDomain(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return strings.ToLower(strings.TrimSuffix(addr[i+1:], "."))
	}
	return ""
}

// QueueRecord implements store.QueueDelivery.
func (s *Store) QueueRecord(ctx context.Context, a store.QueueAttempt) error {
	return s.write(ctx, func(w *wtx) error {
		for _, r := range a.Results {
			n, err := w.execN(`UPDATE queue_recipients SET status = ?, next_attempt = ?, last_error = ?, lease_id = '', lease_until = 0
				WHERE queue_id = ? AND idx = ? AND lease_id = ?`,
				int64(r.Status), nanos(r.NextAttempt), r.LastError, a.ID, r.Index, a.Lease)
			if err != nil {
				return err
			}
			if n != 1 {
				return notFound("lease %s of queued message %d recipient %d", a.Lease, a.ID, r.Index)
			}
		}
		if a.Bounce != nil {
			if _, err := w.enqueue(*a.Bounce); err != nil {
				return err
			}
		}
		// A message with nothing left to send leaves the queue. The
		// statuses are counted here rather than with "status = 0" in SQL,
		// which could lead the planner to walk every pending recipient of
		// the queue instead of this message's.
		rows, err := w.query("SELECT status FROM queue_recipients WHERE queue_id = ?", a.ID)
		if err != nil {
			return err
		}
		pending := 0
		for rows.Next() {
			var st int64
			if err := rows.Scan(&st); err != nil {
				rows.Close()
				return err
			}
			if store.RecipientStatus(st) == store.RcptPending {
				pending++
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if pending == 0 {
			_, err := w.exec("DELETE FROM queue_messages WHERE id = ?", a.ID)
			return err
		}
		return nil
	})
}

// QueueNextDue implements store.QueueDelivery: the earliest of the next
// attempt of a free, released recipient, the next hold to end, and the
// next lease to expire. Each is an index lookup, so that a runner can ask
// after every claim however long the queue is.
func (s *Store) QueueNextDue(ctx context.Context) (time.Time, error) {
	now := nanos(s.now())
	r := s.read()
	var best int64 = -1
	take := func(q string, args ...any) error {
		var v *int64
		if err := r.queryRow(ctx, q, args...).Scan(&v); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if v != nil && (best < 0 || *v < best) {
			best = *v
		}
		return nil
	}
	err := take(`SELECT r.next_attempt FROM queue_recipients r JOIN queue_messages m ON m.id = r.queue_id
		WHERE r.status = 0 AND r.lease_until <= ? AND m.hold_until <= ?
		ORDER BY r.status, r.next_attempt, r.queue_id, r.idx LIMIT 1`, now, now)
	if err == nil {
		err = take("SELECT MIN(hold_until) FROM queue_messages WHERE hold_until > ?", now)
	}
	if err == nil {
		err = take("SELECT MIN(lease_until) FROM queue_recipients WHERE lease_until > ?", now)
	}
	if err != nil || best < 0 {
		return time.Time{}, err
	}
	if best == 0 {
		// Due since forever: report the epoch rather than "nothing".
		return time.Unix(0, 1).UTC(), nil
	}
	return fromNanos(best), nil
}

// QueueRetry implements store.QueueDelivery.
func (s *Store) QueueRetry(ctx context.Context, id store.QueueID) error {
	return s.write(ctx, func(w *wtx) error {
		n, err := w.execN("UPDATE queue_messages SET hold_until = 0 WHERE id = ?", id)
		if err != nil {
			return err
		}
		if n == 0 {
			return notFound("queued message %d", id)
		}
		_, err = w.exec("UPDATE queue_recipients SET next_attempt = 0 WHERE queue_id = ? AND status = 0", id)
		return err
	})
}

// QueueHeld implements store.QueueDelivery.
func (s *Store) QueueHeld(ctx context.Context, acct store.AccountID) ([]store.OutboundMessage, error) {
	var out []store.OutboundMessage
	now := nanos(s.now())
	err := s.readTx(ctx, func(r runner) error {
		const held = "hold_until > ? AND (account_id = ? OR ? = 0)"
		var idx map[store.QueueID]int
		var err error
		out, idx, err = scanQueue(r.query(ctx, "SELECT "+queueCols+" FROM queue_messages WHERE "+held+" ORDER BY hold_until, id",
			now, acct, acct))
		if err != nil {
			return err
		}
		// One query for all their recipients, in the same snapshot.
		return queryRecipients(ctx, r, func(id store.QueueID, rc store.OutboundRecipient) {
			if i, ok := idx[id]; ok {
				out[i].Recipients = append(out[i].Recipients, rc)
			}
		}, "SELECT "+recipientCols+" FROM queue_recipients WHERE queue_id IN (SELECT id FROM queue_messages WHERE "+held+
			") ORDER BY queue_id, idx", now, acct, acct)
	})
	return out, err
}

// QueueCancel implements store.QueueDelivery. The hold_until condition
// makes cancel and release exclusive: a message whose hold has passed may
// already be under a lease, and is no longer cancellable.
func (s *Store) QueueCancel(ctx context.Context, id store.QueueID, acct store.AccountID) error {
	return s.write(ctx, func(w *wtx) error {
		n, err := w.execN("DELETE FROM queue_messages WHERE id = ? AND hold_until > ? AND (account_id = ? OR ? = 0)",
			id, nanos(w.now), acct, acct)
		if err != nil {
			return err
		}
		if n == 0 {
			return notFound("held message %d", id)
		}
		return w.submissionCanceled(id)
	})
}
