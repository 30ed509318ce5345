package imapmsg

import (
	"fmt"
	"strconv"
	"strings"
)

// appendSectionName appends the section-spec of s as a FETCH response
// names it (RFC 9051 §7.5.2 "BODY[<section>]").
func appendSectionName(dst []byte, s Section) []byte {
	for i, n := range s.Part {
		if i > 0 {
			dst = append(dst, '.')
		}
		dst = strconv.AppendInt(dst, int64(n), 10)
	}
	if s.Specifier == SpecNone {
		return dst
	}
	if len(s.Part) > 0 {
		dst = append(dst, '.')
	}
	dst = append(dst, s.Specifier...)
	if s.Specifier == SpecHeaderFields || s.Specifier == SpecHeaderFieldsNot {
		dst = append(dst, " ("...)
		for i, f := range s.Fields {
			if i > 0 {
				dst = append(dst, ' ')
			}
			dst = appendAstring(dst, f)
		}
		dst = append(dst, ')')
	}
	return dst
}

// extract implements Extract without the partial.
func extract(raw []byte, s Section) ([]byte, error) {
	switch s.Specifier {
	case SpecNone, SpecHeader, SpecText, SpecMIME:
	case SpecHeaderFields, SpecHeaderFieldsNot:
		if len(s.Fields) == 0 {
			return nil, fmt.Errorf("%w: %s without fields", ErrBadSection, s.Specifier)
		}
	default:
		return nil, fmt.Errorf("%w: unknown specifier %q", ErrBadSection, s.Specifier)
	}
	if len(s.Part) == 0 {
		// The top-level message: header-only sections scan the header
		// block only, so that FETCH of headers never parses MIME.
		switch s.Specifier {
		case SpecNone:
			return raw, nil
		case SpecMIME:
			return nil, fmt.Errorf("%w: MIME needs a part number", ErrBadSection)
		case SpecText:
			_, body := splitHeader(raw, true)
			return body, nil
		}
		return headerSection(headerBlock(raw), s), nil
	}
	p, err := findPart(Parse(raw), s.Part)
	if err != nil {
		return nil, err
	}
	switch s.Specifier {
	case SpecNone:
		return p.Body, nil
	case SpecMIME:
		return p.Header, nil
	}
	// HEADER, HEADER.FIELDS[.NOT] and TEXT of a part are those of the
	// message a message/rfc822 part encapsulates.
	if p.Message == nil {
		return nil, fmt.Errorf("%w: part %v is not a message", ErrNoSuchPart, s.Part)
	}
	if s.Specifier == SpecText {
		return p.Message.Body, nil
	}
	return headerSection(p.Message.Header, s), nil
}

// headerSection returns HEADER, HEADER.FIELDS or HEADER.FIELDS.NOT of the
// header block h. The blank line that ends a header is included when the
// message has one: RFC 9051 §6.4.5 leaves it out only for a message with
// no body and no blank line, which is when h lacks it.
func headerSection(h []byte, s Section) []byte {
	switch s.Specifier {
	case SpecHeaderFields:
		return appendHeaderFields(nil, h, s.Fields, false, endsWithBlankLine(h))
	case SpecHeaderFieldsNot:
		return appendHeaderFields(nil, h, s.Fields, true, endsWithBlankLine(h))
	}
	return h
}

// endsWithBlankLine reports whether a header block ends with its blank line.
func endsWithBlankLine(h []byte) bool {
	n := len(h)
	switch {
	case n == 0:
		return false
	case n >= 2 && h[n-1] == '\n' && h[n-2] == '\n':
		return true
	case n == 2 && h[0] == '\r' && h[1] == '\n':
		return true
	case n == 1 && h[0] == '\n':
		return true
	}
	return n >= 4 && string(h[n-4:]) == "\r\n\r\n" || n >= 3 && string(h[n-3:]) == "\n\r\n"
}

// findPart follows a part number (RFC 9051 §6.4.5): a multipart's parts
// are numbered from 1; a part that is not a multipart has one part, 1,
// itself (its body); after a message/rfc822 part, numbers go on into the
// parts of the message it encapsulates.
func findPart(root *Part, path []int) (*Part, error) {
	cur := root
	for i, n := range path {
		if i > 0 && cur.Message != nil {
			cur = cur.Message
		}
		switch {
		case len(cur.Parts) > 0:
			if n < 1 || n > len(cur.Parts) {
				return nil, fmt.Errorf("%w: %v", ErrNoSuchPart, path)
			}
			cur = cur.Parts[n-1]
		case n != 1:
			return nil, fmt.Errorf("%w: %v", ErrNoSuchPart, path)
		}
	}
	return cur, nil
}

// extractBinary implements ExtractBinary.
func extractBinary(raw []byte, part []int) ([]byte, error) {
	root := Parse(raw)
	if len(part) == 0 {
		if len(root.Parts) > 0 || identityEncoding(root.Encoding()) {
			return raw, nil
		}
		// A single-part message with an encoded body: its header then the
		// decoded body.
		body, err := root.Decoded()
		if err != nil {
			return nil, err
		}
		out := make([]byte, 0, len(root.Header)+len(body))
		return append(append(out, root.Header...), body...), nil
	}
	p, err := findPart(root, part)
	if err != nil {
		return nil, err
	}
	return p.Decoded()
}

// appendAstring appends s as an atom when it is one, else as a string.
func appendAstring(dst []byte, s string) []byte {
	if s == "" || strings.EqualFold(s, "NIL") {
		return appendString(dst, s, false)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 127 || strings.IndexByte(`(){%*"\]`, c) >= 0 {
			return appendString(dst, s, false)
		}
	}
	return append(dst, s...)
}
