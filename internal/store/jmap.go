package store

import (
	"context"
	"time"
)

// JMAP is what the JMAP server and the web sessions need beyond Store. The
// SQL backends implement it; internal/app hands it to internal/web.
type JMAP interface {
	WebSessions
	EmailIndex
	JMAPObjects
	Submissions
	VacationReplies
}

// Change kinds of the objects only JMAP manages. They share the account's
// change log and ModSeq with mail, so one state and one push channel cover
// everything; other readers of the log skip kinds they do not know.
const (
	ChangeIdentity   ChangeKind = 32 // ID is an Identity's id
	ChangeSubmission ChangeKind = 33 // ID is a Submission's id
	ChangeLabel      ChangeKind = 34 // ID is a Label's id
	ChangeVacation   ChangeKind = 35 // ID is the VacationResponse record's id
	ChangeSettings   ChangeKind = 36 // ID is the settings record's id
)

// WebSession is a logged-in web browser. Only the SHA-256 of the cookie's
// token is stored, so a leaked database does not yield usable cookies.
type WebSession struct {
	TokenHash string // lower-case hex SHA-256 of the token
	Account   AccountID
	Created   time.Time
	Expires   time.Time
}

// WebSessions keeps web login sessions in the database, so that any node
// recognises a cookie issued by another.
type WebSessions interface {
	CreateWebSession(ctx context.Context, s WebSession) error
	// WebSession returns the session with this token hash, expired or
	// not: the caller compares Expires with its clock. ErrNotFound.
	WebSession(ctx context.Context, tokenHash string) (WebSession, error)
	// RenewWebSession moves a session's expiry (sliding sessions).
	RenewWebSession(ctx context.Context, tokenHash string, expires time.Time) error
	// DeleteWebSession removes a session (logout); unknown hashes are not
	// an error.
	DeleteWebSession(ctx context.Context, tokenHash string) error
	// PruneWebSessions removes sessions that expired before before.
	PruneWebSessions(ctx context.Context, before time.Time) (int64, error)
}

// EmailIndex answers JMAP's questions about an account's messages that
// need more than the Mail interface: ordered, filtered queries over the
// whole account, thread membership, per-mailbox counts, blob ownership.
type EmailIndex interface {
	// EmailQuery calls fn for each message of acct matching q.Filter, in
	// q.Sort order (ties broken by message id in the direction of the
	// last sort criterion), skipping q.Offset and stopping after q.Limit
	// (when positive) or when fn returns false.
	EmailQuery(ctx context.Context, acct AccountID, q EmailQuery, fn func(EmailRef) bool) error
	// EmailCount counts the messages matching f (nil: all), or with
	// Threads the distinct threads they belong to.
	EmailCount(ctx context.Context, acct AccountID, f *EmailFilter, threads bool) (int, error)
	// MessageEntries returns the mailbox entries of the given messages,
	// in message then mailbox order. Messages of other accounts are left
	// out.
	MessageEntries(ctx context.Context, acct AccountID, ids []MessageID) ([]EntryRef, error)
	// ThreadMessages returns, for each thread of acct among ids, its
	// messages ordered by ReceivedAt then id. Unknown threads are absent.
	ThreadMessages(ctx context.Context, acct AccountID, ids []ThreadID) (map[ThreadID][]MessageID, error)
	// MailboxThreads returns every entry of one of acct's mailboxes with
	// its message's thread and whether it is seen, and the mailbox's
	// HighestModSeq, from one snapshot. JMAP keeps per-thread counts
	// from it and follows them with MailboxChanges (a message's thread
	// never changes). ErrNotFound for a mailbox of another account.
	MailboxThreads(ctx context.Context, acct AccountID, mailbox MailboxID) ([]ThreadEntry, ModSeq, error)
	// MailboxModSeqs returns the HighestModSeq of every mailbox of acct,
	// which changes whenever its counts may have (callers cache counts).
	MailboxModSeqs(ctx context.Context, acct AccountID) (map[MailboxID]ModSeq, error)
	// HasBlob reports whether acct may read blob id: a message of the
	// account has it as its raw message, or the account uploaded it.
	HasBlob(ctx context.Context, acct AccountID, id string) (bool, error)
	// RecordUpload notes that acct uploaded blob id (of this media type
	// and size), which lets it use the blob.
	RecordUpload(ctx context.Context, acct AccountID, u Upload) error
}

