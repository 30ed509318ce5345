-- Only EXPUNGE asks for a mailbox's deleted entries, and few entries are
-- deleted at any time: a partial index holds just those, so a delivery,
-- whose entry is not deleted, writes no page of it.
DROP INDEX mailbox_messages_deleted;
CREATE INDEX mailbox_messages_deleted ON mailbox_messages(mailbox_id, uid) WHERE deleted = 1;
