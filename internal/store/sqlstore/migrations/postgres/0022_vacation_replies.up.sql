-- Who got an account's vacation response, and when (RFC 3834 §2: a
-- responder answers one sender at most once per period). sender is the
-- lower-cased envelope sender; sent_at is in Unix nanoseconds.
CREATE TABLE jmap_vacation_replies (
	account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	sender     TEXT NOT NULL,
	sent_at    BIGINT NOT NULL,
	PRIMARY KEY (account_id, sender)
);
