package store

import (
	"context"
	"time"
)

// Store is everything Freehold keeps in its database. Every backend
// (sqlstore on SQLite or PostgreSQL) implements all of it and passes
// storetest.
type Store interface {
	Directory
	Mail
	ChangeLog
	Queue
	BlobRows
	// Close waits for pending commits and releases the database.
	Close() error
}

// Directory holds domains, accounts and aliases.
type Directory interface {
	AddDomain(ctx context.Context, name string) error // ErrExists
	// RemoveDomain refuses (ErrInvalid) while accounts of the domain exist.
	RemoveDomain(ctx context.Context, name string) error
	Domains(ctx context.Context) ([]Domain, error)
	HasDomain(ctx context.Context, name string) (bool, error)

	// CreateAccount creates the account and its DefaultMailboxes in one
	// transaction. The address's domain must exist (ErrInvalid otherwise).
	CreateAccount(ctx context.Context, a NewAccount) (Account, error)
	Account(ctx context.Context, id AccountID) (Account, error)
	// AccountByAddress looks an account up by its canonical primary address.
	AccountByAddress(ctx context.Context, address string) (Account, error)
	Accounts(ctx context.Context) ([]AccountUsage, error)
	AccountUsage(ctx context.Context, id AccountID) (AccountUsage, error)
	SetPassword(ctx context.Context, id AccountID, hash string) error
	SetQuota(ctx context.Context, id AccountID, bytes int64) error
	// DeleteAccount removes the account and all its mail metadata. Blobs
	// are left to the garbage collector.
	DeleteAccount(ctx context.Context, id AccountID) error

	// SetAlias creates or replaces an alias.
	SetAlias(ctx context.Context, a Alias) error
	RemoveAlias(ctx context.Context, address string) error
	Alias(ctx context.Context, address string) (Alias, error)
	Aliases(ctx context.Context) ([]Alias, error)
}

// NewAccount is the input of CreateAccount.
type NewAccount struct {
	Address      string // canonical local@domain
	PasswordHash string
	QuotaBytes   int64
}

// Mail holds mailboxes and messages.
type Mail interface {
	Mailboxes(ctx context.Context, acct AccountID) ([]Mailbox, error)
	Mailbox(ctx context.Context, acct AccountID, id MailboxID) (Mailbox, error)
	// MailboxByName matches names exactly, except INBOX which matches in
	// any case (RFC 9051 §5.1).
	MailboxByName(ctx context.Context, acct AccountID, name string) (Mailbox, error)
	MailboxStatus(ctx context.Context, acct AccountID, id MailboxID) (MailboxStatus, error)
	// CreateMailbox creates one mailbox; its parent must exist.
	CreateMailbox(ctx context.Context, acct AccountID, m NewMailbox) (Mailbox, error)
	// RenameMailbox renames a mailbox and its children. Renaming INBOX
	// moves its messages to a new mailbox and leaves INBOX empty
	// (RFC 9051 §6.3.6).
	RenameMailbox(ctx context.Context, acct AccountID, id MailboxID, newName string) error
	// DeleteMailbox removes a mailbox without children (ErrInvalid if it
	// has any, or is INBOX); messages left in no mailbox are destroyed.
	DeleteMailbox(ctx context.Context, acct AccountID, id MailboxID) error
	SetSubscribed(ctx context.Context, acct AccountID, id MailboxID, subscribed bool) error

	// Deliver stores one message received over SMTP for one or more
	// accounts, in one transaction, and returns after it is durable.
	// Concurrent calls are committed together (group commit).
	Deliver(ctx context.Context, d Delivery) ([]Delivered, error)
	// Append adds a message to one mailbox (IMAP APPEND, JMAP import).
	// It fails with ErrQuotaExceeded when the account's quota would be
	// exceeded.
	Append(ctx context.Context, acct AccountID, mailbox MailboxID, m NewMessage) (MailboxEntry, error)

	// Entries lists a mailbox's messages in UID order.
	Entries(ctx context.Context, acct AccountID, mailbox MailboxID) ([]MailboxEntry, error)
	// Messages returns the messages with these ids, in the same order;
	// ids that do not exist in the account are left out.
	Messages(ctx context.Context, acct AccountID, ids []MessageID) ([]Message, error)

	// Copy copies (or, with Move, moves: RFC 6851) messages between
	// mailboxes of one account, assigning new UIDs in the destination in
	// the order of the source UIDs. It returns the pairs actually copied.
	Copy(ctx context.Context, acct AccountID, r CopyRequest) ([]UIDPair, error)
	// UpdateKeywords changes the keywords of messages in a mailbox
	// (IMAP STORE). Messages whose ModSeq is above UnchangedSince (when
	// non-zero) are not changed and are returned in failed (RFC 7162 §3.1.3).
	UpdateKeywords(ctx context.Context, acct AccountID, u KeywordUpdate) (changed []MailboxEntry, failed []UID, err error)
	// Expunge removes the given UIDs from a mailbox (or, when uids is nil,
	// every message with $deleted) and returns the UIDs removed, ascending.
	// Messages left in no mailbox are destroyed.
	Expunge(ctx context.Context, acct AccountID, mailbox MailboxID, uids []UID) ([]UID, error)
	// MailboxChanges reports what happened in a mailbox after since: UIDs
	// expunged (ascending) and entries added or changed, with their current
	// state. ErrChangesTooOld when since predates the kept change log.
	MailboxChanges(ctx context.Context, acct AccountID, mailbox MailboxID, since ModSeq) (MailboxDelta, error)
}

