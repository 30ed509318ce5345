package smtpserver

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Parse errors. They become 500/501 replies; the text is for the log.
var (
	errEmptyLine  = errors.New("empty command line")
	errBadVerb    = errors.New("malformed command verb")
	errControl    = errors.New("control character in command line")
	errBadPath    = errors.New("malformed path")
	errBadParam   = errors.New("malformed parameter")
	errDuplicated = errors.New("duplicate parameter")
)

// parseCommand splits a command line into its upper-case verb and its
// argument (RFC 5321 §4.1.1: verb, then SP and arguments). It refuses
// NUL and other control characters except HTAB anywhere in the line.
func parseCommand(line []byte) (verb, arg string, err error) {
	if len(line) == 0 {
		return "", "", errEmptyLine
	}
	for _, b := range line {
		if (b < 0x20 && b != '\t') || b == 0x7f {
			return "", "", errControl
		}
	}
	s := string(line)
	v, rest, _ := strings.Cut(s, " ")
	if len(v) == 0 || len(v) > 12 {
		return "", "", errBadVerb
	}
	for i := 0; i < len(v); i++ {
		b := v[i]
		if !('A' <= b && b <= 'Z' || 'a' <= b && b <= 'z') {
			return "", "", errBadVerb
		}
	}
	return strings.ToUpper(v), strings.TrimRight(rest, " \t"), nil
}

// param is one ESMTP parameter (RFC 5321 §4.1.2 esmtp-param).
type param struct {
	key   string // upper case
	value string
	set   bool // "KEY=value" rather than "KEY"
}

// parsePathArg parses the argument of MAIL or RCPT: a keyword ("FROM:"
// or "TO:"), a path in angle brackets and ESMTP parameters
// (RFC 5321 §4.1.2). It is lenient where clients commonly are: spaces
// after the colon, and a path without brackets when no parameters follow.
// The path is returned without brackets and with a source route (RFC 5321
// §4.1.1.3, Appendix C) dropped; "" is the null path "<>".
func parsePathArg(arg, keyword string) (path string, params []param, err error) {
	if len(arg) < len(keyword) || !strings.EqualFold(arg[:len(keyword)], keyword) {
		return "", nil, fmt.Errorf("%w: expected %s", errBadPath, keyword)
	}
	s := strings.TrimLeft(arg[len(keyword):], " ")
	if !utf8.ValidString(s) {
		return "", nil, fmt.Errorf("%w: invalid UTF-8", errBadPath)
	}
	var rest string
	if strings.HasPrefix(s, "<") {
		end := closingBracket(s)
		if end < 0 {
			return "", nil, fmt.Errorf("%w: missing '>'", errBadPath)
		}
		path, rest = s[1:end], s[end+1:]
	} else {
		path, rest, _ = strings.Cut(s, " ")
		if path == "" {
			return "", nil, fmt.Errorf("%w: missing path", errBadPath)
		}
	}
	if strings.HasPrefix(path, "@") {
		// A-d-l ":" — an obsolete source route, ignored.
		i := strings.IndexByte(path, ':')
		if i < 0 {
			return "", nil, fmt.Errorf("%w: bad source route", errBadPath)
		}
		path = path[i+1:]
	}
	if path != "" {
		if path, err = unquoteLocal(path); err != nil {
			return "", nil, err
		}
	}
	if rest != "" && rest[0] != ' ' {
		return "", nil, fmt.Errorf("%w: junk after path", errBadPath)
	}
	params, err = parseParams(rest)
	return path, params, err
}

// closingBracket finds the '>' that ends a path starting with '<',
// skipping a quoted local part.
func closingBracket(s string) int {
	quoted := false
	for i := 1; i < len(s); i++ {
		switch {
		case quoted && s[i] == '\\':
			i++
		case s[i] == '"':
			quoted = !quoted
		case !quoted && s[i] == '>':
			return i
		}
	}
	return -1
}

// unquoteLocal turns a Quoted-string local part into its content
// (RFC 5321 §4.1.2), so that "a.b"@x and a.b@x are the same mailbox. A
// content that needs quoting (space, specials) stays refused later by
// address validation.
func unquoteLocal(p string) (string, error) {
	if !strings.HasPrefix(p, `"`) {
		return p, nil
	}
	var b strings.Builder
	for i := 1; i < len(p); i++ {
		switch p[i] {
		case '\\':
			if i+1 >= len(p) {
				return "", fmt.Errorf("%w: bad quoted-pair", errBadPath)
			}
			i++
			b.WriteByte(p[i])
		case '"':
			if i+1 >= len(p) || p[i+1] != '@' {
				return "", fmt.Errorf("%w: bad quoted local part", errBadPath)
			}
			b.WriteString(p[i+1:])
			return b.String(), nil
		default:
			b.WriteByte(p[i])
		}
	}
	return "", fmt.Errorf("%w: unterminated quoted local part", errBadPath)
}

// parseParams parses " KEY[=VALUE] ..." (RFC 5321 §4.1.2 Mail-parameters
// and Rcpt-parameters). Keys are case-insensitive; a key may not repeat.
func parseParams(s string) ([]param, error) {
	var out []param
	for _, f := range strings.Fields(s) {
		k, v, set := strings.Cut(f, "=")
		if !validKeyword(k) || (set && v == "") {
			return nil, fmt.Errorf("%w: %q", errBadParam, f)
		}
		k = strings.ToUpper(k)
		for _, p := range out {
			if p.key == k {
				return nil, fmt.Errorf("%w: %s", errDuplicated, k)
			}
		}
		out = append(out, param{key: k, value: v, set: set})
	}
	return out, nil
}

// validKeyword checks esmtp-keyword: (ALPHA / DIGIT) *(ALPHA / DIGIT / "-").
func validKeyword(k string) bool {
	if k == "" || k[0] == '-' {
		return false
	}
	for i := 0; i < len(k); i++ {
		b := k[i]
		if !('A' <= b && b <= 'Z' || 'a' <= b && b <= 'z' || '0' <= b && b <= '9' || b == '-') {
			return false
		}
	}
	return true
}

// isASCII reports whether s has only 7-bit characters.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
