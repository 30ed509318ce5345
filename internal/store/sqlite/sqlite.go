// Package sqlite opens Freehold's store on an embedded SQLite database
// (modernc.org/sqlite, pure Go). The SQL lives in sqlstore; this package
// chooses the connection settings that make it durable and fast:
//
//   - WAL journal with synchronous=FULL: a commit is fsynced to the WAL
//     before it returns, so it survives power loss, not only a crash;
//   - one writer connection (transactions begin IMMEDIATE) fed by
//     sqlstore's group committer, and a pool of read-only readers that WAL
//     lets run beside it;
//   - foreign keys on, and a busy timeout for other processes (an
//     administrator's CLI) that open the same file.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"freehold/internal/store"
	"freehold/internal/store/sqlstore"
)

// Options tune Open. The zero value is right for production.
type Options struct {
	// Readers is the size of the read pool (default 4).
	Readers int
	// MaxBatch caps how many writes share one commit (default 128).
	MaxBatch int
	// SkipMigrations opens the database without migrating it, for an
	// administrator who then calls Migrate explicitly (to roll back).
	SkipMigrations bool
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// busyTimeout is how long a connection waits for a lock held by another
// process before failing.
const busyTimeout = 10 * time.Second

// Open opens (creating if needed) the database file at path and migrates it
// to the current schema. The result also implements store.Maintenance.
func Open(ctx context.Context, path string, opts Options) (store.Store, error) {
	s, err := OpenStore(ctx, path, opts)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// OpenStore is Open returning the concrete type.
func OpenStore(ctx context.Context, path string, opts Options) (*sqlstore.Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") || path == ":memory:" {
		return nil, fmt.Errorf("sqlite: unusable database path %q", path)
	}
	common := fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)", busyTimeout.Milliseconds())
	// The writer checkpoints the WAL once it holds 8,000 pages (32 MiB)
	// rather than SQLite's 1,000: a checkpoint copies each page it finds
	// once, and the pages every delivery touches (the ends of indexes,
	// accounts, mailboxes) recur, so fewer checkpoints write less (bench:
	// 85 -> 71 KiB written per message, +10% ingest). The copying itself
	// is mostly done beside the writer (checkpointer), so that the commit
	// that reaches 8,000 pages does not wait for all of it.
	writer, err := sql.Open("sqlite", path+"?"+common+
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=cache_size(-65536)&_pragma=temp_store(MEMORY)&_pragma=wal_autocheckpoint(8000)&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	// Open the writer first so that WAL mode is set before any reader.
	if err := writer.PingContext(ctx); err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	reader, err := sql.Open("sqlite", path+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		writer.Close()
		return nil, err
	}
	n := opts.Readers
	if n <= 0 {
		n = 4
	}
	reader.SetMaxOpenConns(n)
	reader.SetMaxIdleConns(n)
	ckpt, err := sql.Open("sqlite", path+"?"+common)
	if err != nil {
		writer.Close()
		reader.Close()
		return nil, err
	}
	ckpt.SetMaxOpenConns(1)
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	s, err := sqlstore.New(ctx, sqlstore.Config{
		Dialect:         Dialect(),
		Writer:          writer,
		Reader:          reader,
		CacheStatements: true,
		MaxBatch:        opts.MaxBatch,
		SkipMigrations:  opts.SkipMigrations,
		Now:             opts.Now,
		Logger:          opts.Logger,
		Background:      checkpointer(ckpt, log),
	})
	if err != nil {
		writer.Close()
		reader.Close()
		ckpt.Close()
		return nil, err
	}
	return s, nil
}

// Dialect is sqlstore's description of SQLite.
func Dialect() sqlstore.Dialect {
	return sqlstore.Dialect{
		Name:              "sqlite",
		IsUniqueViolation: isUniqueViolation,
	}
}

func isUniqueViolation(err error) bool {
	var e *msqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}
