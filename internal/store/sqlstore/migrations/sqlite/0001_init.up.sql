-- Freehold schema, version 1. Times are Unix nanoseconds (UTC); 0 means unset.
-- Flags are INTEGER 0/1 in both engines so the same SQL runs everywhere.

CREATE TABLE domains (
	name    TEXT PRIMARY KEY,
	created INTEGER NOT NULL
);

-- accounts carries the per-account counters that every mutation touches:
-- highest_modseq (the change log's head), pruned_modseq (the newest ModSeq
-- removed from the change log), last_uidvalidity, and the usage counters
-- msg_count/msg_bytes kept in step with the messages table.
CREATE TABLE accounts (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	address          TEXT NOT NULL UNIQUE,
	domain           TEXT NOT NULL REFERENCES domains(name),
	password_hash    TEXT NOT NULL,
	quota_bytes      INTEGER NOT NULL DEFAULT 0,
	created          INTEGER NOT NULL,
	highest_modseq   INTEGER NOT NULL DEFAULT 0,
	pruned_modseq    INTEGER NOT NULL DEFAULT 0,
	last_uidvalidity INTEGER NOT NULL DEFAULT 0,
	msg_count        INTEGER NOT NULL DEFAULT 0,
	msg_bytes        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX accounts_domain ON accounts(domain);

CREATE TABLE aliases (
	address TEXT PRIMARY KEY,
	targets TEXT NOT NULL -- JSON array of addresses
);

-- modseq is the ModSeq of the last change to the record (name,
-- subscription); highest_modseq that of the last change to any of its
-- entries, expunges included (RFC 7162 HIGHESTMODSEQ).
CREATE TABLE mailboxes (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id     INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	name           TEXT NOT NULL,
	special_use    TEXT NOT NULL DEFAULT '',
	uid_validity   INTEGER NOT NULL,
	uid_next       INTEGER NOT NULL DEFAULT 1,
	subscribed     INTEGER NOT NULL DEFAULT 1,
	modseq         INTEGER NOT NULL,
	highest_modseq INTEGER NOT NULL,
	UNIQUE (account_id, name)
);

CREATE TABLE threads (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE
);
CREATE INDEX threads_account ON threads(account_id);

-- keywords is a JSON array, sorted, lower-case; the flags that mailbox
-- counts need ($seen, $deleted) are copied onto mailbox_messages.
CREATE TABLE messages (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id     INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	thread_id      INTEGER NOT NULL,
	blob_id        TEXT NOT NULL,
	size           INTEGER NOT NULL,
	received_at    INTEGER NOT NULL,
	keywords       TEXT NOT NULL DEFAULT '[]',
	date           INTEGER NOT NULL DEFAULT 0,
	subject        TEXT NOT NULL DEFAULT '',
	from_addr      TEXT NOT NULL DEFAULT '[]',
	sender         TEXT NOT NULL DEFAULT '[]',
	reply_to       TEXT NOT NULL DEFAULT '[]',
	to_addr        TEXT NOT NULL DEFAULT '[]',
	cc             TEXT NOT NULL DEFAULT '[]',
	bcc            TEXT NOT NULL DEFAULT '[]',
	message_id     TEXT NOT NULL DEFAULT '',
	in_reply_to    TEXT NOT NULL DEFAULT '[]',
	refs           TEXT NOT NULL DEFAULT '[]',
	preview        TEXT NOT NULL DEFAULT '',
	has_attachment INTEGER NOT NULL DEFAULT 0,
	modseq         INTEGER NOT NULL
);
CREATE INDEX messages_account ON messages(account_id, id);
CREATE INDEX messages_thread ON messages(thread_id);
CREATE INDEX messages_blob ON messages(blob_id);

-- One row per (mailbox, UID). seen, deleted and size copy the message's
-- so that STATUS counts read this table alone.
CREATE TABLE mailbox_messages (
	mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
	uid        INTEGER NOT NULL,
	message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
	modseq     INTEGER NOT NULL,
	seen       INTEGER NOT NULL DEFAULT 0,
	deleted    INTEGER NOT NULL DEFAULT 0,
	size       INTEGER NOT NULL,
	PRIMARY KEY (mailbox_id, uid)
) WITHOUT ROWID;
CREATE INDEX mailbox_messages_message ON mailbox_messages(message_id);
CREATE INDEX mailbox_messages_modseq ON mailbox_messages(mailbox_id, modseq);
CREATE INDEX mailbox_messages_deleted ON mailbox_messages(mailbox_id, deleted);

-- Message-ID header values seen in a thread (own id and references), used
-- to place a new message in its thread.
CREATE TABLE message_refs (
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	msgid      TEXT NOT NULL,
	thread_id  INTEGER NOT NULL,
	PRIMARY KEY (account_id, msgid, thread_id)
) WITHOUT ROWID;
CREATE INDEX message_refs_thread ON message_refs(thread_id);

-- The change log. kind and op are store.ChangeKind and store.ChangeOp.
CREATE TABLE changes (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	modseq     INTEGER NOT NULL,
	kind       INTEGER NOT NULL,
	op         INTEGER NOT NULL,
	object_id  INTEGER NOT NULL,
	mailbox_id INTEGER NOT NULL DEFAULT 0,
	uid        INTEGER NOT NULL DEFAULT 0,
	at         INTEGER NOT NULL
);
CREATE INDEX changes_account ON changes(account_id, modseq);
CREATE INDEX changes_expunged ON changes(mailbox_id, modseq) WHERE kind = 4 AND op = 3;
CREATE INDEX changes_at ON changes(at);

CREATE TABLE queue_messages (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id INTEGER NOT NULL DEFAULT 0,
	mail_from  TEXT NOT NULL DEFAULT '',
	blob_id    TEXT NOT NULL,
	size       INTEGER NOT NULL,
	created    INTEGER NOT NULL,
	hold_until INTEGER NOT NULL DEFAULT 0,
	dsn_ret    TEXT NOT NULL DEFAULT '',
	dsn_envid  TEXT NOT NULL DEFAULT ''
);

CREATE TABLE queue_recipients (
	queue_id     INTEGER NOT NULL REFERENCES queue_messages(id) ON DELETE CASCADE,
	idx          INTEGER NOT NULL,
	address      TEXT NOT NULL,
	notify       TEXT NOT NULL DEFAULT '',
	orcpt        TEXT NOT NULL DEFAULT '',
	status       INTEGER NOT NULL DEFAULT 0,
	attempts     INTEGER NOT NULL DEFAULT 0,
	next_attempt INTEGER NOT NULL DEFAULT 0,
	last_error   TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (queue_id, idx)
);
CREATE INDEX queue_recipients_next ON queue_recipients(status, next_attempt);
