package queue

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// dsnInput is what a delivery status notification reports.
type dsnInput struct {
	hostname    string
	sender      string
	envID       string
	arrival     time.Time
	now         time.Time
	failures    []failure
	original    []byte // the message, or its header only
	headersOnly bool
}

// buildDSN writes a failure DSN (RFC 3464): a multipart/report with a
// human-readable part, the machine-readable message/delivery-status
// quoting each remote answer, and the original message or its header.
// It is sent with the null reverse path and marked Auto-Submitted
// (RFC 3834) so that nobody answers it automatically.
func buildDSN(in dsnInput) []byte {
	var rnd [12]byte
	rand.Read(rnd[:])
	boundary := "dsn-" + hex.EncodeToString(rnd[:])
	var b bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\r\n", args...) }

	w("From: Mail Delivery System <MAILER-DAEMON@%s>", in.hostname)
	w("To: <%s>", in.sender)
	w("Subject: Undelivered Mail Returned to Sender")
	w("Date: %s", in.now.Format(time.RFC1123Z))
	w("Message-ID: <%s@%s>", hex.EncodeToString(rnd[:8]), in.hostname)
	w("Auto-Submitted: auto-replied")
	w("MIME-Version: 1.0")
	w("Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"%s\"", boundary)
	w("")
	w("This is a MIME-encapsulated message.")
	w("")

	// The human-readable part.
	w("--%s", boundary)
	w("Content-Type: text/plain; charset=utf-8")
	w("Content-Description: Notification")
	w("")
	w("This is the mail system at %s.", in.hostname)
	w("")
	w("Your message could not be delivered to the following recipients:")
	w("")
	for _, f := range in.failures {
		w("<%s>: %s", f.rcpt.Address, oneLine(f.result.Detail))
	}
	w("")

	// The delivery-status part (RFC 3464 §2.2, §2.3).
	w("--%s", boundary)
	w("Content-Type: message/delivery-status")
	w("Content-Description: Delivery report")
	w("")
	w("Reporting-MTA: dns; %s", in.hostname)
	if in.envID != "" {
		w("Original-Envelope-Id: %s", oneLine(in.envID))
	}
	if !in.arrival.IsZero() {
		w("Arrival-Date: %s", in.arrival.Format(time.RFC1123Z))
	}
	for _, f := range in.failures {
		w("")
		w("Final-Recipient: %s", addrType(f.rcpt.Address))
		if f.rcpt.ORcpt != "" {
			w("Original-Recipient: %s", oneLine(f.rcpt.ORcpt))
		}
		w("Action: failed")
		w("Status: %s", dsnStatus(f.result.Status))
		if f.host != "" && f.host != "local" {
			w("Remote-MTA: dns; %s", f.host)
		}
		if f.result.Reply.Code != 0 {
			w("Diagnostic-Code: smtp; %s", oneLine(f.result.Reply.String()))
		} else {
			w("Diagnostic-Code: X-Freehold; %s", oneLine(f.result.Detail))
		}
		w("Last-Attempt-Date: %s", in.now.Format(time.RFC1123Z))
	}
	w("")

	// The returned message (RFC 3462 §2: message/rfc822 or
	// text/rfc822-headers).
	w("--%s", boundary)
	if in.headersOnly {
		w("Content-Type: text/rfc822-headers")
	} else {
		w("Content-Type: message/rfc822")
	}
	w("Content-Description: Undelivered message")
	w("")
	b.Write(in.original)
	if !bytes.HasSuffix(in.original, []byte("\n")) {
		b.WriteString("\r\n")
	}
	w("")
	w("--%s--", boundary)
	return b.Bytes()
}

// dsnStatus makes a status a valid permanent or expiry code.
func dsnStatus(s string) string {
	if len(s) < 5 || (s[0] != '4' && s[0] != '5') {
		return "5.0.0"
	}
	if s[0] == '4' && s != "4.4.7" {
		// A temporary code in a failure report only for an expiry.
		return "5" + s[1:]
	}
	return s
}

// addrType formats an address for Final-Recipient: rfc822 for ASCII,
// utf-8 otherwise (RFC 6533 §3).
func addrType(a string) string {
	for i := 0; i < len(a); i++ {
		if a[i] >= 0x80 {
			return "utf-8; " + a
		}
	}
	return "rfc822; " + a
}

// oneLine keeps a remote text from breaking the report's syntax.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == '\t' {
			return ' '
		}
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > 900 {
		s = s[:900]
	}
	return s
}
