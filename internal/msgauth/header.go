package msgauth

import (
	"bytes"
	"io"
	"mime"
	"net/mail"
	"strings"
)

// field is one header field of a raw message.
type field struct {
	name       string // as written, without the colon
	value      string // after the colon, unfolded lines joined as written
	start, end int    // byte offsets of the whole field, line ends included
}

// headerFields splits the header section of raw into fields. It is
// lenient: a line without a colon is kept as a field with an empty name,
// and bare LF line ends are accepted. It returns the offset where the
// body starts (after the blank line), or len(raw) if there is none.
func headerFields(raw []byte) ([]field, int) {
	var out []field
	off := 0
	for off < len(raw) {
		lineEnd := bytes.IndexByte(raw[off:], '\n')
		next := len(raw)
		if lineEnd >= 0 {
			next = off + lineEnd + 1
		}
		line := raw[off:next]
		trimmed := bytes.TrimRight(line, "\r\n")
		if len(trimmed) == 0 {
			return out, next // the blank line ending the header
		}
		if (line[0] == ' ' || line[0] == '\t') && len(out) > 0 {
			last := &out[len(out)-1]
			last.value += "\r\n" + string(trimmed)
			last.end = next
			off = next
			continue
		}
		f := field{start: off, end: next}
		if i := bytes.IndexByte(trimmed, ':'); i > 0 {
			f.name = string(bytes.TrimRight(trimmed[:i], " \t"))
			f.value = string(trimmed[i+1:])
		}
		out = append(out, f)
		off = next
	}
	return out, len(raw)
}

// unfold removes folding line breaks (RFC 5322 §2.2.3).
func unfold(v string) string {
	return strings.NewReplacer("\r\n", "", "\n", "").Replace(v)
}

// addressParser decodes display names in any charset leniently: only the
// addresses matter here, so an unknown charset is passed through.
func addressParser() *mail.AddressParser {
	return &mail.AddressParser{WordDecoder: &mime.WordDecoder{
		CharsetReader: func(_ string, r io.Reader) (io.Reader, error) { return r, nil },
	}}
}

// fromDomains returns the distinct lower-case domains of the addresses in
// every From header field, and whether all fields could be parsed.
func fromDomains(fields []field) ([]string, bool) {
	var out []string
	ok := true
	seen := map[string]bool{}
	n := 0
	p := addressParser()
	for _, f := range fields {
		if !strings.EqualFold(f.name, "From") {
			continue
		}
		n++
		list, err := p.ParseList(unfold(f.value))
		if err != nil || len(list) == 0 {
			ok = false
			continue
		}
		for _, a := range list {
			at := strings.LastIndexByte(a.Address, '@')
			if at < 0 {
				ok = false
				continue
			}
			d := strings.ToLower(strings.TrimSuffix(a.Address[at+1:], "."))
			if !seen[d] {
				seen[d] = true
				out = append(out, d)
			}
		}
	}
	return out, ok && n > 0
}

// tagList parses a DKIM tag=value list (RFC 6376 §3.2) leniently,
// removing whitespace from values.
func tagList(s string) map[string]string {
	out := map[string]string{}
	for _, part := range strings.Split(s, ";") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		v = strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
				return -1
			}
			return r
		}, v)
		if _, dup := out[k]; !dup {
			out[k] = v
		}
	}
	return out
}