// Upload is a blob a client uploaded (RFC 8620 §6.1).
type Upload struct {
	BlobID  string
	Type    string
	Size    int64
	Created time.Time
}

// EmailRef is one row of an EmailQuery result.
type EmailRef struct {
	ID     MessageID
	Thread ThreadID
}

// EntryRef places a message in a mailbox.
type EntryRef struct {
	Message MessageID
	Mailbox MailboxID
	UID     UID
}

// ThreadEntry is a mailbox entry with its message's thread.
type ThreadEntry struct {
	UID     UID
	Message MessageID
	Thread  ThreadID
	Seen    bool
}

// MailboxCounts are the counts JMAP shows on a mailbox. Unread means
// without $seen; the thread counts are of threads with at least one
// message in the mailbox (RFC 8621 §2).
type MailboxCounts struct {
	TotalEmails, UnreadEmails, TotalThreads, UnreadThreads int
}

// EmailQuery is the input of EmailIndex.EmailQuery.
type EmailQuery struct {
	Filter *EmailFilter // nil matches every message
	Sort   []EmailSort  // empty: ReceivedAt descending
	Offset int
	Limit  int // <= 0: no limit
}

// EmailSort is one sort criterion (RFC 8621 §4.4.2).
type EmailSort struct {
	// Property is one of receivedAt, sentAt, size, from, to, subject,
	// hasKeyword, allInThreadHaveKeyword, someInThreadHaveKeyword.
	Property  string
	Keyword   string // for the keyword properties
	Ascending bool
}

// EmailFilter is a condition tree the store evaluates (RFC 8621 §4.4.1,
// the conditions that need no message body). An operator node has
// Operator set ("AND", "OR", "NOT" meaning none of) and only Conditions;
// a condition node holds every constraint that is set, all of which must
// match. Text constraints match case-insensitively as substrings.
type EmailFilter struct {
	Operator   string
	Conditions []EmailFilter

	InMailbox          MailboxID
	InMailboxOtherThan []MailboxID
	Before, After      time.Time // ReceivedAt < Before, >= After
	MinSize, MaxSize   int64     // Size >= MinSize, < MaxSize (when > 0)
	HasKeyword         string
	NotKeyword         string
	// Thread keyword conditions are over every message of the thread.
	AllInThreadHaveKeyword  string
	SomeInThreadHaveKeyword string
	NoneInThreadHaveKeyword string
	HasAttachment           *bool
	From, To, Cc, Bcc       string // display names and addresses
	Subject                 string
}

// JMAPObject is a small object that only JMAP manages (an Identity, a
// Label, the VacationResponse, the settings), kept as a JSON document.
type JMAPObject struct {
	ID   int64
	Kind ChangeKind
	Data []byte // JSON
}

// JMAPObjects keeps JMAPObjects per account. Every change is logged in the
// change log under the object's kind.
type JMAPObjects interface {
	// JMAPObjects returns the account's objects of one kind, by id.
	JMAPObjects(ctx context.Context, acct AccountID, kind ChangeKind) ([]JMAPObject, error)
	// CreateJMAPObject stores a new object and returns its id.
	CreateJMAPObject(ctx context.Context, acct AccountID, kind ChangeKind, data []byte) (int64, error)
	// UpdateJMAPObject replaces an object's data. ErrNotFound.
	UpdateJMAPObject(ctx context.Context, acct AccountID, kind ChangeKind, id int64, data []byte) error
	// DeleteJMAPObject removes an object. ErrNotFound.
	DeleteJMAPObject(ctx context.Context, acct AccountID, kind ChangeKind, id int64) error
}

// SubmissionID identifies an EmailSubmission.
type SubmissionID int64

// UndoStatus values (RFC 8621 §7).
const (
	UndoPending  = "pending"
	UndoFinal    = "final"
	UndoCanceled = "canceled"
)

