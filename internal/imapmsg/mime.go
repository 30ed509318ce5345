package imapmsg

import (
	"bytes"
	"strings"
)

// maxDepth bounds the nesting of multiparts and encapsulated messages that
// Parse follows; deeper entities are leaves of type application/octet-stream.
// It keeps recursion (here and in clients reading BODYSTRUCTURE) bounded.
const maxDepth = 32

// parseMessage parses a top-level or encapsulated message.
func parseMessage(raw []byte, depth int) *Part {
	h, b := splitHeader(raw, true)
	p := &Part{Header: h, Body: b}
	fillPart(p, depth, false)
	return p
}

// parseEntity parses one part of a multipart. Inside multipart/digest the
// default type is message/rfc822 (RFC 2046 §5.1.5).
func parseEntity(raw []byte, depth int, digest bool) *Part {
	h, b := splitHeader(raw, false)
	p := &Part{Header: h, Body: b}
	fillPart(p, depth, digest)
	return p
}

// fillPart sets the media type of p and parses its children.
func fillPart(p *Part, depth int, digest bool) {
	ct := headerGet(p.Header, "Content-Type")
	typ, sub, params, ok := parseContentType(ct)
	switch {
	case ct == "" && digest:
		typ, sub = "message", "rfc822"
	case !ok:
		// RFC 2045 §5.2: a missing or invalid Content-Type means
		// text/plain; charset=us-ascii.
		typ, sub = "text", "plain"
		params = []Param{{"CHARSET", "US-ASCII"}}
	}
	p.Type, p.Subtype, p.Params = typ, sub, params
	switch {
	case typ == "multipart":
		if depth >= maxDepth {
			p.Type, p.Subtype, p.Params = "application", "octet-stream", nil
			return
		}
		boundary := paramGet(params, "boundary")
		if boundary == "" {
			p.Type, p.Subtype = "text", "plain"
			p.Params = []Param{{"CHARSET", "US-ASCII"}}
			return
		}
		for _, b := range splitMultipart(p.Body, boundary) {
			p.Parts = append(p.Parts, parseEntity(b, depth+1, sub == "digest"))
		}
	case typ == "message" && (sub == "rfc822" || sub == "global"):
		if depth >= maxDepth {
			p.Type, p.Subtype, p.Params = "application", "octet-stream", nil
			return
		}
		body := p.Body
		if enc := partEncoding(p); !identityEncoding(enc) {
			d, err := decodeCTE(body, enc)
			if err != nil {
				p.Type, p.Subtype = "application", "octet-stream"
				return
			}
			body = d
		}
		p.Message = parseMessage(body, depth+1)
	}
}

// identityEncoding reports whether a Content-Transfer-Encoding leaves the
// octets as they are.
func identityEncoding(enc string) bool {
	return enc == "7bit" || enc == "8bit" || enc == "binary"
}

// partEncoding returns the lower-case Content-Transfer-Encoding, "7bit" by
// default (RFC 2045 §6.1).
func partEncoding(p *Part) string {
	enc := strings.ToLower(headerGet(p.Header, "Content-Transfer-Encoding"))
	if i := strings.IndexAny(enc, " \t;("); i >= 0 {
		enc = enc[:i]
	}
	if enc == "" {
		return "7bit"
	}
	return enc
}

// splitMultipart returns the bodies of the parts of a multipart body
// (RFC 2046 §5.1.1). The line break before a delimiter belongs to the
// delimiter. Leniencies: a missing close delimiter ends the last part at
// the end of the body; a body without any delimiter yields one empty part,
// since a multipart must have at least one.
func splitMultipart(body []byte, boundary string) [][]byte {
	delim := []byte("--" + boundary)
	var parts [][]byte
	start := -1 // start of the current part's content, -1 in the preamble
	for i := 0; i < len(body); {
		end := lineEnd(body, i)
		line := body[i:end]
		if isDelimiter(line, delim) {
			if start >= 0 {
				parts = append(parts, body[start:trimLineBreakBefore(body, start, i)])
			}
			start = end
			if isCloseDelimiter(line, delim) {
				start = -1
				break
			}
		}
		i = end
	}
	if start >= 0 {
		parts = append(parts, body[start:])
	}
	if len(parts) == 0 {
		parts = append(parts, body[:0])
	}
	return parts
}

