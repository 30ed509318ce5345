-- Submissions already in the queue stay there and are sent by it: the
-- older release loop must not send them a second time.
UPDATE jmap_submissions SET undo_status = 'final' WHERE queue_id <> 0 AND undo_status = 'pending';
DROP INDEX jmap_submissions_queue;
ALTER TABLE jmap_submissions DROP COLUMN queue_id;
