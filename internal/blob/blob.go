// Package blob defines the store of message bodies: immutable,
// content-addressed, compressed. Implementations: fs (a local directory)
// and, in scaled mode, s3. All pass blobtest.
package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
)

// ErrNotFound is returned by Open and Delete for an unknown id.
var ErrNotFound = errors.New("blob not found")

// ID is the content address of a blob: the lower-case hex SHA-256 of its
// raw (uncompressed) bytes.
type ID = string

// Store keeps blobs. Blobs are immutable: putting the same bytes twice
// stores them once and returns the same ID.
type Store interface {
	// Put reads r to the end, stores its bytes and returns their ID and
	// length. It returns only after the blob is durable (fsynced);
	// implementations may batch syncs of concurrent Puts.
	Put(ctx context.Context, r io.Reader) (ID, int64, error)
	// Open returns the raw bytes of a blob.
	Open(ctx context.Context, id ID) (io.ReadCloser, error)
	// Delete removes a blob. Only the garbage collector calls it.
	Delete(ctx context.Context, id ID) error
}

// Sum returns the ID of b.
func Sum(b []byte) ID {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// ValidID reports whether s has the form of an ID, so that an ID coming
// from a client can never name a path outside the store.
func ValidID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// ReadAll reads a whole blob.
func ReadAll(ctx context.Context, s Store, id ID) ([]byte, error) {
	rc, err := s.Open(ctx, id)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}