// trimLineBreakBefore returns the end of a part's content that a delimiter
// line at i closes: i minus the CRLF or LF before it, never before start.
func trimLineBreakBefore(b []byte, start, i int) int {
	if i > start && b[i-1] == '\n' {
		i--
		if i > start && b[i-1] == '\r' {
			i--
		}
	}
	return i
}

// isDelimiter reports whether line is "--boundary" or "--boundary--"
// followed only by white space (transport padding, RFC 2046 §5.1.1).
func isDelimiter(line, delim []byte) bool {
	if !bytes.HasPrefix(line, delim) {
		return false
	}
	rest := line[len(delim):]
	rest = bytes.TrimPrefix(rest, []byte("--"))
	return len(bytes.TrimRight(rest, " \t\r\n")) == 0
}

func isCloseDelimiter(line, delim []byte) bool {
	return bytes.HasPrefix(line[len(delim):], []byte("--"))
}

// parseContentType parses "type/subtype; name=value; …" leniently. ok is
// false when there is no usable type/subtype. Parameters that cannot be
// parsed are skipped.
func parseContentType(v string) (typ, sub string, params []Param, ok bool) {
	v = stripComments(v)
	mt, rest, _ := strings.Cut(v, ";")
	typ, sub, found := strings.Cut(strings.TrimSpace(mt), "/")
	typ = strings.ToLower(strings.TrimSpace(typ))
	sub = strings.ToLower(strings.TrimSpace(sub))
	if i := strings.IndexAny(sub, " \t"); i >= 0 {
		sub = sub[:i] // a missing ";" before the parameters
	}
	if !found || !isToken(typ) || !isToken(sub) {
		return "", "", nil, false
	}
	return typ, sub, parseParams(rest), true
}

// parseDisposition parses a Content-Disposition value.
func parseDisposition(v string) (disp string, params []Param) {
	v = stripComments(v)
	d, rest, _ := strings.Cut(v, ";")
	d = strings.TrimSpace(d)
	if !isToken(d) {
		return "", nil
	}
	return d, parseParams(rest)
}

// parseParams parses "; name=value" pairs. Values may be tokens or quoted
// strings; names and values are kept as written (RFC 2231 forms included).
func parseParams(s string) []Param {
	var ps []Param
	for {
		s = strings.TrimLeft(s, " \t;")
		if s == "" {
			return ps
		}
		eq := strings.IndexAny(s, "=;")
		if eq < 0 || s[eq] == ';' {
			// A name without a value: skip it.
			if eq < 0 {
				return ps
			}
			s = s[eq:]
			continue
		}
		name := strings.TrimSpace(s[:eq])
		s = strings.TrimLeft(s[eq+1:], " \t")
		var val string
		if strings.HasPrefix(s, `"`) {
			val, s = readQuoted(s[1:])
		} else {
			end := strings.IndexByte(s, ';')
			if end < 0 {
				end = len(s)
			}
			val, s = strings.TrimSpace(s[:end]), s[end:]
		}
		if isToken(name) {
			ps = append(ps, Param{Name: name, Value: val})
		}
	}
}

// readQuoted reads the rest of a quoted string (after the opening quote),
// undoing backslash escapes; an unterminated string runs to the end.
func readQuoted(s string) (val, rest string) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case '"':
			return b.String(), s[i+1:]
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), ""
}

// stripComments removes RFC 5322 comments outside quoted strings.
func stripComments(s string) string {
	if strings.IndexByte(s, '(') < 0 {
		return s
	}
	var b strings.Builder
	depth, quoted := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && (quoted || depth > 0) && i+1 < len(s):
			if depth == 0 {
				b.WriteByte(c)
				b.WriteByte(s[i+1])
			}
			i++
		case quoted:
			if c == '"' {
				quoted = false
			}
			b.WriteByte(c)
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth > 0:
		default:
			if c == '"' {
				quoted = true
			}
			b.WriteByte(c)
		}
	}
	return b.String()
}

// isToken reports whether s is a non-empty RFC 2045 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 127 || strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0 {
			return false
		}
	}
	return true
}

// paramGet returns the value of parameter name (case-insensitive).
func paramGet(ps []Param, name string) string {
	for _, p := range ps {
		if strings.EqualFold(p.Name, name) {
			return p.Value
		}
	}
	return ""
}
