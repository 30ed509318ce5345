package message

import (
	"strings"
	"testing"
	"time"
)

func TestHeaderEnvelope(t *testing.T) {
	raw := []byte(strings.ReplaceAll(`Date: Tue, 1 Jul 2003 10:52:37 +0200
Subject: =?ISO-8859-1?Q?Caf=E9?= =?UTF-8?B?w6k=?= ok
From: =?UTF-8?Q?J=C3=B6rg?= <jorg@example.de>
To: Team: a@x.org, b@y.org;
Message-ID: <abc@example.de>
In-Reply-To: <p1@x> (comment)
References: <r1@x>
 <r2@x> <p1@x>

hi
`, "\n", "\r\n"))
	e := HeaderEnvelope(raw)
	if want := time.Date(2003, 7, 1, 10, 52, 37, 0, time.FixedZone("", 7200)); !e.Date.Equal(want) {
		t.Errorf("Date = %v, want %v", e.Date, want)
	}
	if _, off := e.Date.Zone(); off != 7200 {
		t.Errorf("Date zone offset = %d, want the header's +0200", off)
	}
	if e.Subject != "Caféé ok" { // space between adjacent encoded words is dropped (RFC 2047 §6.2)
		t.Errorf("Subject = %q", e.Subject)
	}
	if len(e.From) != 1 || e.From[0].Name != "Jörg" || e.From[0].Address != "jorg@example.de" {
		t.Errorf("From = %+v", e.From)
	}
	if len(e.To) != 2 || e.To[0].Address != "a@x.org" || e.To[1].Address != "b@y.org" {
		t.Errorf("To = %+v (group members expected, no markers)", e.To)
	}
	if e.MessageID != "abc@example.de" {
		t.Errorf("MessageID = %q", e.MessageID)
	}
	if len(e.InReplyTo) != 1 || e.InReplyTo[0] != "p1@x" {
		t.Errorf("InReplyTo = %q", e.InReplyTo)
	}
	if want := []string{"r1@x", "r2@x", "p1@x"}; len(e.References) != 3 || e.References[0] != want[0] || e.References[2] != want[2] {
		t.Errorf("References = %q, want %q", e.References, want)
	}
	// Unparseable and missing values are zero, not errors.
	e = HeaderEnvelope([]byte("Date: someday\r\nMessage-ID: bare-id\r\n\r\n"))
	if !e.Date.IsZero() || e.MessageID != "bare-id" {
		t.Errorf("lenient parse: Date %v, MessageID %q", e.Date, e.MessageID)
	}
}

func TestParseDateVariants(t *testing.T) {
	for _, s := range []string{
		"Mon, 7 Feb 1994 21:52:25 -0800 (PST)",
		"7 Feb 1994 21:52:25 -0800",
		"Mon,  7 Feb 1994 21:52 -0800",
		"Mon, 7 Feb 1994 21:52:25 -0800 PST extra",
		"Mon Feb 7 21:52:25 1994",
	} {
		if d := ParseDate(s); d.IsZero() || d.Year() != 1994 || d.Day() != 7 {
			t.Errorf("ParseDate(%q) = %v", s, d)
		}
	}
}
