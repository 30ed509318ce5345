package spf

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// macroEnv holds the values macros expand to (RFC 7208 §7.3).
type macroEnv struct {
	sender     string // s
	local      string // l
	senderDom  string // o
	domain     string // d: the current domain
	ip         string // i: dotted IPv4 or dot-separated IPv6 nibbles
	readableIP string // c
	version    string // v: "in-addr" or "ip6"
	helo       string // h
	receiver   string // r
	timestamp  string // t
	// ptr computes the p macro (a validated domain name of the client,
	// or "unknown"); it does DNS lookups, so it runs only when used.
	ptr func() string
}

// expand expands a macro-string (RFC 7208 §7). With env nil it only
// checks the syntax. expMode allows the c, r and t letters, which are
// valid only in explanation strings.
func expand(s string, env *macroEnv, expMode bool) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			if c < 0x21 || c > 0x7e {
				if !(expMode && c == ' ') {
					return "", fmt.Errorf("bad character %q in macro-string", c)
				}
			}
			b.WriteByte(c)
			continue
		}
		if i+1 >= len(s) {
			return "", errors.New("lone % at end of macro-string")
		}
		i++
		switch s[i] {
		case '%':
			b.WriteByte('%')
		case '_':
			b.WriteByte(' ')
		case '-':
			b.WriteString("%20")
		case '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return "", errors.New("unterminated macro")
			}
			v, err := expandOne(s[i+1:i+end], env, expMode)
			if err != nil {
				return "", err
			}
			b.WriteString(v)
			i += end
		default:
			return "", fmt.Errorf("bad macro %%%c", s[i])
		}
	}
	return b.String(), nil
}

// expandOne expands the inside of one %{...}: a letter, transformers
// (*DIGIT ["r"]) and delimiters.
func expandOne(m string, env *macroEnv, expMode bool) (string, error) {
	if m == "" {
		return "", errors.New("empty macro")
	}
	letter := m[0]
	lower := letter | 0x20
	rest := m[1:]
	j := 0
	for j < len(rest) && isDigit(rest[j]) {
		j++
	}
	keep := 0
	if j > 0 {
		n, err := strconv.Atoi(rest[:j])
		if err != nil || n == 0 || n > 128 {
			return "", fmt.Errorf("bad macro transformer %q", rest[:j])
		}
		keep = n
	}
	rest = rest[j:]
	reverse := false
	if rest != "" && (rest[0] == 'r' || rest[0] == 'R') {
		reverse, rest = true, rest[1:]
	}
	for k := 0; k < len(rest); k++ {
		if !strings.ContainsRune(".-+,/_=", rune(rest[k])) {
			return "", fmt.Errorf("bad macro delimiter %q", rest[k])
		}
	}
	delims := rest
	if delims == "" {
		delims = "."
	}
	var value string
	switch lower {
	case 's', 'l', 'o', 'd', 'i', 'p', 'v', 'h':
	case 'c', 'r', 't':
		if !expMode {
			return "", fmt.Errorf("macro %%{%c} only allowed in explanations", letter)
		}
	default:
		return "", fmt.Errorf("unknown macro letter %q", letter)
	}
	if env == nil {
		return "", nil
	}
	switch lower {
	case 's':
		value = env.sender
	case 'l':
		value = env.local
	case 'o':
		value = env.senderDom
	case 'd':
		value = env.domain
	case 'i':
		value = env.ip
	case 'p':
		value = env.ptr()
	case 'v':
		value = env.version
	case 'h':
		value = env.helo
	case 'c':
		value = env.readableIP
	case 'r':
		value = env.receiver
	case 't':
		value = env.timestamp
	}
	parts := splitAny(value, delims)
	if reverse {
		for a, b := 0, len(parts)-1; a < b; a, b = a+1, b-1 {
			parts[a], parts[b] = parts[b], parts[a]
		}
	}
	if keep > 0 && keep < len(parts) {
		parts = parts[len(parts)-keep:]
	}
	out := strings.Join(parts, ".")
	if letter != lower {
		out = urlEscape(out)
	}
	return out, nil
}

// urlEscape escapes all but RFC 3986 unreserved characters, as upper-case
// macro letters require (RFC 7208 §7.3).
func urlEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlpha(c) || isDigit(c) || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// splitAny splits s at every byte found in delims, keeping empty parts.
func splitAny(s, delims string) []string {
	var parts []string
	start := 0
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(delims, s[i]) >= 0 {
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}
