// Package imapsearch evaluates IMAP SEARCH criteria (RFC 9051 §6.4.4,
// IMAP4rev1's RFC 3501 §6.4.4, CONDSTORE's MODSEQ key from RFC 7162 §3.1.5,
// SEARCHRES's "$" from RFC 5182, WITHIN's OLDER/YOUNGER from RFC 5032) and
// implements SORT and THREAD (RFC 5256, DISPLAYFROM/DISPLAYTO from RFC 5957).
//
// The package holds no protocol state: the server parses the wire syntax
// into a Criteria, compiles it with NewMatcher against the state of the
// selected mailbox (highest sequence number and UID, saved search result,
// time zone) and runs it over Candidates it builds from the store.
package imapsearch

import (
	"time"
)

// KeyKind names one search key of RFC 9051 §6.4.4 (and the extensions
// listed in the package comment).
type KeyKind int

// Search keys. Comments give the arguments a Key of that kind uses.
const (
	KeyAll        KeyKind = iota // ALL
	KeySeqSet                    // sequence-set: Set holds message sequence numbers
	KeyUID                       // UID sequence-set: Set holds UIDs
	KeyAnd                       // "(" search-key *(SP search-key) ")": Sub holds the keys
	KeyNot                       // NOT search-key: Sub[0]
	KeyOr                        // OR search-key search-key: Sub[0], Sub[1]
	KeyAnswered                  // ANSWERED
	KeyDeleted                   // DELETED
	KeyDraft                     // DRAFT
	KeyFlagged                   // FLAGGED
	KeySeen                      // SEEN
	KeyUnanswered                // UNANSWERED
	KeyUndeleted                 // UNDELETED
	KeyUndraft                   // UNDRAFT
	KeyUnflagged                 // UNFLAGGED
	KeyUnseen                    // UNSEEN
	KeyKeyword                   // KEYWORD flag-keyword: Value
	KeyUnkeyword                 // UNKEYWORD flag-keyword: Value
	KeyBefore                    // BEFORE date: Date (internal date)
	KeyOn                        // ON date: Date
	KeySince                     // SINCE date: Date
	KeySentBefore                // SENTBEFORE date: Date (Date: header)
	KeySentOn                    // SENTON date: Date
	KeySentSince                 // SENTSINCE date: Date
	KeyLarger                    // LARGER number: Num (octets)
	KeySmaller                   // SMALLER number: Num
	KeyBcc                       // BCC string: Value
	KeyCc                        // CC string: Value
	KeyFrom                      // FROM string: Value
	KeyTo                        // TO string: Value
	KeySubject                   // SUBJECT string: Value
	KeyHeader                    // HEADER field-name string: Field, Value
	KeyBody                      // BODY string: Value (decoded body text)
	KeyText                      // TEXT string: Value (header and body)
	KeyModSeq                    // MODSEQ [entry-name entry-type] mod-sequence-valzer: Num
	KeyOlder                     // OLDER interval: Num seconds (RFC 5032)
	KeyYounger                   // YOUNGER interval: Num seconds (RFC 5032)
	// IMAP4rev1 keys about \Recent (RFC 3501 §6.4.4). Freehold does not keep
	// \Recent (IMAP4rev2 dropped it), so no message is ever recent: RECENT
	// and NEW (RECENT UNSEEN) match nothing and OLD (NOT RECENT) matches
	// every message.
	KeyRecent // RECENT
	KeyNew    // NEW
	KeyOld    // OLD
)

// Key is one node of a search program. Only the fields the Kind's comment
// names are meaningful; the others are zero.
type Key struct {
	Kind KeyKind
	// Set is the sequence set of KeySeqSet and KeyUID. A Set with
	// SearchRes refers to the saved result of RFC 5182 ("$").
	Set NumSet
	// Field is the header field name of KeyHeader (compared
	// case-insensitively).
	Field string
	// Value is the string argument, UTF-8 (the server converts from the
	// CHARSET of the command). For KEYWORD/UNKEYWORD it is the flag as the
	// client sent it; it is compared in the store's lower-case form, and
	// the system flags (\Seen …) are accepted and mapped too.
	Value string
	// Date is the calendar date of BEFORE/ON/SINCE/SENT*: only its year,
	// month and day are used (the location is ignored).
	Date time.Time
	// Num is the number of LARGER/SMALLER (octets), MODSEQ (a mod-sequence
	// value) or OLDER/YOUNGER (seconds).
	Num int64
	// Sub holds the operands of KeyAnd, KeyNot and KeyOr.
	Sub []Key
}

