package jmap

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	gomessage "github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"
	"github.com/google/uuid"
)

// Building a message from Email/set create properties (RFC 8621 §4.6).

// emailAddressIn is an EmailAddress in a create.
type emailAddressIn struct {
	Name  *string `json:"name"`
	Email string  `json:"email"`
}

// bodyPartIn is an EmailBodyPart in a create.
type bodyPartIn struct {
	PartID      *string          `json:"partId"`
	BlobID      *string          `json:"blobId"`
	Size        *int64           `json:"size"`
	Headers     []headerIn       `json:"headers"`
	Name        *string          `json:"name"`
	Type        *string          `json:"type"`
	Charset     *string          `json:"charset"`
	Disposition *string          `json:"disposition"`
	CID         *string          `json:"cid"`
	Language    []string         `json:"language"`
	Location    *string          `json:"location"`
	SubParts    []bodyPartIn     `json:"subParts"`
	extra       []headerFieldOut // from header:* properties
}

type headerIn struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type headerFieldOut struct{ name, raw string }

var bodyPartInKeys = map[string]bool{"partId": true, "blobId": true, "size": true, "headers": true, "name": true,
	"type": true, "charset": true, "disposition": true, "cid": true, "language": true, "location": true, "subParts": true}

func (p *bodyPartIn) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	type plain bodyPartIn
	var q plain
	if err := json.Unmarshal(b, &q); err != nil {
		return err
	}
	for k, v := range raw {
		if bodyPartInKeys[k] {
			continue
		}
		hp, ok := parseHeaderProp(k)
		if !ok || hp.all {
			return invalidProps("unknown body part property "+k, k)
		}
		f, se := headerFromProp(hp, v)
		if se != nil {
			return se
		}
		q.extra = append(q.extra, f...)
	}
	*p = bodyPartIn(q)
	return nil
}

// headerFromProp encodes a header:{name}:as{Form} value for writing.
func headerFromProp(hp headerProp, v json.RawMessage) ([]headerFieldOut, *SetError) {
	bad := invalidProps("bad value for header:"+hp.name, "header:"+hpKey(hp))
	var out []headerFieldOut
	switch hp.form {
	case "Raw":
		var s string
		if json.Unmarshal(v, &s) != nil || !validRawHeaderValue(s) {
			return nil, bad
		}
		out = append(out, headerFieldOut{hp.name, s})
	case "Text":
		var s string
		if json.Unmarshal(v, &s) != nil || strings.ContainsAny(s, "\r\n") {
			return nil, bad
		}
		out = append(out, headerFieldOut{hp.name, " " + mime.QEncoding.Encode("utf-8", s)})
	case "Addresses":
		var l []emailAddressIn
		if json.Unmarshal(v, &l) != nil {
			return nil, bad
		}
		s, ok := formatAddresses(l)
		if !ok {
			return nil, bad
		}
		out = append(out, headerFieldOut{hp.name, " " + s})
	case "MessageIds", "URLs":
		var l []string
		if json.Unmarshal(v, &l) != nil {
			return nil, bad
		}
		var b strings.Builder
		for _, id := range l {
			if strings.ContainsAny(id, "<>\r\n \t") || id == "" {
				return nil, bad
			}
			b.WriteString(" <" + id + ">")
		}
		out = append(out, headerFieldOut{hp.name, b.String()})
	case "Date":
		var s string
		if json.Unmarshal(v, &s) != nil {
			return nil, bad
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return nil, bad
		}
		out = append(out, headerFieldOut{hp.name, " " + t.Format(time.RFC1123Z)})
	default:
		return nil, bad
	}
	return out, nil
}

// validRawHeaderValue accepts a value whose only line breaks are folds, so
// that a client cannot inject header fields or end the header.
func validRawHeaderValue(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\r':
			if i+2 >= len(s) || s[i+1] != '\n' || (s[i+2] != ' ' && s[i+2] != '\t') {
				return false
			}
			i++
		case '\n', 0:
			return false
		}
	}
	return true
}

