DROP INDEX jmap_messages_thread;
DROP INDEX jmap_messages_received;
DROP TABLE jmap_submissions;
DROP TABLE jmap_objects;
DROP TABLE jmap_uploads;
DROP TABLE web_sessions;
