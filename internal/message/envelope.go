package message

import (
	"mime"
	netmail "net/mail"
	"strings"
	"time"

	"freehold/internal/store"
)

// Summarize reads the header summary, a preview of up to PreviewLen
// characters of the first text part, and whether the message has an
// attachment. It accepts any bytes and never fails.
func Summarize(raw []byte) (env store.Envelope, preview string, hasAttachment bool) {
	hb, body := SplitHeader(raw)
	h := ParseHeader(hb)
	env = Envelope(h)
	preview, hasAttachment = scanBody(h, body)
	return env, preview, hasAttachment
}

// Envelope builds the store summary of a parsed header.
func Envelope(h Header) store.Envelope {
	return store.Envelope{
		Date:       ParseDate(h.Get("Date")),
		Subject:    cleanText(decodeWords(h.Get("Subject"))),
		From:       ParseAddressList(h.Get("From")),
		Sender:     ParseAddressList(h.Get("Sender")),
		ReplyTo:    ParseAddressList(h.Get("Reply-To")),
		To:         ParseAddressList(strings.Join(h.Values("To"), ",")),
		Cc:         ParseAddressList(strings.Join(h.Values("Cc"), ",")),
		Bcc:        ParseAddressList(strings.Join(h.Values("Bcc"), ",")),
		MessageID:  firstMsgID(h.Get("Message-ID")),
		InReplyTo:  msgIDs(h.Get("In-Reply-To")),
		References: msgIDs(strings.Join(h.Values("References"), " ")),
	}
}

// dateLayouts are tried, in order, after net/mail's RFC 5322 parser fails:
// forms seen in the wild (missing seconds, missing weekday, named zones,
// asctime).
var dateLayouts = []string{
	"Mon, 2 Jan 2006 15:04 -0700",
	"2 Jan 2006 15:04 -0700",
	"Mon, 2 Jan 2006 15:04:05 MST",
	"Mon, 2 Jan 06 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05",
	"2 Jan 2006 15:04:05",
	"Mon Jan 2 15:04:05 2006",
	"Mon Jan 2 15:04:05 MST 2006",
	"2006-01-02 15:04:05 -0700",
	time.RFC3339,
}

// ParseDate parses a Date: header value; the zero time if it cannot.
func ParseDate(s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	if t, err := netmail.ParseDate(s); err == nil {
		return t
	}
	// Drop comments such as "(CEST)" and squeeze spaces, then try again.
	if i := strings.IndexByte(s, '('); i > 0 {
		s = strings.TrimSpace(s[:i])
	}
	s = strings.Join(strings.Fields(s), " ")
	if t, err := netmail.ParseDate(s); err == nil {
		return t
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// maxAddresses bounds the addresses kept from one header field.
const maxAddresses = 1000

// ParseAddressList parses an address-list header value. It first tries the
// strict RFC 5322 grammar; when that fails it splits the value at commas
// outside quotes, comments and angle brackets and reads each item on its
// own, so that one bad item does not lose the others. Group names are
// dropped; their members are kept.
func ParseAddressList(s string) []store.EnvelopeAddress {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	p := netmail.AddressParser{WordDecoder: &mime.WordDecoder{CharsetReader: charsetReader}}
	if list, err := p.ParseList(s); err == nil {
		out := make([]store.EnvelopeAddress, 0, len(list))
		for _, a := range list {
			if len(out) == maxAddresses {
				break
			}
			out = append(out, store.EnvelopeAddress{Name: cleanText(a.Name), Address: cleanText(a.Address)})
		}
		return out
	}
	var out []store.EnvelopeAddress
	for _, item := range splitAddressList(s) {
		if len(out) == maxAddresses {
			break
		}
		if a, ok := parseLooseAddress(&p, item); ok {
			out = append(out, a)
		}
	}
	return out
}

// splitAddressList splits at commas and semicolons that are outside quoted
// strings, comments and angle brackets, and drops "group-name:" prefixes.
func splitAddressList(s string) []string {
	var items []string
	var cur strings.Builder
	quoted, escaped := false, false
	depth, angle := 0, false
	flush := func() {
		if t := strings.TrimSpace(cur.String()); t != "" {
			items = append(items, t)
		}
		cur.Reset()
	}
	for _, r := range s {
		switch {
		case escaped:
			escaped = false
		case r == '\\' && (quoted || depth > 0):
			escaped = true
		case quoted:
			quoted = r != '"'
		case r == '"' && depth == 0:
			quoted = true
		case r == '(':
			depth++
		case r == ')' && depth > 0:
			depth--
		case depth > 0:
		case r == '<':
			angle = true
		case r == '>':
			angle = false
		case !angle && (r == ',' || r == ';'):
			flush()
			continue
		case !angle && r == ':':
			// A group name ends here: drop it.
			cur.Reset()
			continue
		}
		cur.WriteRune(r)
	}
	flush()
	return items
}

// parseLooseAddress reads one address item, strictly if possible, else by
// taking what is inside angle brackets (or a bare token with an @) as the
// address and the rest as the display name.
func parseLooseAddress(p *netmail.AddressParser, item string) (store.EnvelopeAddress, bool) {
	if a, err := p.Parse(item); err == nil {
		return store.EnvelopeAddress{Name: cleanText(a.Name), Address: cleanText(a.Address)}, true
	}
	if lt := strings.LastIndexByte(item, '<'); lt >= 0 {
		addr := item[lt+1:]
		if gt := strings.IndexByte(addr, '>'); gt >= 0 {
			addr = addr[:gt]
		}
		name := strings.TrimSpace(item[:lt])
		name = strings.Trim(name, `"`)
		name = strings.ReplaceAll(name, `\"`, `"`)
		addr = strings.TrimSpace(addr)
		if addr == "" && name == "" {
			return store.EnvelopeAddress{}, false
		}
		return store.EnvelopeAddress{Name: cleanText(decodeWords(name)), Address: cleanText(addr)}, true
	}
	for _, tok := range strings.Fields(item) {
		if strings.Contains(tok, "@") {
			return store.EnvelopeAddress{Address: cleanText(strings.Trim(tok, `"'()`))}, true
		}
	}
	return store.EnvelopeAddress{}, false
}

// msgIDs returns the message identifiers of a References or In-Reply-To
// value (RFC 5322 §3.6.4), without angle brackets. Values that have no
// brackets at all are split at white space.
func msgIDs(s string) []string {
	var ids []string
	rest := s
	for len(ids) < maxAddresses {
		lt := strings.IndexByte(rest, '<')
		if lt < 0 {
			break
		}
		gt := strings.IndexByte(rest[lt:], '>')
		if gt < 0 {
			break
		}
		if id := cleanID(rest[lt+1 : lt+gt]); id != "" {
			ids = append(ids, id)
		}
		rest = rest[lt+gt+1:]
	}
	if ids == nil && !strings.ContainsAny(s, "<>") {
		for _, f := range strings.Fields(s) {
			if id := cleanID(f); id != "" && len(ids) < maxAddresses {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// firstMsgID returns the first identifier of a Message-ID value.
func firstMsgID(s string) string {
	if ids := msgIDs(s); len(ids) > 0 {
		return ids[0]
	}
	return ""
}

// cleanID keeps the printable, non-space part of an identifier.
func cleanID(s string) string {
	s = cleanText(s)
	return strings.ReplaceAll(s, " ", "")
}

// HeaderEnvelope is the envelope of a raw message, read from its header
// only (Summarize without the body scan).
func HeaderEnvelope(raw []byte) store.Envelope {
	hb, _ := SplitHeader(raw)
	return Envelope(ParseHeader(hb))
}
