-- Every index keyed by account costs a delivery one more page written (a
-- batch of deliveries to different accounts touches a different page of
-- it for each). threads_account served only the deletion of an account,
-- which may scan threads instead.
DROP INDEX threads_account;
