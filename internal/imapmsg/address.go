package imapmsg

import (
	"strings"
)

// addrKind distinguishes mailboxes from RFC 9051's group markers.
type addrKind uint8

const (
	addrMailbox    addrKind = iota
	addrGroupStart          // (NIL NIL "name" NIL)
	addrGroupEnd            // (NIL NIL NIL NIL)
)

// address is one element of an ENVELOPE address list. Name is the display
// name as written (quotes removed, RFC 2047 words not decoded).
type address struct {
	Kind                     addrKind
	Name, Adl, Mailbox, Host string
}

// token kinds of the address lexer.
type tokKind uint8

const (
	tokWord    tokKind = iota // atom, or a run of atext and dots
	tokQuoted                 // quoted string, unescaped
	tokComment                // comment text without the parentheses
	tokSpecial                // one of < > @ , ; : [ domain literal ]
	tokLiteral                // [domain literal], brackets kept
)

type token struct {
	kind tokKind
	text string
}

// lexAddresses splits an unfolded address header into tokens. It never
// fails: an unterminated quote or comment runs to the end.
func lexAddresses(s string) []token {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '"':
			v, rest := readQuoted(s[i+1:])
			toks = append(toks, token{tokQuoted, v})
			i = len(s) - len(rest)
		case c == '(':
			v, n := readComment(s[i:])
			toks = append(toks, token{tokComment, v})
			i += n
		case c == '[':
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				end = len(s) - i - 1
			}
			toks = append(toks, token{tokLiteral, s[i : i+end+1]})
			i += end + 1
		case strings.IndexByte("<>@,;:", c) >= 0:
			toks = append(toks, token{tokSpecial, s[i : i+1]})
			i++
		default:
			j := i
			for j < len(s) && strings.IndexByte(" \t\r\n\"(<>@,;:[", s[j]) < 0 {
				j++
			}
			toks = append(toks, token{tokWord, s[i:j]})
			i = j
		}
	}
	return toks
}

// readComment reads a (possibly nested) comment at the start of s and
// returns its text and length.
func readComment(s string) (string, int) {
	depth := 0
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case c == '(':
			if depth > 0 {
				b.WriteByte(c)
			}
			depth++
		case c == ')':
			depth--
			if depth == 0 {
				return strings.TrimSpace(b.String()), i + 1
			}
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return strings.TrimSpace(b.String()), len(s)
}

// parseAddressList parses an address header leniently (RFC 5322 §3.4 with
// the obsolete forms of §4.4): mailboxes, name-addr with optional route,
// groups; junk produces a mailbox rather than an error.
func parseAddressList(s string) []address {
	toks := lexAddresses(s)
	var out []address
	var item []token
	inGroup, inAngle := false, false
	for _, t := range toks {
		if t.kind == tokSpecial {
			switch t.text {
			case "<":
				inAngle = true
			case ">":
				inAngle = false
			case ",":
				if !inAngle {
					out = appendItem(out, item)
					item = item[:0]
					continue
				}
			case ";":
				if !inAngle {
					out = appendItem(out, item)
					item = item[:0]
					if inGroup {
						out = append(out, address{Kind: addrGroupEnd})
						inGroup = false
					}
					continue
				}
			case ":":
				if !inAngle && !inGroup && !hasSpecial(item, "@") {
					out = append(out, address{Kind: addrGroupStart, Mailbox: phrase(item)})
					inGroup = true
					item = item[:0]
					continue
				}
			}
		}
		item = append(item, t)
	}
	out = appendItem(out, item)
	if inGroup {
		out = append(out, address{Kind: addrGroupEnd})
	}
	return out
}

func hasSpecial(toks []token, s string) bool {
	for _, t := range toks {
		if t.kind == tokSpecial && t.text == s {
			return true
		}
	}
	return false
}

// phrase joins the words of a display name or group name with single
// spaces; comments are left out.
func phrase(toks []token) string {
	var b strings.Builder
	for _, t := range toks {
		if t.kind == tokComment {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(t.text)
	}
	return b.String()
}

// appendItem parses the tokens of one mailbox and appends it to out.
func appendItem(out []address, item []token) []address {
	if len(item) == 0 {
		return out
	}
	lt := -1
	for i, t := range item {
		if t.kind == tokSpecial && t.text == "<" {
			lt = i
			break
		}
	}
	var a address
	var spec []token
	if lt >= 0 {
		a.Name = phrase(item[:lt])
		spec = item[lt+1:]
		for i, t := range spec {
			if t.kind == tokSpecial && t.text == ">" {
				spec = spec[:i]
				break
			}
		}
		a.Adl, spec = splitRoute(spec)
	} else {
		spec = item
		for _, t := range item {
			if t.kind == tokComment && a.Name == "" {
				a.Name = t.text // "addr (Name)", the obsolete way to name
			}
		}
	}
	a.Mailbox, a.Host = addrSpec(spec)
	if a.Mailbox == "" && a.Host == "" && a.Name == "" {
		return out
	}
	return append(out, a)
}

// splitRoute separates an obsolete source route "@a,@b:" from the
// addr-spec inside angle brackets.
func splitRoute(spec []token) (string, []token) {
	if len(spec) == 0 || spec[0].kind != tokSpecial || spec[0].text != "@" {
		return "", spec
	}
	for i, t := range spec {
		if t.kind == tokSpecial && t.text == ":" {
			var b strings.Builder
			for _, r := range spec[:i] {
				if r.kind != tokComment {
					b.WriteString(r.text)
				}
			}
			return b.String(), spec[i+1:]
		}
	}
	return "", spec
}

// addrSpec joins the tokens of local-part "@" domain. The local part is
// everything before the last "@"; a quoted local part that needs quotes
// keeps them.
func addrSpec(spec []token) (local, domain string) {
	at := -1
	for i, t := range spec {
		if t.kind == tokSpecial && t.text == "@" {
			at = i
		}
	}
	if at < 0 {
		return joinSpec(spec), ""
	}
	return joinSpec(spec[:at]), joinSpec(spec[at+1:])
}

func joinSpec(toks []token) string {
	var b strings.Builder
	for _, t := range toks {
		switch t.kind {
		case tokComment:
		case tokQuoted:
			if isDotAtom(t.text) {
				b.WriteString(t.text)
			} else {
				b.WriteByte('"')
				for i := 0; i < len(t.text); i++ {
					if c := t.text[i]; c == '"' || c == '\\' {
						b.WriteByte('\\')
					}
					b.WriteByte(t.text[i])
				}
				b.WriteByte('"')
			}
		default:
			b.WriteString(t.text)
		}
	}
	return b.String()
}

// isDotAtom reports whether s can be written without quotes as a local part.
func isDotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == 127 || strings.IndexByte(`()<>[]:;@\,"`, c) >= 0 {
			return false
		}
	}
	return true
}
