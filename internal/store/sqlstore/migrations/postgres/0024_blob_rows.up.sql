-- Small blobs, kept in the database so that a message and its body
-- commit together (store.BlobRows). id is the blob's content address,
-- data its stored (compressed) form.
CREATE TABLE IF NOT EXISTS blob_rows (
	id   TEXT PRIMARY KEY,
	data BYTEA NOT NULL
);
