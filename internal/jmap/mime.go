package jmap

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/quotedprintable"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
)

// The MIME reader here gives JMAP its view of a message: the part tree with
// the byte ranges of each part's header and body in the raw message, so
// that bodyStructure, body values, part blobs and header properties are
// all read from the same bytes. It is lenient: it never fails, and
// malformed structure degrades to fewer, larger parts.

// Limits on the work spent on one message.
const (
	maxMIMEDepth = 20
	maxMIMEParts = 1000
)

// rawField is a header field as written: Raw is everything after the
// colon up to the line end that ends the field, folds included.
type rawField struct {
	Name string
	Raw  string
}

type mimePart struct {
	partID     string // "" for multipart containers
	header     []rawField
	bodyStart  int
	bodyEnd    int
	mediaType  string // lower-case type/subtype
	params     map[string]string
	disp       string // lower-case disposition type, "" when absent
	dispParams map[string]string
	cte        string
	subParts   []*mimePart
}

// parseMIME parses a raw message.
func parseMIME(raw []byte) *mimePart {
	n := 0
	return parsePart(raw, 0, len(raw), "", 0, &n, "text/plain")
}

func parsePart(raw []byte, start, end int, prefix string, depth int, count *int, defType string) *mimePart {
	*count++
	p := &mimePart{}
	p.header, p.bodyStart = parseRawHeader(raw[start:end])
	p.bodyStart += start
	p.bodyEnd = end
	p.mediaType, p.params = parseContentType(p.get("Content-Type"), defType)
	if d := p.get("Content-Disposition"); d != "" {
		p.disp, p.dispParams = parseLooseMediaType(d)
	}
	p.cte = strings.ToLower(strings.TrimSpace(p.get("Content-Transfer-Encoding")))
	boundary := p.params["boundary"]
	if !strings.HasPrefix(p.mediaType, "multipart/") || boundary == "" || depth >= maxMIMEDepth || *count >= maxMIMEParts {
		if strings.HasPrefix(p.mediaType, "multipart/") {
			// A multipart we cannot split is shown as one opaque part.
			p.mediaType = "application/octet-stream"
		}
		p.partID = prefix
		if p.partID == "" {
			p.partID = "1"
		}
		return p
	}
	childDef := "text/plain"
	if p.mediaType == "multipart/digest" {
		childDef = "message/rfc822"
	}
	for i, r := range splitMultipart(raw, p.bodyStart, p.bodyEnd, boundary) {
		if *count >= maxMIMEParts {
			break
		}
		id := strconv.Itoa(i + 1)
		if prefix != "" {
			id = prefix + "." + id
		}
		p.subParts = append(p.subParts, parsePart(raw, r[0], r[1], id, depth+1, count, childDef))
	}
	return p
}

// parseRawHeader splits a header block into fields and returns the offset
// of the body (after the blank line, or the end when there is none). A
// field's Raw keeps its folds and line ends as written.
func parseRawHeader(b []byte) ([]rawField, int) {
	var fields []rawField
	valStart, valEnd := -1, -1 // the current field's value range
	flush := func() {
		if valStart >= 0 {
			fields[len(fields)-1].Raw = string(b[valStart:valEnd])
		}
		valStart = -1
	}
	i := 0
	for i < len(b) {
		lineEnd := bytes.IndexByte(b[i:], '\n')
		next := len(b)
		if lineEnd < 0 {
			lineEnd = len(b)
		} else {
			lineEnd += i
			next = lineEnd + 1
		}
		content := lineEnd
		if content > i && b[content-1] == '\r' {
			content--
		}
		if content == i {
			flush()
			return fields, next
		}
		switch {
		case b[i] == ' ' || b[i] == '\t':
			if valStart >= 0 {
				valEnd = content
			}
		default:
			flush()
			if c := bytes.IndexByte(b[i:content], ':'); c > 0 {
				fields = append(fields, rawField{Name: string(bytes.TrimSpace(b[i : i+c]))})
				valStart, valEnd = i+c+1, content
			}
		}
		i = next
	}
	flush()
	return fields, len(b)
}

// get returns the first field's unfolded value, trimmed.
func (p *mimePart) get(name string) string {
	for _, f := range p.header {
		if strings.EqualFold(f.Name, name) {
			return strings.TrimSpace(unfold(f.Raw))
		}
	}
	return ""
}

func unfold(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.NewReplacer("\r\n", "", "\n", "", "\r", "").Replace(s)
}

func parseLooseMediaType(v string) (string, map[string]string) {
	mt, params, err := mime.ParseMediaType(v)
	if err != nil && mt == "" {
		mt, _, _ = strings.Cut(v, ";")
		mt = strings.ToLower(strings.TrimSpace(mt))
	}
	if params == nil {
		params = map[string]string{}
	}
	return mt, params
}

func parseContentType(v, def string) (string, map[string]string) {
	if v == "" {
		return def, map[string]string{}
	}
	mt, params := parseLooseMediaType(v)
	if !strings.Contains(mt, "/") {
		// RFC 2045 §5.2: an unusable Content-Type is text/plain.
		return "text/plain", map[string]string{}
	}
	return mt, params
}