func formatAddresses(l []emailAddressIn) (string, bool) {
	var h gomail.Header
	addrs := make([]*gomail.Address, 0, len(l))
	for _, a := range l {
		if !strings.Contains(a.Email, "@") || strings.ContainsAny(a.Email, "<>\r\n\" ,") {
			return "", false
		}
		name := ""
		if a.Name != nil {
			name = *a.Name
			if strings.ContainsAny(name, "\r\n") {
				return "", false
			}
		}
		addrs = append(addrs, &gomail.Address{Name: name, Address: a.Email})
	}
	h.SetAddressList("X", addrs)
	return h.Get("X"), true
}

// messageSource gives the builder access to uploaded blobs.
type messageSource interface {
	blobBytes(ctx context.Context, id string) ([]byte, error)
}

// builder writes one message.
type builder struct {
	ctx      context.Context
	src      messageSource
	values   map[string]string // bodyValues by partId
	used     map[string]bool
	hostname string
	parent   *gomessage.Writer // the multipart being written
}

// buildMessage writes the message described by an Email create object.
func (b *builder) buildMessage(props map[string]json.RawMessage, now time.Time) ([]byte, *SetError) {
	var fields []headerFieldOut
	add := func(name, raw string) { fields = append(fields, headerFieldOut{name, raw}) }
	has := map[string]bool{}
	for k, v := range props {
		hp, ok := parseHeaderProp(k)
		if !ok {
			continue
		}
		if hp.all {
			return nil, invalidProps(":all cannot be set", k)
		}
		lname := strings.ToLower(hp.name)
		if strings.HasPrefix(lname, "content-") {
			return nil, invalidProps("Content-* header fields come from the body", k)
		}
		f, se := headerFromProp(hp, v)
		if se != nil {
			return nil, se
		}
		fields = append(fields, f...)
		has[lname] = true
	}
	conv := map[string]string{"from": "From", "sender": "Sender", "to": "To", "cc": "Cc", "bcc": "Bcc", "replyTo": "Reply-To"}
	for _, p := range []string{"from", "sender", "to", "cc", "bcc", "replyTo"} {
		v, ok := props[p]
		if !ok || isNull(v) {
			continue
		}
		if has[strings.ToLower(conv[p])] {
			return nil, invalidProps("set twice", p)
		}
		var l []emailAddressIn
		if json.Unmarshal(v, &l) != nil {
			return nil, invalidProps("not a list of EmailAddress", p)
		}
		s, ok := formatAddresses(l)
		if !ok {
			return nil, invalidProps("bad address", p)
		}
		add(conv[p], " "+s)
	}
	if v, ok := props["subject"]; ok && !isNull(v) {
		var s string
		if json.Unmarshal(v, &s) != nil || strings.ContainsAny(s, "\r\n") {
			return nil, invalidProps("bad subject", "subject")
		}
		add("Subject", " "+mime.QEncoding.Encode("utf-8", s))
	}
	sent := now
	if v, ok := props["sentAt"]; ok && !isNull(v) {
		var s string
		t, err := time.Parse(time.RFC3339, unquote(v, &s))
		if err != nil {
			return nil, invalidProps("bad sentAt", "sentAt")
		}
		sent = t
	}
	if !has["date"] {
		add("Date", " "+sent.Format(time.RFC1123Z))
	}
	idProps := map[string]string{"messageId": "Message-ID", "inReplyTo": "In-Reply-To", "references": "References"}
	for _, p := range []string{"messageId", "inReplyTo", "references"} {
		v, ok := props[p]
		if !ok || isNull(v) {
			continue
		}
		f, se := headerFromProp(headerProp{name: idProps[p], form: "MessageIds"}, v)
		if se != nil {
			return nil, invalidProps("bad message ids", p)
		}
		fields = append(fields, f...)
		has[strings.ToLower(idProps[p])] = true
	}
	if !has["message-id"] {
		add("Message-ID", " <"+uuid.NewString()+"@"+b.hostname+">")
	}
	root, se := b.bodyTree(props)
	if se != nil {
		return nil, se
	}
	var buf bytes.Buffer
	if err := b.writePart(&buf, root, fields, true); err != nil {
		var se *SetError
		if errors.As(err, &se) {
			return nil, se
		}
		return nil, invalidProps("the message could not be written: " + err.Error())
	}
	for id := range b.values {
		if !b.used[id] {
			return nil, invalidProps("bodyValues has a part no body part uses", "bodyValues")
		}
	}
	return buf.Bytes(), nil
}

