package msgauth

import (
	"strings"

	"github.com/emersion/go-msgauth/authres"
)

// StripForgedAuthResults removes the Authentication-Results fields that
// claim to come from hostname (our authserv-id): only we may write those,
// so any already in a received message is forged (RFC 8601 §5). Fields
// from other authserv-ids are kept. raw is not modified; when nothing is
// removed it is returned as is.
func StripForgedAuthResults(raw []byte, hostname string) []byte {
	fields, _ := headerFields(raw)
	var drop [][2]int
	for _, f := range fields {
		if !strings.EqualFold(f.name, "Authentication-Results") {
			continue
		}
		if strings.EqualFold(authservID(unfold(f.value)), strings.TrimSuffix(hostname, ".")) {
			drop = append(drop, [2]int{f.start, f.end})
		}
	}
	if len(drop) == 0 {
		return raw
	}
	out := make([]byte, 0, len(raw))
	prev := 0
	for _, d := range drop {
		out = append(out, raw[prev:d[0]]...)
		prev = d[1]
	}
	return append(out, raw[prev:]...)
}

// authservID returns the authserv-id of an Authentication-Results value:
// the first token, after any comment, before ";" or a version number.
func authservID(v string) string {
	if id, _, err := authres.Parse(v); err == nil && id != "" {
		return strings.TrimSuffix(strings.TrimSpace(id), ".")
	}
	v = stripComments(v)
	v = strings.TrimSpace(v)
	if i := strings.IndexAny(v, "; \t"); i >= 0 {
		v = v[:i]
	}
	return strings.TrimSuffix(strings.Trim(v, `"`), ".")
}

// stripComments removes (possibly nested) parenthesised comments.
func stripComments(s string) string {
	var b strings.Builder
	depth := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && depth > 0:
			i++
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth == 0:
			b.WriteByte(c)
		}
	}
	return b.String()
}
