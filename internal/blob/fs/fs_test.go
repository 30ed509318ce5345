package fs

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"freehold/internal/blob"
	"freehold/internal/blob/blobtest"
)

func open(t testing.TB, dir string) *Store {
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return open(t, t.TempDir()) })
}

func TestLayout(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
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
	s2 := open(t, dir)
	if got, err := blob.ReadAll(context.Background(), s2, id); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("reopened: %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(ents) != 0 {
		t.Fatalf("tmp not cleared: %v", ents)
	}
}

func TestCorruptBlob(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
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
	s := open(b, b.TempDir())
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