func unquote(v json.RawMessage, s *string) string {
	_ = json.Unmarshal(v, s)
	return *s
}

// bodyTree returns the part tree, from bodyStructure or from
// textBody/htmlBody/attachments (RFC 8621 §4.6).
func (b *builder) bodyTree(props map[string]json.RawMessage) (*bodyPartIn, *SetError) {
	if v, ok := props["bodyValues"]; ok && !isNull(v) {
		var vals map[string]bodyValue
		if json.Unmarshal(v, &vals) != nil {
			return nil, invalidProps("bad bodyValues", "bodyValues")
		}
		for id, bv := range vals {
			if bv.IsEncodingProblem || bv.IsTruncated {
				return nil, invalidProps("bodyValues may not be truncated or have encoding problems", "bodyValues")
			}
			b.values[id] = bv.Value
		}
	}
	decode := func(k string, v any) *SetError {
		if err := json.Unmarshal(props[k], v); err != nil {
			var se *SetError
			if errors.As(err, &se) {
				return se
			}
			return invalidProps("bad "+k, k)
		}
		return nil
	}
	if v, ok := props["bodyStructure"]; ok && !isNull(v) {
		for _, k := range []string{"textBody", "htmlBody", "attachments"} {
			if x, ok := props[k]; ok && !isNull(x) {
				return nil, invalidProps("bodyStructure excludes "+k, k)
			}
		}
		var root bodyPartIn
		if se := decode("bodyStructure", &root); se != nil {
			return nil, se
		}
		return &root, nil
	}
	var text, html, atts []bodyPartIn
	for _, x := range []struct {
		k   string
		out *[]bodyPartIn
		typ string
	}{{"textBody", &text, "text/plain"}, {"htmlBody", &html, "text/html"}, {"attachments", &atts, ""}} {
		if v, ok := props[x.k]; ok && !isNull(v) {
			if se := decode(x.k, x.out); se != nil {
				return nil, se
			}
			if x.typ != "" {
				if len(*x.out) > 1 {
					return nil, invalidProps("at most one part", x.k)
				}
				for i := range *x.out {
					p := &(*x.out)[i]
					if p.Type == nil {
						p.Type = &x.typ
					}
					if *p.Type != x.typ {
						return nil, invalidProps("wrong type", x.k)
					}
				}
			}
		}
	}
	mp := func(sub string, parts ...bodyPartIn) bodyPartIn {
		t := "multipart/" + sub
		return bodyPartIn{Type: &t, SubParts: parts}
	}
	var body *bodyPartIn
	switch {
	case len(text) == 1 && len(html) == 1:
		alt := mp("alternative", text[0], html[0])
		body = &alt
	case len(text) == 1:
		body = &text[0]
	case len(html) == 1:
		body = &html[0]
	}
	var inline, other []bodyPartIn
	for _, a := range atts {
		if a.CID != nil && a.Disposition != nil && *a.Disposition == "inline" && len(html) == 1 {
			inline = append(inline, a)
		} else {
			other = append(other, a)
		}
	}
	if len(inline) > 0 {
		rel := mp("related", append([]bodyPartIn{*body}, inline...)...)
		body = &rel
	}
	if body == nil {
		empty, typ := "", "text/plain"
		id := "\x00empty"
		b.values[id] = empty
		body = &bodyPartIn{PartID: &id, Type: &typ}
	}
	if len(other) > 0 {
		mixed := mp("mixed", append([]bodyPartIn{*body}, other...)...)
		body = &mixed
	}
	return body, nil
}

