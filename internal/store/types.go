package store

import "time"

// Identifiers. They are opaque to protocol code except where a protocol
// exposes them (IMAP UIDs, JMAP ids derived from them).
type (
	AccountID int64
	MailboxID int64
	// MessageID identifies one Email of one account (RFC 8621 §4): the same
	// raw bytes delivered to two accounts are two MessageIDs sharing a blob.
	MessageID int64
	ThreadID  int64
	// ModSeq is a per-account modification sequence number (RFC 7162).
	// It starts at 1 for a new account and grows with every change.
	ModSeq int64
	// UID is a per-mailbox IMAP unique identifier (RFC 9051 §2.3.1.1).
	UID uint32
)

// Domain is a domain Freehold receives mail for.
type Domain struct {
	Name    string // lower-case Unicode form
	Created time.Time
}

// Account is a user who can log in and owns mailboxes.
type Account struct {
	ID           AccountID
	Address      string // primary address, canonical (mail.Address.Key) form
	PasswordHash string // argon2id PHC string, never a plain password
	QuotaBytes   int64  // 0 means unlimited
	Created      time.Time
}

// AccountUsage is an account with the storage it uses.
type AccountUsage struct {
	Account
	Messages int64 // distinct messages (Emails), not mailbox memberships
	Bytes    int64 // sum of raw message sizes
}

// Alias maps an address, or "@domain" for a catch-all, to one or more
// target addresses (local or remote).
type Alias struct {
	Address string // canonical local@domain, or @domain for a catch-all
	Targets []string
}

// Special-use attributes (RFC 6154). INBOX has no attribute; its role comes
// from its name.
const (
	UseNone    = ""
	UseSent    = `\Sent`
	UseDrafts  = `\Drafts`
	UseJunk    = `\Junk`
	UseTrash   = `\Trash`
	UseArchive = `\Archive`
	UseAll     = `\All`
	UseFlagged = `\Flagged`
)

// DefaultMailboxes is created for every new account, in this order.
var DefaultMailboxes = []struct{ Name, SpecialUse string }{
	{"INBOX", UseNone},
	{"Sent", UseSent},
	{"Drafts", UseDrafts},
	{"Junk", UseJunk},
	{"Trash", UseTrash},
	{"Archive", UseArchive},
}

// HierarchySeparator separates mailbox name components.
const HierarchySeparator = "/"

// Mailbox is a folder of one account. Name is the full hierarchical name
// with "/" separators; "INBOX" is always spelled in capitals.
type Mailbox struct {
	ID          MailboxID
	AccountID   AccountID
	Name        string
	SpecialUse  string // one of the Use* constants
	UIDValidity uint32
	UIDNext     UID
	Subscribed  bool
	// ModSeq is the ModSeq of the last change to the mailbox record itself
	// (name, subscription), not of its messages.
	ModSeq ModSeq
}

// MailboxStatus counts a mailbox's messages. HighestModSeq is the highest
// ModSeq of any change to a message in the mailbox, including expunges
// (RFC 7162 §3.1.1).
type MailboxStatus struct {
	Mailbox
	Messages      uint32
	Unseen        uint32
	Deleted       uint32 // messages with $deleted
	Size          int64  // sum of message sizes (STATUS=SIZE)
	HighestModSeq ModSeq
}

// Keywords are stored lower-case in JMAP spelling (RFC 8621 §4.1.1). The IMAP
// system flags map onto these; \Deleted, which JMAP has no keyword for, is
// stored as "$deleted". \Recent is not stored (IMAP4rev2 dropped it).
const (
	KeywordSeen      = "$seen"
	KeywordAnswered  = "$answered"
	KeywordFlagged   = "$flagged"
	KeywordDraft     = "$draft"
	KeywordDeleted   = "$deleted"
	KeywordJunk      = "$junk"
	KeywordNotJunk   = "$notjunk"
	KeywordPhishing  = "$phishing"
	KeywordForwarded = "$forwarded"
)

// Envelope is the summary of a message's header that listing views need
// without reading the blob (IMAP ENVELOPE, JMAP Email list properties,
// SORT and THREAD). Address lists hold the header's decoded text.
type Envelope struct {
	Date       time.Time // Date: header, zero if absent or unparseable
	Subject    string    // decoded
	From       []EnvelopeAddress
	Sender     []EnvelopeAddress
	ReplyTo    []EnvelopeAddress
	To         []EnvelopeAddress
	Cc         []EnvelopeAddress
	Bcc        []EnvelopeAddress
	MessageID  string // without angle brackets
	InReplyTo  []string
	References []string
}

// EnvelopeAddress is one mailbox of an address header.
type EnvelopeAddress struct {
	Name    string // display name, decoded
	Address string // local@domain as written
}

// Message is one Email of an account: a blob, its metadata and keywords.
// It may sit in several mailboxes (JMAP); in each it has its own UID.
type Message struct {
	ID         MessageID
	AccountID  AccountID
	ThreadID   ThreadID
	BlobID     string // content address of the raw message (see blob.ID)
	Size       int64  // raw size in octets
	ReceivedAt time.Time
	Keywords   []string // sorted, lower-case, unique
	Envelope   Envelope
	// Preview is up to 256 characters of the body's text (RFC 8621
	// Email.preview); HasAttachment is true when a part is an attachment.
	Preview       string
	HasAttachment bool
	ModSeq        ModSeq // last change to this message (keywords, mailboxes)
	Mailboxes     []MailboxID
}

// MailboxEntry is a message as seen in one mailbox, the unit of IMAP state.
type MailboxEntry struct {
	UID       UID
	MessageID MessageID
	ModSeq    ModSeq // highest ModSeq of a change to this message in this mailbox
	Keywords  []string
	Size      int64
	// ReceivedAt is the IMAP INTERNALDATE.
	ReceivedAt time.Time
}
