package sqlite_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"freehold/internal/store"
	"freehold/internal/store/sqlite"
)

// TestBackgroundCheckpoint checks that committed pages reach the database
// file without the writer's own checkpoint, which waits for 8,000 pages
// (32 MiB) of WAL: a few MiB written show up in the file within seconds.
func TestBackgroundCheckpoint(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ckpt.db")
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	// Let the checkpointer copy the schema first, then measure from there.
	time.Sleep(500 * time.Millisecond)
	before := size()
	const n, each = 64, 64 << 10 // 4 MiB of incompressible rows
	for i := range n {
		data := make([]byte, each)
		rand.Read(data)
		if err := s.PutBlobs(ctx, []store.BlobRow{{ID: fmt.Sprintf("blob-%d", i), Data: data}}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for size() < before+n*each*3/4 {
		if time.Now().After(deadline) {
			t.Fatalf("database file at %d bytes, %d before 4 MiB of commits: nothing was checkpointed", size(), before)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
