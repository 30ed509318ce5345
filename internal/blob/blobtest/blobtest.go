// Package blobtest is the conformance suite every blob.Store passes.
package blobtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"freehold/internal/blob"
)

// Run runs the suite; open returns a new, empty store for each test.
func Run(t *testing.T, open func(t *testing.T) blob.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s blob.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"Dedup", testDedup},
		{"Empty", testEmpty},
		{"Large", testLarge},
		{"NotFound", testNotFound},
		{"BadIDs", testBadIDs},
		{"Delete", testDelete},
		{"ReaderError", testReaderError},
		{"Concurrent", testConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

func put(t *testing.T, s blob.Store, b []byte) blob.ID {
	t.Helper()
	id, n, err := s.Put(ctx(t), bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if id != blob.Sum(b) || n != int64(len(b)) {
		t.Fatalf("Put = %s, %d; want %s, %d", id, n, blob.Sum(b), len(b))
	}
	return id
}

func get(t *testing.T, s blob.Store, id blob.ID) []byte {
	t.Helper()
	b, err := blob.ReadAll(ctx(t), s, id)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testRoundTrip(t *testing.T, s blob.Store) {
	msg := []byte("From: a@example.org\r\nSubject: hi\r\n\r\n" + strings.Repeat("body line\r\n", 200))
	id := put(t, s, msg)
	if got := get(t, s, id); !bytes.Equal(got, msg) {
		t.Fatalf("read back %d bytes, want %d", len(got), len(msg))
	}
}

func testDedup(t *testing.T, s blob.Store) {
	msg := []byte("same bytes")
	id1 := put(t, s, msg)
	id2 := put(t, s, msg)
	if id1 != id2 {
		t.Fatalf("ids differ: %s %s", id1, id2)
	}
	if got := get(t, s, id1); !bytes.Equal(got, msg) {
		t.Fatalf("got %q", got)
	}
}

func testEmpty(t *testing.T, s blob.Store) {
	id := put(t, s, nil)
	if got := get(t, s, id); len(got) != 0 {
		t.Fatalf("empty blob read back as %d bytes", len(got))
	}
}

func testLarge(t *testing.T, s blob.Store) {
	b := make([]byte, 3<<20)
	rand.Read(b[:1<<20]) // incompressible part, then zeros
	id := put(t, s, b)
	if got := get(t, s, id); !bytes.Equal(got, b) {
		t.Fatal("large blob differs")
	}
}

func testNotFound(t *testing.T, s blob.Store) {
	id := blob.Sum([]byte("never stored"))
	if _, err := s.Open(ctx(t), id); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Open unknown: %v", err)
	}
	if err := s.Delete(ctx(t), id); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Delete unknown: %v", err)
	}
}

func testBadIDs(t *testing.T, s blob.Store) {
	put(t, s, []byte("x"))
	for _, id := range []string{"", "../../../../etc/passwd", "..", "tmp", strings.Repeat("A", 64),
		strings.Repeat("a", 63), strings.Repeat("a", 62) + "/.", blob.Sum([]byte("x")) + "/"} {
		if _, err := s.Open(ctx(t), id); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Open(%q): %v", id, err)
		}
		if err := s.Delete(ctx(t), id); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Delete(%q): %v", id, err)
		}
	}
}

func testDelete(t *testing.T, s blob.Store) {
	keep := put(t, s, []byte("keep"))
	gone := put(t, s, []byte("gone"))
	if err := s.Delete(ctx(t), gone); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(ctx(t), gone); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Open after Delete: %v", err)
	}
	if got := get(t, s, keep); string(got) != "keep" {
		t.Fatalf("other blob: %q", got)
	}
	// Putting it again brings it back.
	put(t, s, []byte("gone"))
	get(t, s, gone)
}

type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, errors.New("connection reset")
	}
	n := min(len(p), r.n)
	r.n -= n
	return n, nil
}

func testReaderError(t *testing.T, s blob.Store) {
	if _, _, err := s.Put(ctx(t), &failingReader{n: 1000}); err == nil {
		t.Fatal("Put succeeded on a failing reader")
	}
}

func testConcurrent(t *testing.T, s blob.Store) {
	const n = 32
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			// Half the writers store the same bytes.
			b := []byte(fmt.Sprintf("blob %d", i%(n/2)))
			id, _, err := s.Put(ctx(t), bytes.NewReader(b))
			if err != nil {
				t.Error(err)
				return
			}
			rc, err := s.Open(ctx(t), id)
			if err != nil {
				t.Error(err)
				return
			}
			defer rc.Close()
			got, err := io.ReadAll(rc)
			if err != nil || !bytes.Equal(got, b) {
				t.Errorf("read back %q, %v; want %q", got, err, b)
			}
		})
	}
	wg.Wait()
}
