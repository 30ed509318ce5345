package imapserver

import (
	"sort"
	"strings"

	"freehold/internal/imapserver/imapwire"
	"freehold/internal/store"
)

// The store keeps keywords lower-case in JMAP spelling; IMAP system flags
// map onto "$" keywords. IMAP keywords are case-insensitive, so a keyword
// from a client is lower-cased, and a few well-known ones are given back
// in their registered spelling.

// systemFlags lists the IMAP system flags that are stored, in the order
// FLAGS shows them.
func systemFlags() []string {
	return []string{`\Answered`, `\Flagged`, `\Deleted`, `\Seen`, `\Draft`}
}

// wellKnownKeywords are always offered in FLAGS, in their registered
// spelling.
func wellKnownKeywords() []string {
	return []string{"$Forwarded", "$Junk", "$NotJunk", "$Phishing", "$MDNSent"}
}

// flagToKeyword maps a flag from a client to a store keyword. ok is false
// for \Recent (not stored, silently ignored) and unknown system flags.
func flagToKeyword(flag string) (kw string, ok bool) {
	lower := strings.ToLower(flag)
	switch lower {
	case `\seen`:
		return store.KeywordSeen, true
	case `\answered`:
		return store.KeywordAnswered, true
	case `\flagged`:
		return store.KeywordFlagged, true
	case `\deleted`:
		return store.KeywordDeleted, true
	case `\draft`:
		return store.KeywordDraft, true
	}
	if strings.HasPrefix(flag, `\`) {
		return "", false
	}
	return lower, true
}

// keywordToFlag maps a store keyword to its IMAP spelling.
func keywordToFlag(kw string) string {
	switch kw {
	case store.KeywordSeen:
		return `\Seen`
	case store.KeywordAnswered:
		return `\Answered`
	case store.KeywordFlagged:
		return `\Flagged`
	case store.KeywordDeleted:
		return `\Deleted`
	case store.KeywordDraft:
		return `\Draft`
	case "$forwarded":
		return "$Forwarded"
	case "$junk":
		return "$Junk"
	case "$notjunk":
		return "$NotJunk"
	case "$phishing":
		return "$Phishing"
	case "$mdnsent":
		return "$MDNSent"
	}
	return kw
}

// validKeyword reports whether a store keyword can be shown as an IMAP
// flag-keyword (an atom); JMAP may store others.
func validKeyword(kw string) bool {
	if kw == "" {
		return false
	}
	for i := 0; i < len(kw); i++ {
		if !imapwire.IsAtomChar(kw[i]) {
			return false
		}
	}
	return true
}

// writeFlags writes a parenthesised flag list for keywords.
func writeFlags(e *imapwire.Encoder, kws []string) {
	e.Byte('(')
	n := 0
	for _, kw := range kws {
		if !validKeyword(kw) {
			continue
		}
		if n > 0 {
			e.SP()
		}
		e.Atom(keywordToFlag(kw))
		n++
	}
	e.Byte(')')
}

// mailboxFlags returns the FLAGS of a mailbox: the system flags, the
// well-known keywords and the keywords in use, sorted.
func mailboxFlags(entries []store.MailboxEntry) []string {
	seen := map[string]bool{}
	var out []string
	add := func(f string) {
		if !seen[strings.ToLower(f)] {
			seen[strings.ToLower(f)] = true
			out = append(out, f)
		}
	}
	for _, f := range systemFlags() {
		add(f)
	}
	for _, w := range wellKnownKeywords() {
		add(w)
	}
	var extra []string
	// Most messages share a few keywords: look at each store keyword
	// once, not once per message.
	looked := map[string]bool{}
	for _, e := range entries {
		for _, kw := range e.Keywords {
			if looked[kw] {
				continue
			}
			looked[kw] = true
			if f := keywordToFlag(kw); validKeyword(kw) && !seen[strings.ToLower(f)] {
				seen[strings.ToLower(f)] = true
				extra = append(extra, f)
			}
		}
	}
	sort.Strings(extra)
	return append(out, extra...)
}
