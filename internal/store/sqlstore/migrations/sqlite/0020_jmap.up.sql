-- JMAP and web sessions. Times are Unix nanoseconds (UTC), as in 0001.

-- Web login sessions; token_hash is the hex SHA-256 of the cookie's token.
CREATE TABLE web_sessions (
	token_hash TEXT PRIMARY KEY,
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	created    INTEGER NOT NULL,
	expires    INTEGER NOT NULL
);
CREATE INDEX web_sessions_expires ON web_sessions(expires);
CREATE INDEX web_sessions_account ON web_sessions(account_id);

-- Blobs an account uploaded (RFC 8620 §6.1): they give the account the
-- right to use the blob. The blob collector counts them as references.
CREATE TABLE jmap_uploads (
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	blob_id    TEXT NOT NULL,
	type       TEXT NOT NULL,
	size       INTEGER NOT NULL,
	created    INTEGER NOT NULL,
	PRIMARY KEY (account_id, blob_id)
);
CREATE INDEX jmap_uploads_blob ON jmap_uploads(blob_id);
CREATE INDEX jmap_uploads_created ON jmap_uploads(created);

-- Small JSON documents only JMAP manages (identities, labels, vacation
-- response, settings); kind is their store.ChangeKind.
CREATE TABLE jmap_objects (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	kind       INTEGER NOT NULL,
	data       TEXT NOT NULL
);
CREATE INDEX jmap_objects_account ON jmap_objects(account_id, kind, id);

-- EmailSubmissions (RFC 8621 §7). A pending row is a message waiting for
-- its send_at (undo delay or send-later); claimed_until is the lease of the
-- node releasing it. blob_id is the message as it will be sent.
CREATE TABLE jmap_submissions (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id       INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	identity_id      INTEGER NOT NULL,
	email_id         INTEGER NOT NULL,
	thread_id        INTEGER NOT NULL,
	mail_from        TEXT NOT NULL,
	mail_from_params TEXT NOT NULL DEFAULT '',
	rcpts            TEXT NOT NULL,
	blob_id          TEXT NOT NULL,
	size             INTEGER NOT NULL,
	created          INTEGER NOT NULL,
	send_at          INTEGER NOT NULL,
	undo_status      TEXT NOT NULL,
	claimed_until    INTEGER NOT NULL DEFAULT 0,
	released         INTEGER NOT NULL DEFAULT 0,
	result           TEXT NOT NULL DEFAULT ''
);
CREATE INDEX jmap_submissions_account ON jmap_submissions(account_id, id);
CREATE INDEX jmap_submissions_due ON jmap_submissions(undo_status, send_at);
CREATE INDEX jmap_submissions_blob ON jmap_submissions(blob_id);

-- Email/query sorts an account's messages by arrival.
CREATE INDEX jmap_messages_received ON messages(account_id, received_at, id);
-- Thread counts of a mailbox join its entries to their messages' threads:
-- a narrow covering index spares reading the wide message rows.
CREATE INDEX jmap_messages_thread ON messages(id, thread_id);
