package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"freehold/internal/store"
)

var _ store.BlobRows = (*Store)(nil)

// PutBlobs implements store.BlobRows.
func (s *Store) PutBlobs(ctx context.Context, rows []store.BlobRow) error {
	if len(rows) == 0 {
		return nil
	}
	return s.write(ctx, func(w *wtx) error { return w.putBlobs(rows) })
}

// putBlobs writes rows in the request's transaction. An id already
// stored keeps its bytes: ids are content addresses, so they are the same.
func (w *wtx) putBlobs(rows []store.BlobRow) error {
	for _, b := range rows {
		if b.ID == "" {
			return invalid("blob row without id")
		}
		if _, err := w.exec("INSERT INTO blob_rows (id, data) VALUES (?, ?) ON CONFLICT (id) DO NOTHING", b.ID, b.Data); err != nil {
			return err
		}
	}
	return nil
}

// BlobRow implements store.BlobRows.
func (s *Store) BlobRow(ctx context.Context, id string) ([]byte, bool, error) {
	var data []byte
	err := s.read().queryRow(ctx, "SELECT data FROM blob_rows WHERE id = ?", id).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return data, true, nil
}

// DeleteBlobRow implements store.BlobRows.
func (s *Store) DeleteBlobRow(ctx context.Context, id string) (bool, error) {
	var n int64
	err := s.write(ctx, func(w *wtx) error {
		var err error
		n, err = w.execN("DELETE FROM blob_rows WHERE id = ?", id)
		return err
	})
	return n > 0, err
}
