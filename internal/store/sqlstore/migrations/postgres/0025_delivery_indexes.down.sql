CREATE INDEX threads_account ON threads(account_id);
