package imapsearch

import (
	"errors"
	"time"

	"freehold/internal/store"
)

// Errors returned while matching.
var (
	// ErrBadCriteria is wrapped when a Criteria is malformed (NOT without
	// an operand, unknown kind, …): the server answers BAD.
	ErrBadCriteria = errors.New("bad search criteria")
	// ErrNoRaw is returned when a key needs the message's bytes and the
	// Candidate has no Raw loader.
	ErrNoRaw = errors.New("message contents not available")
)

// Candidate is one message as the matcher, SORT and THREAD see it. The
// server fills the cheap fields from the mailbox's entries; Envelope and
// Raw may be left empty when the criteria do not need them (see
// Matcher.Needs).
type Candidate struct {
	Seq          uint32 // message sequence number in the selected mailbox
	UID          store.UID
	Keywords     []string // store form: lower case, sorted (store.MailboxEntry.Keywords)
	Size         int64
	InternalDate time.Time
	ModSeq       store.ModSeq
	// Envelope is the parsed header summary. When nil and a key needs it,
	// it is parsed from Raw.
	Envelope *store.Envelope
	// Raw loads the raw message. It is called at most once per Match, and
	// only when an envelope-or-flag key did not already decide the result.
	Raw func() ([]byte, error)
}

// Needs says what a compiled Criteria reads from a Candidate, so that the
// server loads only that.
type Needs struct {
	Envelope bool // FROM, TO, CC, BCC, SUBJECT, SENT*
	Raw      bool // BODY, TEXT, HEADER
}

// MatchOptions binds a Criteria to the state of the selected mailbox.
type MatchOptions struct {
	// MaxSeq and MaxUID are the values of "*" in sequence sets: the
	// number of messages and the highest UID in the mailbox (0 if empty).
	MaxSeq uint32
	MaxUID store.UID
	// SearchRes is the saved search result of RFC 5182 ("$"): UIDs in any
	// order. Nil means empty.
	SearchRes []store.UID
	// Location is the server's time zone: BEFORE/ON/SINCE compare the
	// calendar date of the internal date in it (RFC 9051 §6.4.4 leaves the
	// zone to the server). Nil means time.Local.
	Location *time.Location
	// Now is the time OLDER/YOUNGER count from; zero means time.Now().
	Now time.Time
}

// SortKey is a SORT criterion of RFC 5256 §3 or RFC 5957.
type SortKey int

// Sort keys.
const (
	SortArrival     SortKey = iota // internal date
	SortCc                         // first Cc mailbox's local part
	SortDate                       // sent date (Date: header, else internal date), in UTC
	SortFrom                       // first From mailbox's local part
	SortSize                       // RFC822.SIZE
	SortSubject                    // base subject (RFC 5256 §2.1)
	SortTo                         // first To mailbox's local part
	SortDisplayFrom                // first From display name, else its address (RFC 5957)
	SortDisplayTo                  // first To display name, else its address (RFC 5957)
)

// SortCriterion is one key of a SORT program, possibly REVERSEd.
type SortCriterion struct {
	Key     SortKey
	Reverse bool
}

// ThreadAlgorithm is a THREAD algorithm of RFC 5256 §3.
type ThreadAlgorithm int

// Thread algorithms.
const (
	ThreadOrderedSubject ThreadAlgorithm = iota // ORDEREDSUBJECT
	ThreadReferences                            // REFERENCES
)

// ThreadNode is one node of a thread tree. Index is the position of the
// message in the candidate slice given to Thread, or -1 for a dummy (a
// message referred to but not in the set, kept to hold siblings together).
type ThreadNode struct {
	Index    int
	Children []*ThreadNode
}

// Matcher is a Criteria compiled against one mailbox state. It is safe
// for concurrent use once built.
type Matcher struct {
	prog    []node
	needs   Needs
	loc     *time.Location
	maxSeq  uint32
	maxUID  uint32
	nowUnix int64
}

// NewMatcher checks and compiles c: "*" and "$" are resolved with o,
// strings are case-folded once, and keys are reordered so that the cheap
// ones (flags, numbers, dates) run before envelope keys, and those before
// keys that load the message.
func NewMatcher(c Criteria, o MatchOptions) (*Matcher, error) {
	return compile(c, o)
}

// Needs reports what Match reads from a Candidate.
func (m *Matcher) Needs() Needs { return m.needs }

// Match reports whether the candidate satisfies the criteria. An error
// comes only from the candidate's Raw loader.
func (m *Matcher) Match(c *Candidate) (bool, error) {
	return m.match(c)
}

// Match is NewMatcher with zero MatchOptions followed by one Match: for
// one-off checks. "*" then stands for the candidate's own number.
func Match(c Criteria, m Candidate) (bool, error) {
	mt, err := compile(c, MatchOptions{MaxSeq: m.Seq, MaxUID: m.UID})
	if err != nil {
		return false, err
	}
	return mt.match(&m)
}

// LookupSortKey returns the sort key named by a SORT criterion (any case),
// not counting REVERSE.
func LookupSortKey(name string) (SortKey, bool) {
	return sortKeyByName(upperASCII(name))
}

// Sort orders cands in place by the criteria (RFC 5256 §3; RFC 5957), ties
// broken by sequence number. Every candidate needs its Envelope unless the
// criteria are only ARRIVAL and SIZE.
func Sort(cands []Candidate, keys []SortCriterion) {
	sortCandidates(cands, keys)
}

// LookupThreadAlgorithm returns the algorithm named in a THREAD command.
func LookupThreadAlgorithm(name string) (ThreadAlgorithm, bool) {
	switch upperASCII(name) {
	case "ORDEREDSUBJECT":
		return ThreadOrderedSubject, true
	case "REFERENCES":
		return ThreadReferences, true
	}
	return 0, false
}

// Thread groups candidates (each with its Envelope) into threads by the
// algorithm of RFC 5256 §3 and returns the roots in thread order.
func Thread(cands []Candidate, alg ThreadAlgorithm) []*ThreadNode {
	if alg == ThreadReferences {
		return threadReferences(cands)
	}
	return threadOrderedSubject(cands)
}

// AppendThreads appends the wire form of THREAD's result (RFC 5256 §4),
// e.g. "(2)(3 6 (4 23)(44 7 96))", naming each message by num(index)
// (its sequence number or UID).
func AppendThreads(dst []byte, roots []*ThreadNode, num func(index int) uint32) []byte {
	return appendThreads(dst, roots, num)
}

// BaseSubject returns the base subject of RFC 5256 §2.1 of a decoded
// subject: "Re: [list] Fwd: Hello (fwd)" gives "hello". The result is
// case-folded (i;unicode-casemap) so that equal base subjects compare equal.
func BaseSubject(subject string) string {
	return baseSubject(subject)
}
