package fs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"freehold/internal/store"
)

// importChunk is how many blobs one transaction of the import carries.
const importChunk = 256

// importPack moves the blobs of a pack.db, where an earlier version kept
// small blobs, into rows, then removes it. Rows are written before the
// file goes, and writing a row twice keeps the first, so an import cut
// short is simply done again at the next start.
func importPack(ctx context.Context, path string, rows store.BlobRows) error {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("blob/fs: %s: %w", path, err)
	}
	err = copyPack(ctx, db, rows)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("blob/fs: importing %s: %w", path, err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

func copyPack(ctx context.Context, db *sql.DB, rows store.BlobRows) error {
	var hasTable int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE name = 'blobs'").Scan(&hasTable); err != nil {
		return err
	}
	if hasTable == 0 {
		return nil
	}
	after := ""
	for {
		batch, err := packChunk(ctx, db, after)
		if err != nil || len(batch) == 0 {
			return err
		}
		if err := rows.PutBlobs(ctx, batch); err != nil {
			return err
		}
		after = batch[len(batch)-1].ID
	}
}

// packChunk reads the next importChunk blobs after the id after.
func packChunk(ctx context.Context, db *sql.DB, after string) ([]store.BlobRow, error) {
	rs, err := db.QueryContext(ctx, "SELECT id, data FROM blobs WHERE id > ? ORDER BY id LIMIT ?", after, importChunk)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []store.BlobRow
	for rs.Next() {
		var b store.BlobRow
		if err := rs.Scan(&b.ID, &b.Data); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rs.Err()
}
