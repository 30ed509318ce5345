package blob

import "context"

// Inliner is a Store whose small blobs live in the metadata database
// (store.BlobRows), so that a caller about to write rows that refer to a
// blob can write the blob in the same transaction instead of calling Put
// first: one commit instead of two.
//
// Encode returns raw's id and stored form. When inline is true, the caller
// may write (id, data) as a store.BlobRow in that transaction
// (store.Delivery.Blobs); the blob is then durable exactly when the
// transaction commits, and Open finds it. When inline is false the caller
// stores it with PutEncoded, which returns once it is durable (as Put
// would, without encoding raw again).
type Inliner interface {
	Store
	Encode(raw []byte) (id ID, data []byte, inline bool)
	PutEncoded(ctx context.Context, id ID, data []byte) error
}