// Criteria is a whole SEARCH program: its keys are ANDed together, and an
// empty Criteria matches every message (like ALL).
type Criteria struct {
	Keys []Key
}

// ArgShape says what follows a search key's name on the wire, so that the
// server's parser can be table-driven (see LookupKey).
type ArgShape int

// Argument shapes.
const (
	ArgNone      ArgShape = iota // nothing
	ArgString                    // one astring (Value)
	ArgHeader                    // header-fld-name SP astring (Field, Value)
	ArgDate                      // date (Date)
	ArgNumber                    // number / number64 (Num)
	ArgKeyword                   // flag-keyword atom (Value)
	ArgSearchKey                 // one search-key (Sub[0])
	ArgTwoKeys                   // two search-keys (Sub[0], Sub[1])
	ArgModSeq                    // [entry-name SP entry-type-req SP] mod-sequence-valzer
	ArgSet                       // sequence-set (Set), for UID
)

// keyByName maps the upper-case wire names to their kind and argument
// shape.
func keyByName(name string) (KeyKind, ArgShape, bool) {
	switch name {
	case "ALL":
		return KeyAll, ArgNone, true
	case "ANSWERED":
		return KeyAnswered, ArgNone, true
	case "BCC":
		return KeyBcc, ArgString, true
	case "BEFORE":
		return KeyBefore, ArgDate, true
	case "BODY":
		return KeyBody, ArgString, true
	case "CC":
		return KeyCc, ArgString, true
	case "DELETED":
		return KeyDeleted, ArgNone, true
	case "DRAFT":
		return KeyDraft, ArgNone, true
	case "FLAGGED":
		return KeyFlagged, ArgNone, true
	case "FROM":
		return KeyFrom, ArgString, true
	case "HEADER":
		return KeyHeader, ArgHeader, true
	case "KEYWORD":
		return KeyKeyword, ArgKeyword, true
	case "LARGER":
		return KeyLarger, ArgNumber, true
	case "MODSEQ":
		return KeyModSeq, ArgModSeq, true
	case "NEW":
		return KeyNew, ArgNone, true
	case "NOT":
		return KeyNot, ArgSearchKey, true
	case "OLD":
		return KeyOld, ArgNone, true
	case "OLDER":
		return KeyOlder, ArgNumber, true
	case "ON":
		return KeyOn, ArgDate, true
	case "OR":
		return KeyOr, ArgTwoKeys, true
	case "RECENT":
		return KeyRecent, ArgNone, true
	case "SEEN":
		return KeySeen, ArgNone, true
	case "SENTBEFORE":
		return KeySentBefore, ArgDate, true
	case "SENTON":
		return KeySentOn, ArgDate, true
	case "SENTSINCE":
		return KeySentSince, ArgDate, true
	case "SINCE":
		return KeySince, ArgDate, true
	case "SMALLER":
		return KeySmaller, ArgNumber, true
	case "SUBJECT":
		return KeySubject, ArgString, true
	case "TEXT":
		return KeyText, ArgString, true
	case "TO":
		return KeyTo, ArgString, true
	case "UID":
		return KeyUID, ArgSet, true
	case "UNANSWERED":
		return KeyUnanswered, ArgNone, true
	case "UNDELETED":
		return KeyUndeleted, ArgNone, true
	case "UNDRAFT":
		return KeyUndraft, ArgNone, true
	case "UNFLAGGED":
		return KeyUnflagged, ArgNone, true
	case "UNKEYWORD":
		return KeyUnkeyword, ArgKeyword, true
	case "UNSEEN":
		return KeyUnseen, ArgNone, true
	case "YOUNGER":
		return KeyYounger, ArgNumber, true
	}
	return 0, 0, false
}

// LookupKey returns the kind and argument shape of a search key given by
// its wire name (any case). A sequence set ("1:3", "$") is not a name: the
// parser recognises it by its first character and builds a KeySeqSet.
func LookupKey(name string) (KeyKind, ArgShape, bool) {
	return keyByName(upperASCII(name))
}

// upperASCII upper-cases ASCII letters only, without allocating when s is
// already upper case.
func upperASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'a' && c <= 'z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'a' && b[j] <= 'z' {
					b[j] -= 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
