-- Outbound queue delivery: leases so that a recipient is attempted by one
-- runner at a time, the recipient's domain for per-destination limits,
-- DKIM keys of our domains, and the MTA-STS policy cache.
ALTER TABLE queue_recipients ADD COLUMN domain TEXT NOT NULL DEFAULT '';
ALTER TABLE queue_recipients ADD COLUMN lease_id TEXT NOT NULL DEFAULT '';
ALTER TABLE queue_recipients ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;
CREATE INDEX queue_messages_hold ON queue_messages(hold_until);
-- Claims walk due recipients in order and stop early; the lease index
-- finds the next lease expiry.
CREATE INDEX queue_recipients_due ON queue_recipients(status, next_attempt, queue_id, idx);
CREATE INDEX queue_recipients_lease ON queue_recipients(lease_until);

CREATE TABLE dkim_keys (
	domain      TEXT NOT NULL,
	selector    TEXT NOT NULL,
	algorithm   TEXT NOT NULL,
	private_key BYTEA NOT NULL,
	state       BIGINT NOT NULL,
	created     BIGINT NOT NULL,
	changed     BIGINT NOT NULL,
	PRIMARY KEY (domain, selector)
);

CREATE TABLE mtasts_policies (
	domain    TEXT PRIMARY KEY,
	policy_id TEXT NOT NULL,
	policy    TEXT NOT NULL,
	fetched   BIGINT NOT NULL,
	expires   BIGINT NOT NULL
);
