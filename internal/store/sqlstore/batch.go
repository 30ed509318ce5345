package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
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
	if s.d.Direct {
		s.inflight.Add(1)
		s.mu.RUnlock()
		defer s.inflight.Done()
		s.runBatch([]*request{req})
		return <-req.done
	}
	s.reqs <- req
	s.mu.RUnlock()
	return <-req.done
}

// writeAccount is write for a request that changes acct: it locks the
// account first, so that every request locks an account's rows in the
// same order (the account, then its mailboxes and messages).
func (s *Store) writeAccount(ctx context.Context, acct store.AccountID, fn func(w *wtx) error) error {
	return s.write(ctx, func(w *wtx) error {
		if err := w.lockAccount(acct); err != nil {
			return err
		}
		return fn(w)
	})
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

// maxAttempts bounds how often a batch whose transaction lost a deadlock
// to another node is run again.
const maxAttempts = 5

// runBatch commits batch and answers every request in it. When a request
// fails with a retryable error (PostgreSQL chose this transaction as a
// deadlock victim), the whole transaction is rolled back, releasing its
// locks so the other node proceeds, and the batch is run again; on the
// last attempt such an error fails only its own request.
func (s *Store) runBatch(batch []*request) {
	var results []error
	var announce map[store.AccountID]store.ModSeq
	for attempt := 1; ; attempt++ {
		var retry bool
		results, announce, retry = s.tryBatch(batch, attempt == maxAttempts)
		if !retry {
			break
		}
		time.Sleep(time.Duration(attempt*(1+rand.IntN(5))) * time.Millisecond)
	}
	for i, req := range batch {
		req.done <- results[i]
	}
	for acct, m := range announce {
		s.broker.publish(acct, m)
	}
	if s.w.cache {
		s.w.prepareWanted(context.Background())
	}
}

// tryBatch runs batch in one transaction and returns each request's
// result and, if it committed, the ModSeqs to announce. It reports retry
// when it gave up on a retryable error (only when not last).
func (s *Store) tryBatch(batch []*request, last bool) (results []error, announce map[store.AccountID]store.ModSeq, retry bool) {
	ctx := context.Background()
	results = make([]error, len(batch))
	announce = make(map[store.AccountID]store.ModSeq)
	failAll := func(err error) ([]error, map[store.AccountID]store.ModSeq, bool) {
		for i := range results {
			if results[i] == nil {
				results[i] = err
			}
		}
		return results, nil, false
	}
	tx, err := s.w.sql.BeginTx(ctx, nil)
	if err != nil {
		return failAll(fmt.Errorf("begin: %w", err))
	}
	// Statements prepared in this transaction serve every request of
	// the batch.
	r := runner{d: s.w, tx: tx, stmts: make(map[string]*sql.Stmt)}
	for i, req := range batch {
		if err := req.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		err := s.runOne(r, req, announce)
		var broken errTxBroken
		switch {
		case errors.As(err, &broken):
			tx.Rollback()
			results[i] = nil
			return failAll(broken)
		case err != nil && !last && s.d.IsRetryable != nil && s.d.IsRetryable(err):
			tx.Rollback()
			return nil, nil, true
		}
		results[i] = err
	}
	if err := tx.Commit(); err != nil {
		if !last && s.d.IsRetryable != nil && s.d.IsRetryable(err) {
			return nil, nil, true
		}
		return failAll(fmt.Errorf("commit: %w", err))
	}
	return results, announce, false
}

// runOne runs one request inside a savepoint, and records in announce the
// ModSeqs it committed to. A failed request is rolled back to the
// savepoint, leaving the others of the batch intact.
func (s *Store) runOne(r runner, req *request, announce map[store.AccountID]store.ModSeq) error {
	ctx := context.WithoutCancel(req.ctx)
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
	return err
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

// lockAccount locks the account's row until commit where the engine has
// row locks (PostgreSQL); SQLite's single writer needs none.
func (w *wtx) lockAccount(acct store.AccountID) error {
	if w.s.d.LockAccount == "" {
		return nil
	}
	var id int64
	err := w.queryRow(w.s.d.LockAccount, acct).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound("account %d", acct)
	}
	return err
}

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
