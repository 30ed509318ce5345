package fs

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"freehold/internal/blob"
	"freehold/internal/blob/blobtest"
	"freehold/internal/store"
	"freehold/internal/store/sqlite"
)

// openRows opens the database that keeps small blobs, in dir.
func openRows(t testing.TB, dir string) store.Store {
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "meta.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func openWith(t testing.TB, dir string, rows store.BlobRows) *Store {
	s, err := Open(context.Background(), dir, rows)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// open opens a store in dir with its rows in a database in dir too, so
// that a second open of dir sees what the first stored.
func open(t testing.TB, dir string) *Store {
	return openWith(t, dir, openRows(t, dir))
}

// openFiles opens a store that keeps every blob in a file, so that the
// file path is tested with small blobs too.
func openFiles(t testing.TB, dir string) *Store {
	s := open(t, dir)
	s.rowMax = -1
	return s
}

func TestConformance(t *testing.T) {
	t.Run("rows", func(t *testing.T) {
		blobtest.Run(t, func(t *testing.T) blob.Store { return open(t, t.TempDir()) })
	})
	t.Run("files", func(t *testing.T) {
		blobtest.Run(t, func(t *testing.T) blob.Store { return openFiles(t, t.TempDir()) })
	})
}

// TestRows checks that small blobs go to rows, big ones to files, and
// that both are found again by a new store on the same directory.
func TestRows(t *testing.T) {
	dir := t.TempDir()
	rows := openRows(t, dir)
	s := openWith(t, dir, rows)
	ctx := context.Background()
	small := []byte("Subject: small\r\n\r\nhello\r\n")
	big := make([]byte, 600<<10)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range big {
		big[i] = byte(rng.Uint32()) // incompressible: stays above the row limit
	}
	sid, _, err := s.Put(ctx, bytes.NewReader(small))
	if err != nil {
		t.Fatal(err)
	}
	bid, _, err := s.Put(ctx, bytes.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, sid[:2], sid[2:4], sid+".zst")); err == nil {
		t.Error("small blob written as a file")
	}
	if _, err := os.Stat(filepath.Join(dir, bid[:2], bid[2:4], bid+".zst")); err != nil {
		t.Errorf("big blob not in a file: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := rows.BlobRow(ctx, sid); !ok || err != nil {
		t.Errorf("small blob not in a row: %v", err)
	}
	s2 := openWith(t, dir, rows)
	for id, want := range map[string][]byte{sid: small, bid: big} {
		if got, err := blob.ReadAll(ctx, s2, id); err != nil || !bytes.Equal(got, want) {
			t.Errorf("reopened %s: %v", id[:8], err)
		}
	}
	if _, _, err := s.Put(ctx, bytes.NewReader(small)); err == nil {
		t.Error("Put on a closed store succeeded")
	}
}

func TestLayout(t *testing.T) {
	dir := t.TempDir()
	s := openFiles(t, dir)
	msg := []byte(strings.Repeat("Compressible line of a message.\r\n", 300))
	id, _, err := s.Put(context.Background(), bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, id[:2], id[2:4], id+".zst")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte{0x28, 0xb5, 0x2f, 0xfd}) {
		t.Fatalf("%s is not zstd", file)
	}
	if len(data) >= len(msg)/4 {
		t.Fatalf("stored %d bytes for %d compressible ones", len(data), len(msg))
	}
	// A second store on the same directory sees the blob, and removes
	// leftover temporary files.
	if err := os.WriteFile(filepath.Join(dir, "tmp", "leftover"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	s2 := openWith(t, dir, openRows(t, t.TempDir()))
	s2.rowMax = -1
	if got, err := blob.ReadAll(context.Background(), s2, id); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("reopened: %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(ents) != 0 {
		t.Fatalf("tmp not cleared: %v", ents)
	}
}

func TestCorruptBlob(t *testing.T) {
	dir := t.TempDir()
	s := openFiles(t, dir)
	id, _, err := s.Put(context.Background(), strings.NewReader("data"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, id[:2], id[2:4], id+".zst"), []byte("not zstd"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(context.Background(), id); err == nil {
		t.Fatal("corrupt blob opened without error")
	}
}

// BenchmarkPutParallel stores distinct 5 KB messages from parallel
// writers, each Put durable on return.
func BenchmarkPutParallel(b *testing.B) {
	b.Run("rows", func(b *testing.B) { benchPut(b, open(b, b.TempDir())) })
	b.Run("files", func(b *testing.B) { benchPut(b, openFiles(b, b.TempDir())) })
}

func benchPut(b *testing.B, s *Store) {
	base := bytes.Repeat([]byte("Received: from mx.example.net; a typical header line\r\n"), 5000/55)
	var n atomic.Int64
	b.SetBytes(int64(len(base) + 20))
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			msg := append(fmt.Appendf(nil, "X-Seq: %d\r\n", n.Add(1)), base...)
			if _, _, err := s.Put(context.Background(), bytes.NewReader(msg)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
