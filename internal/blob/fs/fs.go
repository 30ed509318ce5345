// Package fs stores blobs in a local directory, compressed with zstd.
// Small blobs (most messages) are kept in <dir>/pack.db, a database whose
// single writer commits concurrent Puts together (see pack). Larger ones
// are files at <dir>/ab/cd/<id>.zst, where ab and cd are the first hex
// digits of the id.
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

	"github.com/klauspost/compress/zstd"

	"freehold/internal/blob"
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
	pack *pack
	// packMax is the largest compressed size kept in the pack.
	packMax int
}

// DefaultPackMax is the largest compressed blob kept in the pack; larger
// ones go to files, where their size, not the flush, is the cost.
const DefaultPackMax = 256 << 10

var _ blob.Store = (*Store)(nil)

// Open opens the store in dir, creating it if needed, and removes
// temporary files left by an interrupted Put.
func Open(dir string) (*Store, error) {
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
	p, err := openPack(filepath.Join(dir, "pack.db"))
	if err != nil {
		return nil, err
	}
	return &Store{dir: dir, tmp: tmp, enc: enc, dec: dec, sync: newDirSyncer(), pack: p, packMax: DefaultPackMax}, nil
}

// Close waits for Puts in progress and releases the store.
func (s *Store) Close() error {
	err := s.pack.close()
	s.dec.Close()
	return errors.Join(err, s.enc.Close())
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
	id := blob.Sum(raw)
	data := s.enc.EncodeAll(raw, make([]byte, 0, len(raw)/2+64))
	if len(data) <= s.packMax {
		if err := s.pack.put(ctx, id, data); err != nil {
			return "", 0, err
		}
		return id, int64(len(raw)), nil
	}
	file, dir := s.path(id)
	if _, err := os.Stat(file); err == nil {
		// Stored already, and fsynced before it was renamed; its
		// directory entry may be from a Put whose directory sync has not
		// finished yet, so wait for one.
		return id, int64(len(raw)), s.sync.sync(dir)
	}
	if err := s.ensureDir(dir); err != nil {
		return "", 0, err
	}
	if err := s.writeFile(file, data); err != nil {
		return "", 0, err
	}
	if err := s.sync.sync(dir); err != nil {
		return "", 0, fmt.Errorf("blob/fs: syncing %s: %w", dir, err)
	}
	return id, int64(len(raw)), nil
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
	data, ok, err := s.pack.get(ctx, id)
	if err != nil {
		return nil, err
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
	if ok, err := s.pack.remove(ctx, id); err != nil || ok {
		return err
	}
	file, _ := s.path(id)
	err := os.Remove(file)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blob/fs: %s: %w", id, blob.ErrNotFound)
	}
	return err
}
