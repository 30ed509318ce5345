package delivery

import (
	"net/netip"
	"strings"
	"time"
)

// Trace is what a Received header field records about a transaction
// (RFC 5321 §4.4).
type Trace struct {
	ID         string     // transaction id, also in the logs
	Helo       string     // EHLO/HELO argument as received
	RemoteIP   netip.Addr // client address
	RemoteHost string     // client's verified reverse DNS name, if known
	Protocol   string     // "with" keyword: see Protocol
	TLSVersion string     // e.g. "TLS 1.3"; empty without TLS
	TLSCipher  string
	Time       time.Time // when the message was received
}

// Protocol returns the "with" keyword of a Received field for a session
// (RFC 3848, RFC 6531 §3.7.3).
func Protocol(ehlo, tls, auth, utf8 bool) string {
	switch {
	case !ehlo:
		return "SMTP"
	case utf8:
		return "UTF8SMTP" + suffix(tls, auth)
	default:
		return "ESMTP" + suffix(tls, auth)
	}
}

func suffix(tls, auth bool) string {
	s := ""
	if tls {
		s += "S"
	}
	if auth {
		s += "A"
	}
	return s
}

// header renders the Received field, folded one clause per line:
//
//	Received: from client.example ([192.0.2.1])
//		by mx.example.org (Freehold) with ESMTPS id c1f2-3
//		(TLS 1.3, TLS_AES_128_GCM_SHA256)
//		for <bob@example.org>; Mon, 02 Jan 2006 15:04:05 +0000
//
// Every value from the client is reduced to characters that cannot break
// out of the field.
func (t Trace) header(hostname, forRcpt string) []byte {
	var b strings.Builder
	b.WriteString("Received: from ")
	b.WriteString(heloToken(t.Helo, t.RemoteIP))
	b.WriteString(" (")
	if h := domainToken(t.RemoteHost); h != "" {
		b.WriteString(h)
		b.WriteByte(' ')
	}
	b.WriteString(addressLiteral(t.RemoteIP))
	b.WriteString(")\r\n\tby ")
	b.WriteString(domainToken(hostname))
	b.WriteString(" (Freehold)")
	if t.Protocol != "" {
		b.WriteString(" with ")
		b.WriteString(t.Protocol)
	}
	if id := domainToken(t.ID); id != "" {
		b.WriteString(" id ")
		b.WriteString(id)
	}
	if t.TLSVersion != "" {
		b.WriteString("\r\n\t(")
		b.WriteString(commentSafe(t.TLSVersion))
		if t.TLSCipher != "" {
			b.WriteString(", ")
			b.WriteString(commentSafe(t.TLSCipher))
		}
		b.WriteByte(')')
	}
	if forRcpt != "" {
		b.WriteString("\r\n\tfor <")
		b.WriteString(headerSafe(forRcpt))
		b.WriteByte('>')
	}
	b.WriteString(";\r\n\t")
	b.WriteString(t.Time.Format(time.RFC1123Z))
	b.WriteString("\r\n")
	return []byte(b.String())
}

// addressLiteral renders an IP as an RFC 5321 §4.1.3 address literal.
func addressLiteral(ip netip.Addr) string {
	switch {
	case !ip.IsValid():
		return "[unknown]"
	case ip.Is4() || ip.Is4In6():
		return "[" + ip.Unmap().String() + "]"
	default:
		return "[IPv6:" + ip.String() + "]"
	}
}

// heloToken is the From-domain: the EHLO argument when it is a plausible
// domain or address literal, else the client's address literal.
func heloToken(helo string, ip netip.Addr) string {
	if strings.HasPrefix(helo, "[") && strings.HasSuffix(helo, "]") && len(helo) < 64 {
		if t := domainToken(strings.Trim(helo, "[]")); t != "" {
			return "[" + t + "]"
		}
	}
	if t := domainToken(helo); t != "" && t == helo {
		return t
	}
	return addressLiteral(ip)
}

// domainToken keeps letters, digits and ".-:_" (enough for host names,
// IPv6 literals and ids), at most 255 bytes.
func domainToken(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= 255 {
			break
		}
		if r < 0x80 && (r == '.' || r == '-' || r == ':' || r == '_' ||
			('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// headerSafe removes characters that could end or fold a header field, or
// close the angle brackets around an address.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '<' || r == '>' {
			return -1
		}
		return r
	}, s)
}

// commentSafe also removes parentheses and backslashes, for comments.
func commentSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '(' || r == ')' || r == '\\' {
			return -1
		}
		return r
	}, headerSafe(s))
}
