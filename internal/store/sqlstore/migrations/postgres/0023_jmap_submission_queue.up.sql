-- An EmailSubmission is handed to the outbound queue when it is created,
-- held there until its send_at (the queue's FUTURERELEASE hold), so that
-- undo and send-later share one hold with SMTP. queue_id names that queue
-- entry; 0 for a submission delivered at once with nothing queued, or for
-- a pending row written before this migration, which the server hands to
-- the queue once at start (claimed_until leases that hand-over).
ALTER TABLE jmap_submissions ADD COLUMN queue_id BIGINT NOT NULL DEFAULT 0;
-- The queue's release and cancel update the submission of an entry.
CREATE INDEX jmap_submissions_queue ON jmap_submissions(queue_id) WHERE queue_id <> 0;