// splitMultipart returns the [start, end) ranges of a multipart body's
// parts (RFC 2046 §5.1.1). A missing close delimiter ends the last part at
// the end of the body.
func splitMultipart(raw []byte, start, end int, boundary string) [][2]int {
	delim := []byte("--" + boundary)
	var out [][2]int
	partStart := -1
	i := start
	for i < end {
		lineEnd := bytes.IndexByte(raw[i:end], '\n')
		next := end
		if lineEnd >= 0 {
			next = i + lineEnd + 1
		}
		line := raw[i:next]
		if bytes.HasPrefix(line, delim) {
			rest := bytes.TrimRight(line[len(delim):], " \t\r\n")
			closing := bytes.Equal(rest, []byte("--"))
			if len(rest) == 0 || closing {
				if partStart >= 0 {
					// The line break before the delimiter belongs to it.
					pe := i
					if pe > partStart && raw[pe-1] == '\n' {
						pe--
						if pe > partStart && raw[pe-1] == '\r' {
							pe--
						}
					}
					out = append(out, [2]int{partStart, pe})
				}
				if closing {
					return out
				}
				partStart = next
				if len(out) >= maxMIMEParts {
					return out
				}
			}
		}
		i = next
	}
	if partStart >= 0 && partStart <= end {
		out = append(out, [2]int{partStart, end})
	}
	return out
}

// walk calls fn on p and every descendant, depth first.
func (p *mimePart) walk(fn func(*mimePart)) {
	fn(p)
	for _, s := range p.subParts {
		s.walk(fn)
	}
}

// find returns the leaf part with this partId.
func (p *mimePart) find(partID string) *mimePart {
	var out *mimePart
	p.walk(func(q *mimePart) {
		if out == nil && q.partID == partID && len(q.subParts) == 0 && !strings.HasPrefix(q.mediaType, "multipart/") {
			out = q
		}
	})
	return out
}

// decoded returns the part's body with its transfer encoding removed.
func (p *mimePart) decoded(raw []byte) []byte {
	body := raw[p.bodyStart:p.bodyEnd]
	switch p.cte {
	case "base64":
		clean := make([]byte, 0, len(body))
		for _, c := range body {
			if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' {
				clean = append(clean, c)
			}
		}
		if len(clean)%4 == 1 {
			// A lone trailing character carries no whole byte.
			clean = clean[:len(clean)-1]
		}
		out, _ := base64.RawStdEncoding.DecodeString(string(clean))
		return out
	case "quoted-printable":
		out, _ := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
		return out
	}
	return body
}

// charset returns the part's charset for text parts, defaulting to
// us-ascii (RFC 2046 §4.1.2).
func (p *mimePart) charset() string {
	if !strings.HasPrefix(p.mediaType, "text/") {
		return ""
	}
	if cs := p.params["charset"]; cs != "" {
		return strings.ToLower(cs)
	}
	return "us-ascii"
}

// text returns the decoded text of a text part, and whether decoding
// met a problem (unknown charset, invalid bytes).
func (p *mimePart) text(raw []byte) (string, bool) {
	return decodeCharset(p.decoded(raw), p.charset())
}

func lookupCharset(name string) (encoding.Encoding, bool) {
	name = strings.ToLower(strings.Trim(strings.TrimSpace(name), `"'`))
	if enc, err := htmlindex.Get(name); err == nil && enc != nil {
		return enc, true
	}
	if enc, err := ianaindex.MIME.Encoding(name); err == nil && enc != nil {
		return enc, true
	}
	return nil, false
}

// decodeCharset converts b to UTF-8; problem reports an unknown charset or
// bytes that did not decode (replaced by U+FFFD).
func decodeCharset(b []byte, charset string) (string, bool) {
	switch charset {
	case "", "us-ascii", "utf-8", "utf8":
		if utf8.Valid(b) {
			return string(b), false
		}
		return strings.ToValidUTF8(string(b), "\uFFFD"), true
	}
	enc, ok := lookupCharset(charset)
	if !ok {
		return strings.ToValidUTF8(string(b), "\uFFFD"), true
	}
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD"), true
	}
	return string(out), false
}

// wordDecoder decodes RFC 2047 encoded words with any charset we know.
func wordDecoder() *mime.WordDecoder {
	return &mime.WordDecoder{CharsetReader: func(cs string, r io.Reader) (io.Reader, error) {
		enc, ok := lookupCharset(cs)
		if !ok {
			return nil, io.ErrUnexpectedEOF
		}
		return enc.NewDecoder().Reader(r), nil
	}}
}

// decodeText decodes a header value's encoded words (RFC 2047), leaving
// what does not decode as written.
func decodeText(s string) string {
	if !strings.Contains(s, "=?") {
		return s
	}
	out, err := wordDecoder().DecodeHeader(s)
	if err != nil {
		return s
	}
	return out
}

// name returns the part's file name (RFC 8621 §4.1.4 name).
func (p *mimePart) name() string {
	if n := p.dispParams["filename"]; n != "" {
		return decodeText(n)
	}
	if n := p.params["name"]; n != "" {
		return decodeText(n)
	}
	return ""
}
