package store

import (
	"context"
	"time"
)

// QueueDelivery is what the outbound queue runner needs beyond Queue:
// leasing due work so that no two nodes (or goroutines) attempt the same
// recipients at once, recording each attempt's outcome exactly once, and
// the FUTURERELEASE hold list. sqlstore implements it.
//
// Invariant: a recipient is attempted only under a lease. QueueClaim
// counts the attempt when it leases; QueueRecord applies an outcome only
// while the lease it names is still held, in the same transaction that
// clears it. A node that dies mid-attempt leaves a lease that expires,
// and the recipients are claimed again: an attempt's outcome is never
// lost nor applied twice (the remote may, as SMTP allows, see the message
// twice).
type QueueDelivery interface {
	// QueueClaim leases up to Limit work items due at Now: the pending
	// recipients of one message at one domain whose next attempt time
	// has come, of a message not held (HoldUntil <= Now), not leased.
	// Domains in Skip are left alone (their concurrency is full).
	QueueClaim(ctx context.Context, c QueueClaim) ([]QueueWork, error)
	// QueueRecord applies the outcome of the attempt that Lease names.
	// It fails with ErrNotFound when the lease is no longer held (it
	// expired and was claimed again): the outcome is then dropped.
	QueueRecord(ctx context.Context, r QueueAttempt) error
	// QueueNextDue is the earliest time a pending recipient becomes due
	// (its next attempt, its message's hold, or its lease's expiry);
	// zero when the queue has nothing pending.
	QueueNextDue(ctx context.Context) (time.Time, error)
	// QueueRetry makes the pending recipients of a message due now
	// (admin "retry"; a held message is released).
	QueueRetry(ctx context.Context, id QueueID) error
	// QueueHeld lists an account's messages held for a future release
	// (FUTURERELEASE), soonest first; acct 0 lists all.
	QueueHeld(ctx context.Context, acct AccountID) ([]OutboundMessage, error)
	// QueueCancel removes a held message of acct (acct 0: any) that has
	// not been released yet; ErrNotFound when there is none (already
	// sent, released or not this account's).
	QueueCancel(ctx context.Context, id QueueID, acct AccountID) error
}

// QueueClaim is the input of QueueDelivery.QueueClaim.
type QueueClaim struct {
	Now   time.Time
	Owner string        // identifies the claiming runner, for logs
	Lease time.Duration // how long the work is reserved
	Limit int
	Skip  []string // lower-case recipient domains not to claim
}

// QueueWork is one claimed work item: some recipients of one message,
// all at Domain, to be sent in one SMTP transaction.
type QueueWork struct {
	Message OutboundMessage // Recipients holds only the claimed ones
	Domain  string          // lower-case
	// Index is the position of each claimed recipient in the message,
	// as QueueRecord wants it.
	Index []int
	// Lease identifies this claim; QueueRecord needs it.
	Lease string
	// Until is when the lease expires.
	Until time.Time
}

// QueueAttempt is the input of QueueDelivery.QueueRecord.
type QueueAttempt struct {
	ID      QueueID
	Lease   string
	Results []RecipientResult
	// Bounce, when set, is enqueued in the same transaction: the DSN
	// reporting this attempt's failures, so it is sent once and only if
	// the outcome is recorded.
	Bounce *OutboundMessage
}

// RecipientResult is one recipient's outcome.
type RecipientResult struct {
	Index int // position in the message's recipients
	// Status is RcptDelivered, RcptFailed, or RcptPending with
	// NextAttempt set (a temporary failure).
	Status      RecipientStatus
	NextAttempt time.Time
	// LastError is the remote answer or local error, as a DSN quotes it.
	LastError string
}

// DKIMKeys keeps the DKIM keys of our domains.
type DKIMKeys interface {
	// DKIMKeyAdd stores a new key; ErrExists if the selector is taken.
	DKIMKeyAdd(ctx context.Context, k DKIMKey) error
	// DKIMKeyList lists a domain's keys ("" for all domains), oldest first.
	DKIMKeyList(ctx context.Context, domain string) ([]DKIMKey, error)
	// DKIMKeySetState changes a key's state.
	DKIMKeySetState(ctx context.Context, domain, selector string, state DKIMKeyState) error
	// DKIMKeyDelete removes a key.
	DKIMKeyDelete(ctx context.Context, domain, selector string) error
}

// DKIMKey is a DKIM signing key of a domain.
type DKIMKey struct {
	Domain    string // lower-case
	Selector  string
	Algorithm string // "ed25519" or "rsa"
	// PrivateKey is the PKCS #8 DER encoding.
	PrivateKey []byte
	State      DKIMKeyState
	Created    time.Time
	Changed    time.Time // last state change
}

// DKIMKeyState is where a key stands in its life: pending (published
// in DNS, not yet signing), active (signing), retiring (still published so
// that mail in flight verifies, no longer signing).
type DKIMKeyState uint8

const (
	DKIMPending DKIMKeyState = iota + 1
	DKIMActive
	DKIMRetiring
)

func (s DKIMKeyState) String() string {
	switch s {
	case DKIMPending:
		return "pending"
	case DKIMActive:
		return "active"
	case DKIMRetiring:
		return "retiring"
	}
	return "unknown"
}

// MTASTSCache keeps the MTA-STS policies of remote domains (RFC 8461
// §5.1), shared by all nodes.
type MTASTSCache interface {
	// MTASTSGet returns the cached policy of domain; ErrNotFound if none.
	MTASTSGet(ctx context.Context, domain string) (MTASTSPolicy, error)
	// MTASTSPut stores or replaces the policy of p.Domain.
	MTASTSPut(ctx context.Context, p MTASTSPolicy) error
}

// MTASTSPolicy is a cached MTA-STS policy.
type MTASTSPolicy struct {
	Domain  string // lower-case
	ID      string // the id= of the _mta-sts TXT record it was fetched for
	Policy  string // the policy file's text
	Fetched time.Time
	Expires time.Time // Fetched + max_age
}
