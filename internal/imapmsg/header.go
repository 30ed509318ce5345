package imapmsg

import (
	"bytes"
	"strings"
)

// splitHeader splits an entity into its header block (with the blank line
// that ends it, when there is one) and its body. A header is read up to the
// first blank line. Lines that are neither fields nor continuations are
// kept in the header block and ignored, except on the first line of a MIME
// part (not of a top-level message): a part that does not start with a
// field or a blank line has no header at all.
func splitHeader(raw []byte, top bool) (header, body []byte) {
	i := 0
	for i < len(raw) {
		end := len(raw)
		if j := bytes.IndexByte(raw[i:], '\n'); j >= 0 {
			end = i + j + 1
		}
		line := raw[i:end]
		if isBlankLine(line) {
			return raw[:end], raw[end:]
		}
		if i == 0 && !top && !isFieldStart(line) {
			return raw[:0], raw
		}
		i = end
	}
	return raw, raw[len(raw):]
}

// headerBlock returns the header block of a top-level message.
func headerBlock(raw []byte) []byte {
	h, _ := splitHeader(raw, true)
	return h
}

// isBlankLine reports whether line (with its terminator) is empty.
func isBlankLine(line []byte) bool {
	switch len(line) {
	case 1:
		return line[0] == '\n'
	case 2:
		return line[0] == '\r' && line[1] == '\n'
	}
	return false
}

// isFieldStart reports whether line starts a header field: a non-empty
// name of printable ASCII other than ":", optional white space (the
// obsolete syntax of RFC 5322 §4.5), then ":".
func isFieldStart(line []byte) bool {
	n := 0
	for n < len(line) && line[n] > ' ' && line[n] < 127 && line[n] != ':' {
		n++
	}
	if n == 0 {
		return false
	}
	for n < len(line) && (line[n] == ' ' || line[n] == '\t') {
		n++
	}
	return n < len(line) && line[n] == ':'
}

// field is one header field. Raw is the whole field as written, folded
// lines and final line break included; Name and Value alias it.
type field struct {
	Name, Value, Raw []byte
}

// fieldIter walks the fields of a header block without allocating.
type fieldIter struct {
	h   []byte
	pos int
}

// next returns the next field, skipping lines that are not fields; ok is
// false at the blank line or the end of the block.
func (it *fieldIter) next() (f field, ok bool) {
	for it.pos < len(it.h) {
		start := it.pos
		end := lineEnd(it.h, start)
		if isBlankLine(it.h[start:end]) {
			it.pos = len(it.h)
			return field{}, false
		}
		// Extend over continuation lines.
		for end < len(it.h) && (it.h[end] == ' ' || it.h[end] == '\t') {
			end = lineEnd(it.h, end)
		}
		it.pos = end
		raw := it.h[start:end]
		colon := bytes.IndexByte(raw, ':')
		if colon <= 0 || raw[0] == ' ' || raw[0] == '\t' {
			continue // garbage line, or a continuation with no field
		}
		name := bytes.TrimRight(raw[:colon], " \t")
		if bytes.ContainsAny(name, " \t\r\n") {
			continue
		}
		return field{Name: name, Value: raw[colon+1:], Raw: raw}, true
	}
	return field{}, false
}

// lineEnd returns the index just past the line starting at i.
func lineEnd(b []byte, i int) int {
	if j := bytes.IndexByte(b[i:], '\n'); j >= 0 {
		return i + j + 1
	}
	return len(b)
}

// unfold removes the line breaks of a folded value (RFC 5322 §2.2.3) and
// trims surrounding white space. A lone CR or LF is removed too, since no
// IMAP quoted string may hold one.
func unfold(v []byte) string {
	v = bytes.TrimSpace(v)
	if bytes.IndexAny(v, "\r\n") < 0 {
		return string(v)
	}
	var b strings.Builder
	b.Grow(len(v))
	for _, c := range v {
		if c != '\r' && c != '\n' {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// headerGet returns the unfolded value of the first field called name.
func headerGet(h []byte, name string) string {
	it := fieldIter{h: h}
	for {
		f, ok := it.next()
		if !ok {
			return ""
		}
		if equalFoldASCII(f.Name, name) {
			return unfold(f.Value)
		}
	}
}

// headerGetAll returns the unfolded values of every field called name.
func headerGetAll(h []byte, name string) []string {
	var vs []string
	it := fieldIter{h: h}
	for {
		f, ok := it.next()
		if !ok {
			return vs
		}
		if equalFoldASCII(f.Name, name) {
			vs = append(vs, unfold(f.Value))
		}
	}
}

// equalFoldASCII compares a field name with s, ignoring ASCII case.
func equalFoldASCII(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := b[i], s[i]
		if x == y {
			continue
		}
		if x|0x20 != y|0x20 || x|0x20 < 'a' || x|0x20 > 'z' {
			return false
		}
	}
	return true
}

// appendHeaderFields appends the fields of header h whose names are (or,
// with not, are not) in names, as written, then (with blank) the blank line
// that ends a header (RFC 9051 §6.4.5 HEADER.FIELDS). It only scans h.
func appendHeaderFields(dst, h []byte, names []string, not, blank bool) []byte {
	it := fieldIter{h: h}
	for {
		f, ok := it.next()
		if !ok {
			break
		}
		in := false
		for _, n := range names {
			if equalFoldASCII(f.Name, n) {
				in = true
				break
			}
		}
		if in == not {
			continue
		}
		dst = append(dst, f.Raw...)
		if f.Raw[len(f.Raw)-1] != '\n' {
			dst = append(dst, '\r', '\n')
		}
	}
	if blank {
		dst = append(dst, '\r', '\n')
	}
	return dst
}
