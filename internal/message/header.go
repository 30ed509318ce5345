// Package message reads what Freehold keeps beside a stored message: the
// header summary (store.Envelope), a short text preview and whether the
// message has attachments. SMTP delivery, IMAP APPEND and JMAP import all
// summarise a message through Summarize.
//
// Input is untrusted and often malformed. Nothing here returns an error or
// panics: a header line without a colon is skipped, an undecodable encoded
// word is kept as written, a bad date is the zero time, a missing MIME
// boundary ends the multipart at the end of its parent. The raw bytes are
// never changed; callers store them byte for byte.
package message

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// Field is one header field: its name as written and its value unfolded
// (line breaks inside the value removed) but not otherwise decoded.
type Field struct {
	Name  string
	Value string
}

// Header is a parsed header block in its original order.
type Header []Field

// Get returns the value of the first field named name (case-insensitive),
// trimmed, or "" when absent.
func (h Header) Get(name string) string {
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			return strings.TrimSpace(f.Value)
		}
	}
	return ""
}

// Has reports whether a field named name is present.
func (h Header) Has(name string) bool {
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			return true
		}
	}
	return false
}

// Values returns the trimmed values of every field named name.
func (h Header) Values(name string) []string {
	var out []string
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			out = append(out, strings.TrimSpace(f.Value))
		}
	}
	return out
}

// maxHeaderFields bounds the work done on a hostile header block.
const maxHeaderFields = 2000

// SplitHeader returns the header block (without the blank line that ends
// it) and the body. A message without a blank line is all header. Both
// CRLF and bare LF line ends are recognised, since stored messages may come
// from IMAP APPEND as well as SMTP.
func SplitHeader(raw []byte) (header, body []byte) {
	// The header may also be empty: a message starting with a blank line.
	if bytes.HasPrefix(raw, []byte("\r\n")) {
		return nil, raw[2:]
	}
	if bytes.HasPrefix(raw, []byte("\n")) {
		return nil, raw[1:]
	}
	for i := 0; i < len(raw); {
		j := bytes.IndexByte(raw[i:], '\n')
		if j < 0 {
			return raw, nil
		}
		next := i + j + 1
		switch {
		case bytes.HasPrefix(raw[next:], []byte("\r\n")):
			return raw[:next], raw[next+2:]
		case bytes.HasPrefix(raw[next:], []byte("\n")):
			return raw[:next], raw[next+1:]
		}
		i = next
	}
	return raw, nil
}

// ParseHeader parses a header block leniently. Lines that are neither a
// "name: value" field nor a continuation of one are skipped (this includes
// an mbox "From " line).
func ParseHeader(block []byte) Header {
	var h Header
	for len(block) > 0 && len(h) < maxHeaderFields {
		line := block
		if i := bytes.IndexByte(block, '\n'); i >= 0 {
			line, block = block[:i], block[i+1:]
		} else {
			block = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			// RFC 5322 §2.2.3: unfolding removes the CRLF before the WSP.
			if len(h) > 0 {
				h[len(h)-1].Value += string(line)
			}
			continue
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			continue
		}
		name := string(bytes.TrimRight(line[:colon], " \t"))
		if !validFieldName(name) {
			continue
		}
		h = append(h, Field{Name: name, Value: string(line[colon+1:])})
	}
	return h
}

// validFieldName checks RFC 5322 §3.6.8 ftext: printable ASCII but colon.
func validFieldName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 33 || s[i] > 126 {
			return false
		}
	}
	return true
}

// cleanText makes s safe to show: valid UTF-8 (8-bit text that is not
// UTF-8 is read as Windows-1252, the usual culprit), control characters
// turned into spaces, runs of white space collapsed, trimmed.
func cleanText(s string) string {
	if !utf8.ValidString(s) {
		s = decodeWindows1252(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '\u00a0' || (r >= 0x80 && r < 0xa0) {
			r = ' '
		}
		if r == ' ' {
			if !space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		b.WriteRune(r)
	}
	return strings.TrimRight(b.String(), " ")
}
