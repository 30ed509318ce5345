// Package fs stores blobs compressed with zstd: small ones (most
// messages) as rows of the metadata database (store.BlobRows), larger ones
// as files at <dir>/ab/cd/<id>.zst in a local directory, where ab and cd
// are the first hex digits of the id.
//
// Rows share the database's group commit, and a delivery writes its
// message's body in the same transaction as the message (blob.Inliner):
// one flush of the disk for both. A file costs no more than its writing
// once a blob is large.
//
// For a file, a Put writes a temporary file in <dir>/tmp, fsyncs it, renames it into
// place and fsyncs the directory that now names it, so a blob is durable
// when Put returns. Directory fsyncs are shared: Puts that land in the same
// directory while a sync of it runs are covered by one following sync.
package fs

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"

	"freehold/internal/blob"
	"freehold/internal/store"
)

// maxDecoded bounds what one blob may decompress to, so that a corrupted
// or hostile file cannot exhaust memory.
const maxDecoded = 1 << 30

// Store is a blob.Store in a directory. It is safe for concurrent use.
type Store struct {
	dir  string
	tmp  string
	enc  *zstd.Encoder // EncodeAll is safe for concurrent use
	dec  *zstd.Decoder // DecodeAll is safe for concurrent use
	sync *dirSyncer
	rows store.BlobRows
	// rowMax is the largest compressed size kept as a row.
	rowMax int
	closed atomic.Bool
}

// DefaultRowMax is the largest compressed blob kept as a database row;
// larger ones go to files, where their size, not the flush, is the cost.
const DefaultRowMax = 256 << 10

var _ blob.Inliner = (*Store)(nil)

// Open opens the store in dir, creating it if needed, with its small blobs
// in rows. It removes temporary files left by an interrupted Put, and
// moves the blobs of a pack.db left by an earlier version into rows.
func Open(ctx context.Context, dir string, rows store.BlobRows) (*Store, error) {
	if rows == nil {
		return nil, errors.New("blob/fs: no database for small blobs")
	}
	tmp := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return nil, fmt.Errorf("blob/fs: %w", err)
	}
	if err := clearDir(tmp); err != nil {
		return nil, fmt.Errorf("blob/fs: clearing %s: %w", tmp, err)
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault))
	if err != nil {
		return nil, err
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(maxDecoded), zstd.WithDecoderConcurrency(0))
	if err != nil {
		return nil, err
	}
	if err := importPack(ctx, filepath.Join(dir, "pack.db"), rows); err != nil {
		return nil, err
	}
	return &Store{dir: dir, tmp: tmp, enc: enc, dec: dec, sync: newDirSyncer(), rows: rows, rowMax: DefaultRowMax}, nil
}

// Close releases the store; the database of rows stays open (its owner
// closes it).
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.dec.Close()
	return s.enc.Close()
}

var errClosed = errors.New("blob/fs: store closed")

// Encode implements blob.Inliner.
func (s *Store) Encode(raw []byte) (blob.ID, []byte, bool) {
	data := s.enc.EncodeAll(raw, make([]byte, 0, len(raw)/2+64))
	return blob.Sum(raw), data, len(data) <= s.rowMax
}

func clearDir(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// path returns the blob's file and the directory holding it.
func (s *Store) path(id blob.ID) (file, dir string) {
	dir = filepath.Join(s.dir, id[0:2], id[2:4])
	return filepath.Join(dir, id+".zst"), dir
}

// Put implements blob.Store.
func (s *Store) Put(ctx context.Context, r io.Reader) (blob.ID, int64, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return "", 0, fmt.Errorf("blob/fs: reading blob: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return "", 0, err
	}
	if s.closed.Load() {
		return "", 0, errClosed
	}
	id, data, inline := s.Encode(raw)
	if inline {
		if err := s.rows.PutBlobs(ctx, []store.BlobRow{{ID: id, Data: data}}); err != nil {
			return "", 0, fmt.Errorf("blob/fs: %w", err)
		}
		return id, int64(len(raw)), nil
	}
	return id, int64(len(raw)), s.PutEncoded(ctx, id, data)
}

// PutEncoded implements blob.Inliner: it writes a blob too large for a
// row to its file.
func (s *Store) PutEncoded(ctx context.Context, id blob.ID, data []byte) error {
	if s.closed.Load() {
		return errClosed
	}
	file, dir := s.path(id)
	if _, err := os.Stat(file); err == nil {
		// Stored already, and fsynced before it was renamed; its
		// directory entry may be from a Put whose directory sync has not
		// finished yet, so wait for one.
		return s.sync.sync(dir)
	}
	if err := s.ensureDir(dir); err != nil {
		return err
	}
	if err := s.writeFile(file, data); err != nil {
		return err
	}
	if err := s.sync.sync(dir); err != nil {
		return fmt.Errorf("blob/fs: syncing %s: %w", dir, err)
	}
	return nil
}

// writeFile writes data to a temporary file, fsyncs it and renames it to
// file.
func (s *Store) writeFile(file string, data []byte) error {
	var rnd [12]byte
	rand.Read(rnd[:])
	tmp := filepath.Join(s.tmp, hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("blob/fs: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, file)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("blob/fs: writing %s: %w", file, err)
	}
	return nil
}

// ensureDir creates the blob's two directory levels if needed, and
// fsyncs the parents of those it created so the new names are durable.
func (s *Store) ensureDir(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	mid := filepath.Dir(dir)
	_, midErr := os.Stat(mid)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("blob/fs: %w", err)
	}
	if midErr != nil {
		if err := s.sync.sync(s.dir); err != nil {
			return err
		}
	}
	return s.sync.sync(mid)
}

// Open implements blob.Store.
func (s *Store) Open(ctx context.Context, id blob.ID) (io.ReadCloser, error) {
	if !blob.ValidID(id) {
		return nil, fmt.Errorf("blob/fs: bad id %q: %w", id, blob.ErrNotFound)
	}
	data, ok, err := s.rows.BlobRow(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("blob/fs: %w", err)
	}
	if !ok {
		file, _ := s.path(id)
		data, err = os.ReadFile(file)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob/fs: %s: %w", id, blob.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("blob/fs: %w", err)
	}
	raw, err := s.dec.DecodeAll(data, nil)
	if err != nil {
		return nil, fmt.Errorf("blob/fs: decoding %s: %w", id, err)
	}
	return io.NopCloser(bytes.NewReader(raw)), nil
}

// Delete implements blob.Store. The removal is not fsynced: if it is lost
// in a crash, the collector removes the blob again later.
func (s *Store) Delete(ctx context.Context, id blob.ID) error {
	if !blob.ValidID(id) {
		return fmt.Errorf("blob/fs: bad id %q: %w", id, blob.ErrNotFound)
	}
	if ok, err := s.rows.DeleteBlobRow(ctx, id); err != nil || ok {
		return err
	}
	file, _ := s.path(id)
	err := os.Remove(file)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blob/fs: %s: %w", id, blob.ErrNotFound)
	}
	return err
}