// NewMailbox is the input of CreateMailbox.
type NewMailbox struct {
	Name       string
	SpecialUse string
}

// NewMessage is a message to store: a blob already written to the blob
// store, and what was parsed from it.
type NewMessage struct {
	BlobID        string
	Size          int64
	ReceivedAt    time.Time
	Envelope      Envelope
	Preview       string
	HasAttachment bool
	Keywords      []string
}

// Delivery is one message for one or more local recipients, and optionally
// for remote recipients through the outbound queue, stored atomically.
type Delivery struct {
	Message NewMessage
	Targets []DeliveryTarget
	// Outbound, when set, is enqueued in the same transaction.
	Outbound *OutboundMessage
	// Blobs are stored (as BlobRows.PutBlobs does) in the same
	// transaction, before the rows that refer to them: a message and its
	// body become durable together, in one commit.
	Blobs []BlobRow
}

// DeliveryTarget is one account's copy. The same account never appears
// twice in one Delivery.
type DeliveryTarget struct {
	Account AccountID
	// Mailbox is the mailbox's name; empty means INBOX. A mailbox that
	// does not exist falls back to INBOX.
	Mailbox  string
	Keywords []string // added to NewMessage.Keywords for this copy
}

// Delivered reports where one copy was stored.
type Delivered struct {
	Account AccountID
	Message MessageID
	Mailbox MailboxID
	UID     UID
}

// CopyRequest is the input of Copy.
type CopyRequest struct {
	From, To MailboxID
	UIDs     []UID
	Move     bool
}

// UIDPair maps a source UID to the UID of its copy (UIDPLUS COPYUID).
type UIDPair struct{ From, To UID }

// KeywordUpdate is the input of UpdateKeywords.
type KeywordUpdate struct {
	Mailbox        MailboxID
	UIDs           []UID
	Mode           KeywordMode
	Keywords       []string
	UnchangedSince ModSeq // 0: unconditional
}

// KeywordMode says how KeywordUpdate.Keywords apply.
type KeywordMode uint8

const (
	KeywordsAdd KeywordMode = iota
	KeywordsRemove
	KeywordsReplace
)

// MailboxDelta is the result of MailboxChanges.
type MailboxDelta struct {
	Expunged []UID
	Changed  []MailboxEntry // new and changed, in UID order
	Highest  ModSeq         // the mailbox's HighestModSeq now
}

// ChangeLog exposes the per-account change log.
type ChangeLog interface {
	// HighestModSeq is the account's current modification sequence.
	HighestModSeq(ctx context.Context, acct AccountID) (ModSeq, error)
	// Changes returns up to limit changes after since, in ModSeq order.
	Changes(ctx context.Context, acct AccountID, since ModSeq, limit int) ([]Change, error)
	// Listen delivers the account's highest ModSeq after each committed
	// change, coalescing bursts (a slow reader sees only the latest). The
	// channel is closed when ctx ends. In scaled mode changes committed by
	// other nodes are announced too.
	Listen(ctx context.Context, acct AccountID) <-chan ModSeq
}

// ChangeKind is the kind of object a Change is about.
type ChangeKind uint8

const (
	ChangeMailbox ChangeKind = iota + 1 // ID is a MailboxID
	ChangeEmail                         // ID is a MessageID
	ChangeThread                        // ID is a ThreadID
	ChangeEntry                         // Mailbox and UID name a mailbox entry
)

// ChangeOp is what happened to the object.
type ChangeOp uint8

const (
	OpCreated ChangeOp = iota + 1
	OpUpdated
	OpDestroyed
)

// Change is one entry of the change log.
type Change struct {
	ModSeq  ModSeq
	Kind    ChangeKind
	Op      ChangeOp
	ID      int64
	Mailbox MailboxID // for ChangeEntry
	UID     UID       // for ChangeEntry
	At      time.Time
}

// Queue is the durable outbound queue. Delivery to remote hosts is the
// queue package's job; the store only keeps the state.
type Queue interface {
	Enqueue(ctx context.Context, m OutboundMessage) (QueueID, error)
	QueueList(ctx context.Context) ([]OutboundMessage, error)
	QueueGet(ctx context.Context, id QueueID) (OutboundMessage, error)
	QueueRemove(ctx context.Context, id QueueID) error
}

// QueueID identifies a queued outbound message.
type QueueID int64

// OutboundMessage is a message waiting to be sent to remote recipients.
type OutboundMessage struct {
	ID        QueueID
	Account   AccountID // the sender's account; 0 for system mail (DSNs)
	MailFrom  string    // envelope sender; empty for the null reverse path
	BlobID    string
	Size      int64
	Created   time.Time
	HoldUntil time.Time // zero: send now (FUTURERELEASE)
	// DSN parameters (RFC 3461).
	DSNRet     string // "FULL", "HDRS" or ""
	DSNEnvID   string
	Recipients []OutboundRecipient
}

// OutboundRecipient is one remote recipient and its delivery state.
type OutboundRecipient struct {
	Address     string
	Notify      string // RFC 3461 NOTIFY, as given
	ORcpt       string
	Status      RecipientStatus
	Attempts    int
	NextAttempt time.Time
	LastError   string
}

// RecipientStatus is where a recipient's delivery stands.
type RecipientStatus uint8

const (
	RcptPending RecipientStatus = iota
	RcptDelivered
	RcptFailed
)
