package imapmsg

import (
	"net/mail"
	"strings"
	"time"

	"freehold/internal/store"
)

// parseStoreEnvelope implements ParseEnvelope.
func parseStoreEnvelope(h []byte) store.Envelope {
	v, _ := envelopeFields(h)
	e := store.Envelope{
		Date:      parseDate(v[envDate]),
		Subject:   decodeWords(v[envSubject]),
		From:      storeAddresses(v[envFrom]),
		Sender:    storeAddresses(v[envSender]),
		ReplyTo:   storeAddresses(v[envReplyTo]),
		To:        storeAddresses(v[envTo]),
		Cc:        storeAddresses(v[envCc]),
		Bcc:       storeAddresses(v[envBcc]),
		InReplyTo: msgIDs(v[envInReplyTo]),
	}
	if ids := msgIDs(v[envMessageID]); len(ids) > 0 {
		e.MessageID = ids[0]
	}
	e.References = msgIDs(headerGet(h, "References"))
	return e
}

// storeAddresses returns the mailboxes of an address header, decoded,
// without group markers.
func storeAddresses(s string) []store.EnvelopeAddress {
	var out []store.EnvelopeAddress
	for _, a := range parseAddressList(s) {
		if a.Kind != addrMailbox {
			continue
		}
		addr := a.Mailbox
		if a.Host != "" {
			addr += "@" + a.Host
		}
		out = append(out, store.EnvelopeAddress{Name: decodeWords(a.Name), Address: toUTF8([]byte(addr), "")})
	}
	return out
}

// msgIDs extracts the message identifiers of a Message-ID, In-Reply-To or
// References value, without angle brackets. Phrases and comments between
// them (obsolete syntax) are skipped; a value with no brackets at all is
// taken as one bare identifier.
func msgIDs(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	var ids []string
	for {
		lt := strings.IndexByte(s, '<')
		if lt < 0 {
			break
		}
		gt := strings.IndexByte(s[lt:], '>')
		if gt < 0 {
			break
		}
		if id := strings.TrimSpace(s[lt+1 : lt+gt]); id != "" && !strings.ContainsAny(id, " \t") {
			ids = append(ids, id)
		}
		s = s[lt+gt+1:]
	}
	if ids == nil && !strings.ContainsAny(s, "<> \t") {
		ids = append(ids, s)
	}
	return ids
}

// parseDate parses a Date: value leniently; zero when it cannot.
func parseDate(s string) time.Time {
	s = strings.TrimSpace(stripComments(s))
	if s == "" {
		return time.Time{}
	}
	if t, err := mail.ParseDate(s); err == nil {
		return t
	}
	// Common deviations: a zone name after the numeric zone, dots or
	// extra spaces, a missing seconds field.
	s = strings.Join(strings.Fields(strings.ReplaceAll(s, ",", ", ")), " ")
	for _, layout := range []string{
		"Mon, 2 Jan 2006 15:04:05 -0700",
		"Mon, 2 Jan 2006 15:04 -0700",
		"2 Jan 2006 15:04:05 -0700",
		"2 Jan 2006 15:04 -0700",
		"Mon, 2 Jan 2006 15:04:05 MST",
		"Mon, 2 Jan 06 15:04:05 -0700",
		"Mon Jan 2 15:04:05 2006",
		"Mon Jan 2 15:04:05 MST 2006",
		time.RFC3339,
	} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
		// Allow trailing junk after a recognised prefix of the layout.
		if n := len(strings.Fields(layout)); len(strings.Fields(s)) > n {
			if t, err := time.Parse(layout, strings.Join(strings.Fields(s)[:n], " ")); err == nil {
				return t
			}
		}
	}
	return time.Time{}
}
