package jmap

import (
	"strconv"

	"freehold/internal/store"
)

// Id prefixes. A JMAP id is a prefix letter and the store's decimal id, so
// that ids of different types never collide and never start with a digit
// or a dash (RFC 8620 §1.2).
const (
	prefixAccount    = 'A'
	prefixMailbox    = 'M'
	prefixEmail      = 'E'
	prefixThread     = 'T'
	prefixIdentity   = 'I'
	prefixSubmission = 'S'
	prefixLabel      = 'L'
)

func formatID(prefix byte, n int64) string {
	return string(prefix) + strconv.FormatInt(n, 10)
}

// parseID returns the number of an id of the given prefix; ok is false for
// anything else, which callers treat exactly like an unknown id.
func parseID(prefix byte, s string) (int64, bool) {
	if len(s) < 2 || len(s) > 20 || s[0] != prefix || s[1] == '0' {
		return 0, false
	}
	n, err := strconv.ParseInt(s[1:], 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}

func accountIDString(id store.AccountID) string { return formatID(prefixAccount, int64(id)) }
func mailboxIDString(id store.MailboxID) string { return formatID(prefixMailbox, int64(id)) }
func emailIDString(id store.MessageID) string   { return formatID(prefixEmail, int64(id)) }
func threadIDString(id store.ThreadID) string   { return formatID(prefixThread, int64(id)) }

func parseMailboxID(s string) (store.MailboxID, bool) {
	n, ok := parseID(prefixMailbox, s)
	return store.MailboxID(n), ok
}

func parseEmailID(s string) (store.MessageID, bool) {
	n, ok := parseID(prefixEmail, s)
	return store.MessageID(n), ok
}

func parseThreadID(s string) (store.ThreadID, bool) {
	n, ok := parseID(prefixThread, s)
	return store.ThreadID(n), ok
}

// stateString formats a ModSeq as a state string.
func stateString(m store.ModSeq) string { return strconv.FormatInt(int64(m), 10) }

// parseState parses a state string; ok is false for anything this server
// never issued.
func parseState(s string) (store.ModSeq, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != s {
		return 0, false
	}
	return store.ModSeq(n), true
}

// AccountID returns the JMAP id of an account.
func AccountID(id store.AccountID) string { return accountIDString(id) }
