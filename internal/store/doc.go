// Package store defines Freehold's storage interfaces in Freehold's own types:
// the directory (domains, accounts, aliases), mail (mailboxes, messages,
// flags, threads), the per-account change log, and the outbound queue.
//
// Implementations live in sub-packages (sqlstore holds the one set of
// hand-written SQL; sqlite and postgres open it on their engine) and all pass
// the storetest conformance suite. Protocol packages depend on these
// interfaces only; internal/app wires an implementation in.
//
// The change log is the spine of sync. Every mutation of an account's state
// takes the account's next modification sequence number (ModSeq) inside the
// same transaction and records what changed in the change log. IMAP
// CONDSTORE/QRESYNC and IDLE, JMAP /changes and push all read it.
//
// Durability: a method that mutates state returns only after the change is
// committed to durable storage (fsynced). Implementations batch concurrent
// commits (group commit) to go fast; they never skip a sync.
package store
