package store

import "context"

// BlobRows keeps small blobs in the database itself, next to the rows
// that refer to them. The blob store (internal/blob/fs) puts blobs up to
// a few hundred KiB here and larger ones in files: a message and its body
// can then commit in one transaction (Delivery.Blobs), where a separate
// store would cost a second flush of the disk, and every node that shares
// the database sees them.
//
// The bytes are opaque to the store: the blob store's stored form
// (compressed). Rows are immutable; putting an id again keeps the first.
type BlobRows interface {
	// PutBlobs stores the rows in one transaction and returns once it is
	// committed.
	PutBlobs(ctx context.Context, rows []BlobRow) error
	// BlobRow returns the bytes stored under id; ok is false when there
	// is no such row.
	BlobRow(ctx context.Context, id string) (data []byte, ok bool, err error)
	// DeleteBlobRow removes the row of id and reports whether there was
	// one. Only the garbage collector calls it.
	DeleteBlobRow(ctx context.Context, id string) (bool, error)
}

// BlobRow is one blob as BlobRows keeps it.
type BlobRow struct {
	ID   string // the blob's content address (blob.ID)
	Data []byte
}
