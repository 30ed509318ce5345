package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"

	_ "modernc.org/sqlite"

	"freehold/internal/store"
)

// openTest opens a store on SQLite directly (the sqlite package imports
// this one, so its tests cannot be used here).
func openTest(t *testing.T) *Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "t.db")
	w, err := sql.Open("sqlite", path+"?_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=busy_timeout(5000)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	w.SetMaxOpenConns(1)
	r, err := sql.Open("sqlite", path+"?_pragma=foreign_keys(1)&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(context.Background(), Config{Dialect: Dialect{Name: "sqlite"}, Writer: w, Reader: r, CacheStatements: true,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestBatchIsolation runs failing, panicking and succeeding requests
// together: each gets its own result, and only the successful ones are
// committed.
func TestBatchIsolation(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if err := s.AddDomain(ctx, "example.org"); err != nil {
		t.Fatal(err)
	}
	const n = 60
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = s.write(ctx, func(w *wtx) error {
				if _, err := w.exec("INSERT INTO domains (name, created) VALUES (?, 0)", fmt.Sprintf("d%d.example", i)); err != nil {
					return err
				}
				switch i % 3 {
				case 1:
					return errors.New("refused")
				case 2:
					panic("bad request")
				}
				return nil
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if (i%3 == 0) != (err == nil) {
			t.Errorf("request %d: %v", i, err)
		}
		ok, herr := s.HasDomain(ctx, fmt.Sprintf("d%d.example", i))
		if herr != nil {
			t.Fatal(herr)
		}
		if ok != (i%3 == 0) {
			t.Errorf("request %d: domain stored = %v", i, ok)
		}
	}
}

// TestCloseDrains closes the store while writes are queued: each write
// either committed or reported ErrClosed, never lost silently.
func TestCloseDrains(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	const n = 200
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = s.AddDomain(ctx, fmt.Sprintf("d%d.example", i)) })
	}
	s.Close()
	wg.Wait()
	committed := 0
	for i, err := range errs {
		switch {
		case err == nil:
			committed++
		case !errors.Is(err, store.ErrClosed):
			t.Errorf("write %d: %v", i, err)
		}
	}
	if err := s.Close(); !errors.Is(err, store.ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
	t.Logf("%d of %d writes committed before Close", committed, n)
}

// TestMigrateRoundTrip rolls the schema back to nothing and forward again:
// every migration has a working down file.
func TestMigrateRoundTrip(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	top, err := s.SchemaVersion(ctx)
	if err != nil || top < 1 {
		t.Fatalf("SchemaVersion = %d, %v", top, err)
	}
	ms, err := loadMigrations("sqlite")
	if err != nil {
		t.Fatal(err)
	}
	for i := len(ms) - 2; i >= -1; i-- {
		target := 0
		if i >= 0 {
			target = ms[i].version
		}
		if err := s.Migrate(ctx, target); err != nil {
			t.Fatalf("down to %d: %v", target, err)
		}
		if v, _ := s.SchemaVersion(ctx); v != target {
			t.Fatalf("at %d after migrating down to %d", v, target)
		}
	}
	if err := s.Migrate(ctx, Latest); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.SchemaVersion(ctx); v != top {
		t.Fatalf("at %d after migrating up, want %d", v, top)
	}
	if err := s.Migrate(ctx, 9999); err == nil {
		t.Fatal("migrating to an unknown version succeeded")
	}
}

func TestRebind(t *testing.T) {
	r := &rebinder{numbered: true}
	if got := r.rebind("SELECT a FROM t WHERE b = ? AND c IN (?, ?)"); got != "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)" {
		t.Fatal(got)
	}
	if got := (&rebinder{}).rebind("x = ?"); got != "x = ?" {
		t.Fatal(got)
	}
}
