package imapmsg

import (
	"bytes"
	"strconv"
	"strings"
)

// appendBodyStructure appends the BODY (ext false) or BODYSTRUCTURE (ext
// true) value of p (RFC 9051 §7.5.2 and the body grammar of §9).
func appendBodyStructure(dst []byte, p *Part, ext bool, o Options) []byte {
	dst = append(dst, '(')
	if len(p.Parts) > 0 {
		return appendMultipart(dst, p, ext, o)
	}
	dst = appendUpperString(dst, p.Type, o)
	dst = append(dst, ' ')
	dst = appendUpperString(dst, p.Subtype, o)
	dst = append(dst, ' ')
	dst = appendBodyFields(dst, p, o)
	switch {
	case p.Message != nil:
		// body-type-msg: envelope, body and lines of the encapsulated message.
		dst = append(dst, ' ')
		dst = appendEnvelope(dst, p.Message.Header, o)
		dst = append(dst, ' ')
		dst = appendBodyStructure(dst, p.Message, ext, o)
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, countLines(p.Body), 10)
	case p.Type == "text":
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, countLines(p.Body), 10)
	}
	if ext {
		// body-ext-1part: md5, disposition, language, location.
		dst = append(dst, ' ')
		dst = appendNString(dst, p.Get("Content-MD5"), o.UTF8)
		dst = appendExtension(dst, p, o)
	}
	return append(dst, ')')
}

// appendMultipart appends the rest of a body-type-mpart after its "(".
func appendMultipart(dst []byte, p *Part, ext bool, o Options) []byte {
	for _, c := range p.Parts {
		dst = appendBodyStructure(dst, c, ext, o)
	}
	dst = append(dst, ' ')
	dst = appendUpperString(dst, p.Subtype, o)
	if ext {
		// body-ext-mpart: parameters, disposition, language, location.
		dst = append(dst, ' ')
		dst = appendParams(dst, p.Params, o)
		dst = appendExtension(dst, p, o)
	}
	return append(dst, ')')
}

// appendBodyFields appends body-fields: parameters, id, description,
// encoding and size.
func appendBodyFields(dst []byte, p *Part, o Options) []byte {
	dst = appendParams(dst, p.Params, o)
	dst = append(dst, ' ')
	dst = appendNString(dst, p.Get("Content-ID"), o.UTF8)
	dst = append(dst, ' ')
	dst = appendNString(dst, p.Get("Content-Description"), o.UTF8)
	dst = append(dst, ' ')
	dst = appendUpperString(dst, partEncoding(p), o)
	dst = append(dst, ' ')
	return strconv.AppendInt(dst, int64(len(p.Body)), 10)
}

// appendExtension appends " disposition language location", shared by
// single parts and multiparts.
func appendExtension(dst []byte, p *Part, o Options) []byte {
	dst = append(dst, ' ')
	if d, ps := parseDisposition(p.Get("Content-Disposition")); d != "" {
		dst = append(dst, '(')
		dst = appendUpperString(dst, d, o)
		dst = append(dst, ' ')
		dst = appendParams(dst, ps, o)
		dst = append(dst, ')')
	} else {
		dst = append(dst, "NIL"...)
	}
	dst = append(dst, ' ')
	dst = appendLanguage(dst, p.Get("Content-Language"), o)
	dst = append(dst, ' ')
	return appendNString(dst, p.Get("Content-Location"), o.UTF8)
}

// appendLanguage appends body-fld-lang: NIL, one string, or a list for
// several comma-separated tags (RFC 3282).
func appendLanguage(dst []byte, v string, o Options) []byte {
	var tags []string
	for _, t := range strings.Split(stripComments(v), ",") {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	switch len(tags) {
	case 0:
		return append(dst, "NIL"...)
	case 1:
		return appendString(dst, tags[0], o.UTF8)
	}
	dst = append(dst, '(')
	for i, t := range tags {
		if i > 0 {
			dst = append(dst, ' ')
		}
		dst = appendString(dst, t, o.UTF8)
	}
	return append(dst, ')')
}

// countLines counts the lines of a body: its line feeds, plus one for a
// last line without one.
func countLines(b []byte) int64 {
	n := int64(bytes.Count(b, []byte{'\n'}))
	if len(b) > 0 && b[len(b)-1] != '\n' {
		n++
	}
	return n
}
