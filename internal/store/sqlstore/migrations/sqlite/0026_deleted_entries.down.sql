DROP INDEX mailbox_messages_deleted;
CREATE INDEX mailbox_messages_deleted ON mailbox_messages(mailbox_id, deleted);
