// Package memblob is a blob.Store in memory: for tests, and for the
// ingest benchmark's diagnostic mode. It is not durable.
package memblob

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"

	"freehold/internal/blob"
)

// Store keeps blobs in a map. It is safe for concurrent use.
type Store struct {
	mu   sync.Mutex // guards m and puts
	m    map[blob.ID][]byte
	puts int
}

var _ blob.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store { return &Store{m: make(map[blob.ID][]byte)} }

// Put implements blob.Store.
func (s *Store) Put(ctx context.Context, r io.Reader) (blob.ID, int64, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return "", 0, fmt.Errorf("memblob: reading blob: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return "", 0, err
	}
	id := blob.Sum(data)
	s.mu.Lock()
	s.m[id] = data
	s.puts++
	s.mu.Unlock()
	return id, int64(len(data)), nil
}

// Open implements blob.Store.
func (s *Store) Open(_ context.Context, id blob.ID) (io.ReadCloser, error) {
	s.mu.Lock()
	data, ok := s.m[id]
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("memblob: %s: %w", id, blob.ErrNotFound)
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

// Delete implements blob.Store.
func (s *Store) Delete(_ context.Context, id blob.ID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[id]; !ok {
		return fmt.Errorf("memblob: %s: %w", id, blob.ErrNotFound)
	}
	delete(s.m, id)
	return nil
}

// Puts returns how many times Put was called, so that a test can tell
// that a message meant for several recipients was stored once.
func (s *Store) Puts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.puts
}

// Len returns the number of blobs stored.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}