// Submission is a message a JMAP client asked to send (RFC 8621 §7). The
// message itself goes to the outbound queue when the submission is
// created, held there until SendAt (the user's undo delay, or a later time
// chosen by the user) like an SMTP FUTURERELEASE message; this record is
// the JMAP object, naming its queue entry. One hold for both protocols is
// what makes undo and send-later survive a restart, work on any node, and
// show in the queue's held list.
//
// UndoStatus is "pending" while the queue holds the message, "final" once
// the queue released it (or it was delivered at once), "canceled" once the
// hold was cancelled. The store keeps it in step with the queue: QueueClaim
// marks the submissions of the entries it releases final, and QueueCancel
// marks them canceled, each in the same transaction and with a
// ChangeSubmission in the change log.
type Submission struct {
	ID         SubmissionID
	Account    AccountID
	IdentityID int64
	EmailID    MessageID
	ThreadID   ThreadID
	MailFrom   string
	// MailFromParams are the envelope's MAIL FROM parameters, as JSON.
	MailFromParams []byte
	Rcpts          []string
	// BlobID is the message as submitted (as the Email was, without its
	// Bcc header), kept only by submissions stored before they were held
	// in the queue (see UnqueuedSubmissions); empty otherwise.
	BlobID     string
	Size       int64
	Created    time.Time
	SendAt     time.Time
	UndoStatus string
	// QueueID is the outbound queue entry holding or sending the message;
	// 0 when nothing was queued (every recipient refused, or delivered
	// locally at once), or for a pending submission stored before
	// submissions were held in the queue (see UnqueuedSubmissions).
	QueueID QueueID
	// Result is what delivery answered at submission, as JSON
	// (per-recipient status).
	Result []byte
}

// Submissions keeps EmailSubmissions.
type Submissions interface {
	// CreateSubmission stores a submission already handed to delivery
	// (s.QueueID, s.UndoStatus and s.Result say what became of it).
	CreateSubmission(ctx context.Context, s Submission) (SubmissionID, error)
	// Submissions returns the account's submissions (nil ids: all), by id.
	Submissions(ctx context.Context, acct AccountID, ids []SubmissionID) ([]Submission, error)
	// CancelSubmission cancels a pending submission: it removes its held
	// queue entry (QueueCancel) and marks it canceled, in one
	// transaction. ErrInvalid when it is no longer pending (the queue
	// released it) or is being handed to the queue.
	CancelSubmission(ctx context.Context, acct AccountID, id SubmissionID) error
	DeleteSubmission(ctx context.Context, acct AccountID, id SubmissionID) error
	// UnqueuedSubmissions returns up to limit pending submissions, of any
	// account, that have no queue entry (stored by a release that kept
	// them in its own table) and whose lease has expired.
	UnqueuedSubmissions(ctx context.Context, now time.Time, limit int) ([]Submission, error)
	// ClaimSubmission takes the lease of an unqueued pending submission
	// until until and returns it; false if another node holds it or it is
	// no longer pending and unqueued.
	ClaimSubmission(ctx context.Context, id SubmissionID, now, until time.Time) (Submission, bool, error)
	// SubmissionQueued records what delivery made of a claimed submission:
	// its queue entry (0: none), its status (pending while the queue holds
	// it, else final) and result; it ends the lease.
	SubmissionQueued(ctx context.Context, id SubmissionID, q SubmissionOutcome) error
}

// SubmissionOutcome is the input of Submissions.SubmissionQueued.
type SubmissionOutcome struct {
	QueueID    QueueID
	UndoStatus string
	Result     []byte
}

// VacationReplies remembers to whom an account's vacation response went,
// so that each sender gets it at most once per period (RFC 3834 §2).
type VacationReplies interface {
	// ClaimVacationReply records that acct answers sender (compared
	// case-insensitively) at now, unless it already did after since; it
	// reports whether the caller is to send the reply. Concurrent claims
	// for the same sender, on any node, let exactly one through.
	ClaimVacationReply(ctx context.Context, acct AccountID, sender string, now, since time.Time) (bool, error)
	// ForgetVacationReplies drops every record of acct, so that a new
	// absence answers everyone again.
	ForgetVacationReplies(ctx context.Context, acct AccountID) error
}
