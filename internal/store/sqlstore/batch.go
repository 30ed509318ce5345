package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"freehold/internal/store"
)

// request is one write waiting for the committer.
type request struct {
	ctx  context.Context
	fn   func(w *wtx) error
	done chan error // buffered: the committer never blocks on a caller
}

// write runs fn in a write transaction and returns once it is committed
// (or failed). fn may run together with other requests in one database
// transaction, inside its own savepoint: it must do all its work through w
// and must not keep state between attempts, since a request that hits a
// retryable conflict (PostgreSQL deadlock) is run again.
//
// Once accepted, a request's result is always waited for, even if ctx ends
// meanwhile: the caller learns whether its change was committed.
func (s *Store) write(ctx context.Context, fn func(w *wtx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	req := &request{ctx: ctx, fn: fn, done: make(chan error, 1)}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return store.ErrClosed
	}
	s.reqs <- req
	s.mu.RUnlock()
	return <-req.done
}

// commitLoop is the committer: it takes the first waiting request and
// every other one already queued (up to maxBatch), and commits them in one
// transaction, so that concurrent writers share one fsync.
func (s *Store) commitLoop() {
	defer close(s.done)
	batch := make([]*request, 0, s.maxBatch)
	for {
		req, ok := <-s.reqs
		if !ok {
			return
		}
		batch = append(batch[:0], req)
	fill:
		for len(batch) < s.maxBatch {
			select {
			case r, ok := <-s.reqs:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		s.runBatch(batch)
		clear(batch)
	}
}

// errTxBroken marks a failure of the transaction itself (not of one
// request): the whole batch is lost.
type errTxBroken struct{ err error }

func (e errTxBroken) Error() string { return "transaction failed: " + e.err.Error() }
func (e errTxBroken) Unwrap() error { return e.err }

func (s *Store) runBatch(batch []*request) {
	ctx := context.Background()
	results := make([]error, len(batch))
	announce := make(map[store.AccountID]store.ModSeq)
	answer := func() {
		for i, req := range batch {
			req.done <- results[i]
		}
	}
	tx, err := s.w.sql.BeginTx(ctx, nil)
	if err != nil {
		for i := range results {
			results[i] = fmt.Errorf("begin: %w", err)
		}
		answer()
		return
	}
	// Statements prepared in this transaction serve every request of
	// the batch.
	r := runner{d: s.w, tx: tx, stmts: make(map[string]*sql.Stmt)}
	for i, req := range batch {
		if err := req.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		results[i] = s.runOne(r, req, announce)
		var broken errTxBroken
		if errors.As(results[i], &broken) {
			tx.Rollback()
			for j := range results {
				if results[j] == nil || j == i {
					results[j] = broken
				}
			}
			answer()
			return
		}
	}
	if err := tx.Commit(); err != nil {
		for i := range results {
			if results[i] == nil {
				results[i] = fmt.Errorf("commit: %w", err)
			}
		}
		answer()
		return
	}
	answer()
	for acct, m := range announce {
		s.broker.publish(acct, m)
	}
}

// maxAttempts bounds how often a request that failed with a retryable
// error is run again.
const maxAttempts = 4

// runOne runs one request inside a savepoint of tx, and records in
// announce the ModSeqs it committed to.
func (s *Store) runOne(r runner, req *request, announce map[store.AccountID]store.ModSeq) error {
	ctx := context.WithoutCancel(req.ctx)
	for attempt := 1; ; attempt++ {
		if _, err := r.exec(ctx, "SAVEPOINT req"); err != nil {
			return errTxBroken{err}
		}
		w := &wtx{
			ctx:     ctx,
			s:       s,
			r:       r,
			now:     s.now().UTC(),
			modseqs: make(map[store.AccountID]store.ModSeq),
			noted:   make(map[noteKey]struct{}),
		}
		err := w.run(req.fn)
		if err == nil {
			if _, err := r.exec(ctx, "RELEASE SAVEPOINT req"); err != nil {
				return errTxBroken{err}
			}
			for acct, m := range w.modseqs {
				announce[acct] = max(announce[acct], m)
			}
			return nil
		}
		if _, rerr := r.exec(ctx, "ROLLBACK TO SAVEPOINT req"); rerr != nil {
			return errTxBroken{rerr}
		}
		if _, rerr := r.exec(ctx, "RELEASE SAVEPOINT req"); rerr != nil {
			return errTxBroken{rerr}
		}
		if attempt < maxAttempts && s.d.IsRetryable != nil && s.d.IsRetryable(err) {
			time.Sleep(time.Duration(attempt) * time.Millisecond)
			continue
		}
		return err
	}
}

// wtx is the view of a write transaction that one request gets.
type wtx struct {
	ctx context.Context
	s   *Store
	r   runner
	now time.Time // the request's time, used for every row it writes
	// modseqs holds the ModSeq this request took for each account it
	// changed: one per account per request.
	modseqs map[store.AccountID]store.ModSeq
	noted   map[noteKey]struct{} // changes already logged by this request
	// changes holds the change log rows of this request, written in one
	// statement when it ends.
	changes []changeRow
}

type changeRow struct {
	acct store.AccountID
	m    store.ModSeq
	c    store.Change
}

type noteKey struct {
	kind store.ChangeKind
	id   int64
}

// run calls fn, turning a panic into an error so that one bad request
// cannot stop the committer, and announces the request's changes to other
// nodes where the dialect wants it.
func (w *wtx) run(fn func(*wtx) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			w.s.log.Error("panic in store write", "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("sqlstore: internal error: %v", p)
		}
	}()
	if err := fn(w); err != nil {
		return err
	}
	if err := w.flushChanges(); err != nil {
		return err
	}
	if w.s.d.Notify {
		for acct, m := range w.modseqs {
			payload := strconv.FormatInt(int64(acct), 10) + ":" + strconv.FormatInt(int64(m), 10)
			if _, err := w.exec("SELECT pg_notify(?, ?)", NotifyChannel, payload); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *wtx) query(q string, args ...any) (*sql.Rows, error) { return w.r.query(w.ctx, q, args...) }
func (w *wtx) queryRow(q string, args ...any) row             { return w.r.queryRow(w.ctx, q, args...) }
func (w *wtx) exec(q string, args ...any) (sql.Result, error) { return w.r.exec(w.ctx, q, args...) }
func (w *wtx) execN(q string, args ...any) (int64, error)     { return w.r.execN(w.ctx, q, args...) }

// modseq returns the ModSeq this request changes acct at, taking the
// account's next one on first use. The account row stays locked until
// commit (PostgreSQL), which orders ModSeqs across nodes.
func (w *wtx) modseq(acct store.AccountID) (store.ModSeq, error) {
	if m, ok := w.modseqs[acct]; ok {
		return m, nil
	}
	var m store.ModSeq
	err := w.queryRow("UPDATE accounts SET highest_modseq = highest_modseq + 1 WHERE id = ? RETURNING highest_modseq", acct).Scan(&m)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, notFound("account %d", acct)
	}
	if err != nil {
		return 0, err
	}
	w.modseqs[acct] = m
	return m, nil
}

// logChange appends c to acct's change log at this request's ModSeq. An
// OpUpdated of an object already logged by this request is dropped: one
// entry per object per ModSeq is enough to sync. Rows are written when the
// request ends.
func (w *wtx) logChange(acct store.AccountID, c store.Change) error {
	m, err := w.modseq(acct)
	if err != nil {
		return err
	}
	if c.Kind != store.ChangeEntry {
		k := noteKey{c.Kind, c.ID}
		if _, ok := w.noted[k]; ok && c.Op == store.OpUpdated {
			return nil
		}
		w.noted[k] = struct{}{}
	}
	w.changes = append(w.changes, changeRow{acct, m, c})
	return nil
}

// changeChunk is the most rows one INSERT into changes carries.
const changeChunk = 32

func (w *wtx) flushChanges() error {
	at := nanos(w.now)
	return chunksOf(w.changes, changeChunk, func(rows []changeRow) error {
		args := make([]any, 0, 8*len(rows))
		for _, r := range rows {
			args = append(args, r.acct, r.m, int64(r.c.Kind), int64(r.c.Op), r.c.ID, int64(r.c.Mailbox), int64(r.c.UID), at)
		}
		values := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?), ", len(rows)), ", ")
		_, err := w.exec("INSERT INTO changes (account_id, modseq, kind, op, object_id, mailbox_id, uid, at) VALUES "+values, args...)
		return err
	})
}
