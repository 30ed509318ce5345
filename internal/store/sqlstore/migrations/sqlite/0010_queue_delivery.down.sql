DROP TABLE mtasts_policies;
DROP TABLE dkim_keys;
DROP INDEX queue_recipients_lease;
DROP INDEX queue_recipients_due;
DROP INDEX queue_messages_hold;
ALTER TABLE queue_recipients DROP COLUMN lease_until;
ALTER TABLE queue_recipients DROP COLUMN lease_id;
ALTER TABLE queue_recipients DROP COLUMN domain;
