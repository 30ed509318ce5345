// Package postgres opens Freehold's store on PostgreSQL, for scaled mode:
// many stateless nodes sharing one database. The SQL lives in sqlstore.
//
// Besides the store, each node keeps one connection that LISTENs on
// sqlstore.NotifyChannel: every write transaction NOTIFYs the accounts it
// changed, so a node's Listen channels also wake for changes committed by
// the other nodes.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"freehold/internal/store"
	"freehold/internal/store/sqlstore"
)

// Options tune Open.
type Options struct {
	// MaxConns caps the node's connection pool (default 16).
	MaxConns int
	// MaxBatch caps how many writes share one commit (default 128).
	MaxBatch int
	// SkipMigrations opens the database without migrating it.
	SkipMigrations bool
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Store is the PostgreSQL store: sqlstore plus the change listener.
type Store struct {
	*sqlstore.Store
	cancel context.CancelFunc
	done   chan struct{} // closed when the listener has stopped
	once   sync.Once
}

// Open connects to the database named by dsn (a PostgreSQL URL or
// key=value string), migrates it, and starts listening for other nodes'
// changes. The result also implements store.Maintenance.
func Open(ctx context.Context, dsn string, opts Options) (store.Store, error) {
	s, err := OpenStore(ctx, dsn, opts)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// OpenStore is Open returning the concrete type.
func OpenStore(ctx context.Context, dsn string, opts Options) (*Store, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	db := stdlib.OpenDB(*cfg)
	n := opts.MaxConns
	if n <= 0 {
		n = 16
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	inner, err := sqlstore.New(ctx, sqlstore.Config{
		Dialect:        Dialect(),
		Writer:         db,
		Reader:         db,
		MaxBatch:       opts.MaxBatch,
		SkipMigrations: opts.SkipMigrations,
		Now:            opts.Now,
		Logger:         log,
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	lctx, cancel := context.WithCancel(context.Background())
	s := &Store{Store: inner, cancel: cancel, done: make(chan struct{})}
	l := &listener{cfg: cfg, s: inner, log: log}
	ready := make(chan error, 1)
	go func() {
		defer close(s.done)
		l.run(lctx, ready)
	}()
	select {
	case err = <-ready:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("postgres: listening for changes: %w", err)
	}
	return s, nil
}

// Close stops the listener, waits for pending commits and closes the pool.
func (s *Store) Close() error {
	err := store.ErrClosed
	s.once.Do(func() {
		s.cancel()
		<-s.done
		err = s.Store.Close()
	})
	return err
}

// Dialect is sqlstore's description of PostgreSQL.
func Dialect() sqlstore.Dialect {
	return sqlstore.Dialect{
		Name:              "postgres",
		Numbered:          true,
		IsUniqueViolation: func(err error) bool { return pgCode(err) == "23505" },
		// Deadlocks and serialization failures happen between nodes
		// writing the same rows; the request is simply run again.
		IsRetryable:   func(err error) bool { c := pgCode(err); return c == "40P01" || c == "40001" },
		Notify:        true,
		Direct:        true,
		LockAccount:   "SELECT id FROM accounts WHERE id = ? FOR UPDATE",
		MigrationLock: "SELECT pg_advisory_xact_lock(7236001)",
	}
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// listener forwards NOTIFY payloads "account:modseq" to the store's Listen
// channels, reconnecting when its connection drops.
type listener struct {
	cfg *pgx.ConnConfig
	s   *sqlstore.Store
	log *slog.Logger
}

// run listens until ctx ends. It reports on ready whether the first
// LISTEN succeeded; later failures are retried with backoff.
func (l *listener) run(ctx context.Context, ready chan<- error) {
	backoff := 100 * time.Millisecond
	first := true
	for ctx.Err() == nil {
		conn, err := l.connect(ctx)
		if first {
			ready <- err
			first = false
			if err != nil {
				return
			}
		}
		if err == nil {
			backoff = 100 * time.Millisecond
			// Notifications sent while this node was not listening are
			// lost: announce the current state of every listened
			// account (the broker drops what is not new).
			l.catchUp(ctx)
			err = l.receive(ctx, conn)
			conn.Close(context.Background())
		}
		if ctx.Err() != nil {
			return
		}
		l.log.Warn("postgres change listener interrupted", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (l *listener) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, l.cfg)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+sqlstore.NotifyChannel); err != nil {
		conn.Close(context.Background())
		return nil, err
	}
	return conn, nil
}

func (l *listener) catchUp(ctx context.Context) {
	for _, acct := range l.s.ListenedAccounts() {
		if m, err := l.s.HighestModSeq(ctx, acct); err == nil {
			l.s.Publish(acct, m)
		}
	}
}

func (l *listener) receive(ctx context.Context, conn *pgx.Conn) error {
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		acct, modseq, ok := parsePayload(n.Payload)
		if !ok {
			l.log.Warn("bad change notification", "payload", n.Payload)
			continue
		}
		l.s.Publish(acct, modseq)
	}
}

func parsePayload(p string) (store.AccountID, store.ModSeq, bool) {
	a, m, ok := strings.Cut(p, ":")
	if !ok {
		return 0, 0, false
	}
	acct, err1 := strconv.ParseInt(a, 10, 64)
	modseq, err2 := strconv.ParseInt(m, 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return store.AccountID(acct), store.ModSeq(modseq), true
}