// writePart writes one part (and, at the top, the message header fields).
func (b *builder) writePart(w io.Writer, p *bodyPartIn, top []headerFieldOut, isTop bool) error {
	typ := "text/plain"
	if p.Type != nil {
		typ = strings.ToLower(*p.Type)
	}
	mt, params, err := mime.ParseMediaType(typ)
	if err != nil {
		return invalidProps("bad type "+typ, "bodyStructure")
	}
	multi := strings.HasPrefix(mt, "multipart/")
	var content []byte
	switch {
	case multi:
		if p.PartID != nil || p.BlobID != nil {
			return invalidProps("a multipart part has no content", "bodyStructure")
		}
	case p.PartID != nil && p.BlobID != nil:
		return invalidProps("partId and blobId exclude each other", "bodyStructure")
	case p.PartID != nil:
		v, ok := b.values[*p.PartID]
		if !ok {
			return invalidProps("no bodyValue for partId "+*p.PartID, "bodyValues")
		}
		if p.Charset != nil && !strings.EqualFold(*p.Charset, "utf-8") {
			return invalidProps("text from bodyValues is UTF-8", "charset")
		}
		b.used[*p.PartID] = true
		content = []byte(v)
		params["charset"] = "utf-8"
	case p.BlobID != nil:
		data, err := b.src.blobBytes(b.ctx, *p.BlobID)
		if err != nil {
			return &SetError{Type: setBlobNotFound, NotFound: []string{*p.BlobID}}
		}
		content = data
		if cs := derefOr(p.Charset, ""); cs != "" && (strings.EqualFold(cs, "utf-8") || strings.EqualFold(cs, "us-ascii")) {
			params["charset"] = strings.ToLower(cs)
		}
	default:
		return invalidProps("a part needs partId or blobId", "bodyStructure")
	}
	var h gomessage.Header
	// Fields are written in the reverse order of addition.
	for i := len(p.extra) - 1; i >= 0; i-- {
		h.AddRaw([]byte(p.extra[i].name + ":" + p.extra[i].raw + "\r\n"))
	}
	for i := len(p.Headers) - 1; i >= 0; i-- {
		hd := p.Headers[i]
		if !validHeaderName(hd.Name) || !validRawHeaderValue(hd.Value) || strings.HasPrefix(strings.ToLower(hd.Name), "content-") {
			return invalidProps("bad header "+hd.Name, "headers")
		}
		h.AddRaw([]byte(hd.Name + ":" + hd.Value + "\r\n"))
	}
	if p.Location != nil {
		h.Set("Content-Location", *p.Location)
	}
	if len(p.Language) > 0 {
		h.Set("Content-Language", strings.Join(p.Language, ", "))
	}
	if p.CID != nil {
		h.Set("Content-ID", "<"+strings.Trim(*p.CID, "<>")+">")
	}
	if p.Disposition != nil || p.Name != nil {
		disp := derefOr(p.Disposition, "attachment")
		dp := map[string]string{}
		if p.Name != nil {
			dp["filename"] = *p.Name
		}
		h.SetContentDisposition(disp, dp)
	}
	if p.Name != nil && !multi {
		params["name"] = *p.Name
	}
	if !multi {
		h.Set("Content-Transfer-Encoding", transferEncoding(mt, content, p.PartID != nil))
	}
	h.SetContentType(mt, params)
	if isTop {
		for i := len(top) - 1; i >= 0; i-- {
			h.AddRaw([]byte(top[i].name + ":" + top[i].raw + "\r\n"))
		}
		h.Set("MIME-Version", "1.0")
	}
	return b.writeBody(w, &h, p, content, isTop)
}

func (b *builder) writeBody(w io.Writer, h *gomessage.Header, p *bodyPartIn, content []byte, isTop bool) error {
	var mw *gomessage.Writer
	var err error
	if isTop {
		mw, err = gomessage.CreateWriter(w, *h)
	} else {
		mw, err = b.parent.CreatePart(*h)
	}
	if err != nil {
		return err
	}
	if len(p.SubParts) > 0 || (p.Type != nil && strings.HasPrefix(strings.ToLower(*p.Type), "multipart/")) {
		if len(p.SubParts) == 0 {
			return invalidProps("a multipart part needs subParts", "bodyStructure")
		}
		saved := b.parent
		b.parent = mw
		for i := range p.SubParts {
			if err := b.writePart(w, &p.SubParts[i], nil, false); err != nil {
				return err
			}
		}
		b.parent = saved
	} else if _, err := mw.Write(content); err != nil {
		return err
	}
	return mw.Close()
}

// transferEncoding picks a Content-Transfer-Encoding: message parts must
// stay 7bit/8bit (RFC 2046 §5.2.1), text from bodyValues is quoted-
// printable, anything else base64.
func transferEncoding(mt string, content []byte, fromValue bool) string {
	if strings.HasPrefix(mt, "message/") || strings.HasPrefix(mt, "multipart/") {
		return "8bit"
	}
	if fromValue {
		return "quoted-printable"
	}
	return "base64"
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
