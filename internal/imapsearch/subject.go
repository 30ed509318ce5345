package imapsearch

import (
	"strings"
)

// baseSubject implements BaseSubject.
func baseSubject(s string) string {
	b, _ := extractBaseSubject(s)
	return b
}

// extractBaseSubject follows RFC 5256 §2.1 on a decoded subject and also
// reports whether it was a reply or forward (some "Re:", "Fwd:", "(fwd)"
// or "[fwd: …]" was removed), which THREAD=REFERENCES needs. The result is
// folded with foldString.
func extractBaseSubject(s string) (base string, reply bool) {
	// (1) Tabs and continuations become spaces; runs of spaces, one.
	s = normalizeSpace(s)
	for {
		// (2) Remove trailers: "(fwd)" and white space, repeatedly.
		for {
			t := strings.TrimRight(s, " ")
			if len(t) >= 5 && strings.EqualFold(t[len(t)-5:], "(fwd)") {
				t, reply = t[:len(t)-5], true
			}
			if t == s {
				break
			}
			s = t
		}
		// (3)-(5) Remove leaders and blobs until nothing changes.
		for {
			t, r := stripLeader(s)
			reply = reply || r
			if b, ok := stripBlob(t); ok && strings.TrimLeft(b, " ") != "" {
				t = b
			}
			if t == s {
				break
			}
			s = t
		}
		// (6) "[fwd: subject]": unwrap and start again at (2).
		if len(s) >= 6 && strings.EqualFold(s[:5], "[fwd:") && s[len(s)-1] == ']' {
			s, reply = s[5:len(s)-1], true
			continue
		}
		return foldString(s), reply
	}
}

// stripLeader removes one subj-leader: a space, or *subj-blob subj-refwd
// where subj-refwd = ("re" / "fw" / "fwd") *WSP [subj-blob] ":".
func stripLeader(s string) (string, bool) {
	if strings.HasPrefix(s, " ") {
		return s[1:], false
	}
	t := s
	for {
		b, ok := stripBlob(t)
		if !ok {
			break
		}
		t = b
	}
	switch {
	case hasPrefixFold(t, "re"):
		t = t[2:]
	case hasPrefixFold(t, "fwd"):
		t = t[3:]
	case hasPrefixFold(t, "fw"):
		t = t[2:]
	default:
		return s, false
	}
	t = strings.TrimLeft(t, " ")
	if b, ok := stripBlob(t); ok {
		t = b
	}
	if !strings.HasPrefix(t, ":") {
		return s, false
	}
	return t[1:], true
}

// stripBlob removes one subj-blob: "[" *BLOBCHAR "]" *WSP, where BLOBCHAR
// is any character but "[" and "]".
func stripBlob(s string) (string, bool) {
	if !strings.HasPrefix(s, "[") {
		return s, false
	}
	end := strings.IndexAny(s[1:], "[]")
	if end < 0 || s[1+end] != ']' {
		return s, false
	}
	return strings.TrimLeft(s[end+2:], " "), true
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// normalizeSpace turns tabs, CR and LF into spaces and runs of spaces into
// one, allocating only when s needs it.
func normalizeSpace(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\t' || c == '\r' || c == '\n' || (c == ' ' && i > 0 && s[i-1] == ' ') {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\t' || c == '\r' || c == '\n' {
			c = ' '
		}
		if c == ' ' && len(b) > 0 && b[len(b)-1] == ' ' {
			continue
		}
		b = append(b, c)
	}
	return string(b)
}
