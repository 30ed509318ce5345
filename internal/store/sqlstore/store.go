// Package sqlstore implements store.Store over database/sql with one set of
// hand-written SQL. A small Dialect value carries what differs between the
// engines; the sqlite and postgres packages open a database and call New.
//
// Writes go through one committer goroutine (see batch.go) that runs the
// requests waiting at a time in one transaction, a savepoint each, and
// commits once: group commit. On SQLite that goroutine is the only writer;
// reads use a separate pool. On PostgreSQL (Dialect.Direct) each write runs
// in its own transaction from the caller's goroutine: the server already
// flushes concurrent commits together, and batches holding row locks of
// many accounts would deadlock with other nodes' batches.
//
// Lock order (PostgreSQL): a request that changes an account locks the
// account's row first (writeAccount, or all of a delivery's accounts in id
// order), then that account's mailboxes and messages.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"freehold/internal/store"
)

// Config is the input of New.
type Config struct {
	Dialect Dialect
	// Writer runs every write transaction. For SQLite it must hold a
	// single connection whose transactions begin IMMEDIATE.
	Writer *sql.DB
	// Reader serves reads; it may be the same pool as Writer.
	Reader *sql.DB
	// CacheStatements keeps prepared statements per query (for drivers
	// without their own statement cache).
	CacheStatements bool
	// MaxBatch caps how many write requests share one transaction
	// (default 128).
	MaxBatch int
	// SkipMigrations leaves the schema as it is (for an administrator who
	// migrates explicitly with Migrate).
	SkipMigrations bool
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
	// Background, when set, runs beside the committer until Close, which
	// cancels its context and waits for it before closing the pools (the
	// SQLite engine checkpoints its WAL there).
	Background func(ctx context.Context)
}

// Store is the SQL implementation of store.Store and store.Maintenance.
type Store struct {
	d        Dialect
	w, r     *db
	now      func() time.Time
	log      *slog.Logger
	broker   *broker
	maxBatch int

	reqs chan *request // to the committer
	done chan struct{} // closed when the committer has exited

	stopBackground context.CancelFunc
	background     sync.WaitGroup // Config.Background running

	mu       sync.RWMutex // guards closed; read-held while sending on reqs or adding to inflight
	closed   bool
	inflight sync.WaitGroup // Direct writes running
}

var (
	_ store.Store       = (*Store)(nil)
	_ store.Maintenance = (*Store)(nil)
)

// New migrates the database to the latest schema (unless told not to) and
// starts the committer. Close releases both pools.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Writer == nil || cfg.Reader == nil {
		return nil, errors.New("sqlstore: Writer and Reader are required")
	}
	rb := &rebinder{numbered: cfg.Dialect.Numbered}
	s := &Store{
		d:        cfg.Dialect,
		w:        newDB(cfg.Writer, rb, cfg.CacheStatements),
		now:      cfg.Now,
		log:      cfg.Logger,
		broker:   newBroker(),
		maxBatch: cfg.MaxBatch,
		reqs:     make(chan *request, 1024),
		done:     make(chan struct{}),
	}
	if cfg.Reader == cfg.Writer {
		s.r = s.w
	} else {
		s.r = newDB(cfg.Reader, rb, cfg.CacheStatements)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.maxBatch <= 0 {
		s.maxBatch = 128
	}
	if !cfg.SkipMigrations {
		if err := s.Migrate(ctx, Latest); err != nil {
			return nil, err
		}
	}
	go s.commitLoop()
	bctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.stopBackground = cancel
	if cfg.Background != nil {
		s.background.Go(func() { cfg.Background(bctx) })
	}
	return s, nil
}

// Close stops accepting writes, waits for the pending ones to commit, and
// closes the database. Listen channels are closed.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return store.ErrClosed
	}
	s.closed = true
	close(s.reqs)
	s.mu.Unlock()
	<-s.done
	s.inflight.Wait()
	s.stopBackground()
	s.background.Wait()
	s.broker.closeAll()
	err := s.w.close()
	if s.r != s.w {
		err = errors.Join(err, s.r.close())
	}
	return err
}

// read returns a runner on the reader pool.
func (s *Store) read() runner { return runner{d: s.r} }

// readTx runs fn in a read-only transaction, for reads that must see one
// consistent snapshot across several queries.
func (s *Store) readTx(ctx context.Context, fn func(r runner) error) error {
	opts := &sql.TxOptions{ReadOnly: true}
	if s.d.Numbered {
		// PostgreSQL: one snapshot for the whole transaction.
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := s.r.sql.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(runner{d: s.r, tx: tx}); err != nil {
		return err
	}
	return tx.Commit()
}

// notFound wraps store.ErrNotFound with what was not found.
func notFound(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), store.ErrNotFound)
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), store.ErrInvalid)
}

// uniqueErr maps a unique constraint violation to store.ErrExists.
func (s *Store) uniqueErr(err error, what string) error {
	if err != nil && s.d.IsUniqueViolation != nil && s.d.IsUniqueViolation(err) {
		return fmt.Errorf("%s: %w", what, store.ErrExists)
	}
	return err
}

// Publish announces that acct reached modseq, to this store's Listen
// channels. The postgres package calls it for changes committed by other
// nodes; announcements that are not newer than what was seen are dropped.
func (s *Store) Publish(acct store.AccountID, modseq store.ModSeq) {
	s.broker.publish(acct, modseq)
}

// ListenedAccounts returns the accounts that have Listen channels open, so
// that a node reconnecting to the notification channel can catch up.
func (s *Store) ListenedAccounts() []store.AccountID {
	return s.broker.accounts()
}
