package message

import (
	"bytes"
	"mime"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// PreviewLen is the longest preview, in characters (RFC 8621 §4.1.4
// Email.preview).
const PreviewLen = 256

// Limits on the work spent on one message: MIME nesting, parts visited, and
// the bytes of a text part read to build the preview.
const (
	maxDepth       = 16
	maxParts       = 500
	maxPreviewScan = 256 << 10
)

// part is one MIME entity: its parsed header and raw (still encoded) body.
type part struct {
	h    Header
	body []byte
}

// mediaType returns the lower-case media type and parameters of a part.
// A missing Content-Type is text/plain (RFC 2045 §5.2); one that does not
// parse is read up to its first ';', and a boundary is still looked for so
// that a sloppy multipart stays a multipart.
func (p part) mediaType(def string) (string, map[string]string) {
	ct := p.h.Get("Content-Type")
	if ct == "" {
		return def, nil
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err == nil {
		return mt, params
	}
	mt = strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]))
	params = map[string]string{}
	if b := looseParam(ct, "boundary"); b != "" {
		params["boundary"] = b
	}
	if c := looseParam(ct, "charset"); c != "" {
		params["charset"] = c
	}
	return mt, params
}

// looseParam finds name=value in a header value that mime.ParseMediaType
// refused.
func looseParam(v, name string) string {
	// ASCII-only folding keeps byte offsets of v valid (strings.ToLower
	// would change the length of invalid UTF-8).
	lv := []byte(v)
	for i, c := range lv {
		if 'A' <= c && c <= 'Z' {
			lv[i] = c + 'a' - 'A'
		}
	}
	i := bytes.Index(lv, []byte(name+"="))
	if i < 0 {
		return ""
	}
	val := strings.TrimSpace(v[i+len(name)+1:])
	if strings.HasPrefix(val, `"`) {
		if j := strings.IndexByte(val[1:], '"'); j >= 0 {
			return val[1 : j+1]
		}
		return val[1:]
	}
	if j := strings.IndexAny(val, "; \t"); j >= 0 {
		val = val[:j]
	}
	return val
}

// isAttachment reports whether a leaf part is an attachment rather than
// body text: it says so in Content-Disposition, or it carries a file name
// and does not ask to be shown inline, or it is an encapsulated message.
func (p part) isAttachment(mt string, params map[string]string) bool {
	disp, dparams, _ := mime.ParseMediaType(p.h.Get("Content-Disposition"))
	if disp == "attachment" {
		return true
	}
	if mt == "message/rfc822" || mt == "message/global" {
		return true
	}
	named := dparams["filename"] != "" || params["name"] != ""
	if disp == "inline" {
		return false
	}
	return named && !strings.HasPrefix(mt, "text/")
}

// scanBody walks the MIME tree for the preview and the attachment flag.
func scanBody(h Header, body []byte) (preview string, hasAttachment bool) {
	var plain, htm *part
	var plainCharset, htmlCharset string
	n := 0
	var walk func(p part, depth int, def string)
	walk = func(p part, depth int, def string) {
		n++
		if n > maxParts || depth > maxDepth {
			return
		}
		mt, params := p.mediaType(def)
		if strings.HasPrefix(mt, "multipart/") {
			childDef := "text/plain"
			if mt == "multipart/digest" {
				childDef = "message/rfc822"
			}
			for _, c := range splitMultipart(p.body, params["boundary"]) {
				walk(c, depth+1, childDef)
			}
			return
		}
		if p.isAttachment(mt, params) {
			hasAttachment = true
			return
		}
		switch mt {
		case "text/plain":
			if plain == nil {
				plain, plainCharset = &p, params["charset"]
			}
		case "text/html":
			if htm == nil {
				htm, htmlCharset = &p, params["charset"]
			}
		default:
			if !strings.HasPrefix(mt, "text/") && !strings.HasPrefix(mt, "multipart/") {
				// An unnamed inline image in multipart/related is part of
				// the body, not an attachment; other non-text leaves are.
				if !strings.HasPrefix(mt, "image/") {
					hasAttachment = true
				}
			}
		}
	}
	walk(part{h: h, body: body}, 0, "text/plain")
	switch {
	case plain != nil:
		preview = textPreview(decodeCharset(decodePart(*plain), plainCharset))
	case htm != nil:
		preview = textPreview(htmlText(decodeCharset(decodePart(*htm), htmlCharset)))
	}
	return preview, hasAttachment
}

// decodePart returns the start of a part's body with its transfer encoding
// undone.
func decodePart(p part) []byte {
	b := p.body
	if len(b) > maxPreviewScan {
		b = b[:maxPreviewScan]
	}
	return decodeTransfer(b, p.h.Get("Content-Transfer-Encoding"))
}

// textPreview collapses white space and cuts to PreviewLen characters.
func textPreview(s string) string {
	s = cleanText(s)
	if utf8.RuneCountInString(s) <= PreviewLen {
		return s
	}
	n := 0
	for i := range s {
		if n == PreviewLen {
			return strings.TrimRight(s[:i], " ")
		}
		n++
	}
	return s
}

// htmlText extracts the visible text of an HTML body, skipping scripts,
// styles and the head, until there is enough for a preview.
func htmlText(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	skip := 0
	for b.Len() < PreviewLen*8 {
		switch z.Next() {
		case html.ErrorToken:
			return b.String()
		case html.StartTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "head", "title":
				skip++
			case "br", "p", "div", "tr", "li":
				b.WriteByte(' ')
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "head", "title":
				if skip > 0 {
					skip--
				}
			}
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
				b.WriteByte(' ')
			}
		}
	}
	return b.String()
}

// splitMultipart splits a multipart body at its boundary lines
// (RFC 2046 §5.1.1). Text before the first boundary (the preamble) and
// after the closing one (the epilogue) is ignored. A body whose closing
// boundary is missing ends at the end of the body; a boundary that never
// appears yields no parts.
func splitMultipart(body []byte, boundary string) []part {
	if boundary == "" {
		return nil
	}
	delim := []byte("--" + boundary)
	var parts []part
	start := -1 // offset of the current part's first byte
	for off := 0; off < len(body) && len(parts) < maxParts; {
		end := bytes.IndexByte(body[off:], '\n')
		lineEnd := len(body)
		if end >= 0 {
			lineEnd = off + end + 1
		}
		line := body[off:lineEnd]
		if bytes.HasPrefix(line, delim) {
			rest := bytes.TrimRight(line[len(delim):], " \t\r\n")
			closing := bytes.Equal(rest, []byte("--"))
			if closing || len(rest) == 0 {
				if start >= 0 {
					parts = append(parts, newPart(trimLineEnd(body[start:off])))
				}
				if closing {
					return parts
				}
				start = lineEnd
			}
		}
		off = lineEnd
	}
	if start >= 0 && start <= len(body) && len(parts) < maxParts {
		parts = append(parts, newPart(body[start:]))
	}
	return parts
}

// trimLineEnd removes the line break that belongs to the next boundary
// delimiter (RFC 2046 §5.1.1: the CRLF preceding a boundary is part of it).
func trimLineEnd(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

func newPart(b []byte) part {
	hb, body := SplitHeader(b)
	return part{h: ParseHeader(hb), body: body}
}
