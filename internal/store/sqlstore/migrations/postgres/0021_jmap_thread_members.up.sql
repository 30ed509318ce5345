-- Thread/get lists a thread's messages oldest first: each thread is one
-- range of this covering index, already in the order wanted (the same
-- index as SQLite's, where the planner otherwise reads the whole account).
CREATE INDEX jmap_messages_thread_members ON messages(account_id, thread_id, received_at, id);
