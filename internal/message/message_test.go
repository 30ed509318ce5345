package message

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"freehold/internal/store"
)

func crlf(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }

func TestSummarizeSimple(t *testing.T) {
	raw := crlf(`From: "Alice Example" <alice@example.org>
To: bob@example.net, =?UTF-8?Q?Ren=C3=A9e?= <renee@example.net>
Cc: undisclosed-recipients:;
Subject: =?ISO-8859-1?Q?Caf=E9?= and
 =?UTF-8?B?8J+NlQ==?=
Date: Tue, 3 Feb 2026 10:04:05 +0100
Message-ID: <abc@example.org>
In-Reply-To: <x1@example.org>
References: <x0@example.org>
 <x1@example.org>

Hello Bob,
  this is   the body.
`)
	env, preview, att := Summarize(raw)
	if env.Subject != "Café and 🍕" {
		t.Errorf("subject %q", env.Subject)
	}
	want := []store.EnvelopeAddress{{Name: "Alice Example", Address: "alice@example.org"}}
	if len(env.From) != 1 || env.From[0] != want[0] {
		t.Errorf("from %+v", env.From)
	}
	if len(env.To) != 2 || env.To[1].Name != "Renée" || env.To[1].Address != "renee@example.net" {
		t.Errorf("to %+v", env.To)
	}
	if len(env.Cc) != 0 {
		t.Errorf("cc %+v", env.Cc)
	}
	if !env.Date.Equal(time.Date(2026, 2, 3, 9, 4, 5, 0, time.UTC)) {
		t.Errorf("date %v", env.Date)
	}
	if env.MessageID != "abc@example.org" {
		t.Errorf("message-id %q", env.MessageID)
	}
	if len(env.InReplyTo) != 1 || env.InReplyTo[0] != "x1@example.org" {
		t.Errorf("in-reply-to %v", env.InReplyTo)
	}
	if len(env.References) != 2 || env.References[1] != "x1@example.org" {
		t.Errorf("references %v", env.References)
	}
	if preview != "Hello Bob, this is the body." {
		t.Errorf("preview %q", preview)
	}
	if att {
		t.Error("hasAttachment for a plain message")
	}
}

func TestSummarizeMultipart(t *testing.T) {
	raw := crlf(`From: a@example.org
Subject: report
Content-Type: multipart/mixed; boundary="outer"

preamble
--outer
Content-Type: multipart/alternative; boundary=inner

--inner
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Voil=E0 le rapport=
 du mois.
--inner
Content-Type: text/html

<p>ignored</p>
--inner--
--outer
Content-Type: application/pdf; name="r.pdf"
Content-Disposition: attachment; filename="r.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--outer--
epilogue
`)
	_, preview, att := Summarize(raw)
	if preview != "Voilà le rapport du mois." {
		t.Errorf("preview %q", preview)
	}
	if !att {
		t.Error("attachment not seen")
	}
}

func TestSummarizeHTMLOnlyBase64(t *testing.T) {
	raw := crlf(`Subject: html
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: base64

PGh0bWw+PGhlYWQ+PHN0eWxlPnAge2NvbG9yOnJlZH08L3N0eWxlPjwvaGVhZD48Ym9keT48cD5I
aSAmYW1wOyB3ZWxjb21lPC9wPjxzY3JpcHQ+YWxlcnQoMSk8L3NjcmlwdD48L2JvZHk+PC9odG1s
Pg==
`)
	_, preview, _ := Summarize(raw)
	if preview != "Hi & welcome" {
		t.Errorf("preview %q", preview)
	}
}

func TestSummarizeMalformed(t *testing.T) {
	cases := map[string][]byte{
		"empty":            nil,
		"no blank line":    []byte("Subject: x"),
		"garbage":          []byte("\x00\xff\xfe:::\n\n\n--"),
		"unterminated mp":  crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nhello there"),
		"missing boundary": crlf("Content-Type: multipart/mixed\n\nbody"),
		"bad charset":      crlf("Subject: =?x-nope?Q?abc?=\nContent-Type: text/plain; charset=x-nope\n\ntext"),
		"latin1 header":    []byte("Subject: caf\xe9\r\n\r\nbody\r\n"),
		"bad date":         crlf("Date: yesterday at noon\n\nx"),
		"broken base64":    crlf("Content-Transfer-Encoding: base64\n\naGVsbG8gd29y!!bGQ"),
	}
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			env, preview, _ := Summarize(raw)
			checkValid(t, env, preview)
		})
	}
	env, p, _ := Summarize(cases["unterminated mp"])
	if p != "hello there" {
		t.Errorf("unterminated multipart preview %q", p)
	}
	env, _, _ = Summarize(cases["latin1 header"])
	if env.Subject != "café" {
		t.Errorf("latin1 subject %q", env.Subject)
	}
	env, _, _ = Summarize(cases["bad charset"])
	if env.Subject != "=?x-nope?Q?abc?=" {
		t.Errorf("undecodable word should stay as written, got %q", env.Subject)
	}
	_, p, _ = Summarize(cases["broken base64"])
	if !strings.HasPrefix(p, "hello wor") {
		t.Errorf("broken base64 preview %q", p)
	}
}

func TestLooseAddresses(t *testing.T) {
	got := ParseAddressList(`J. Doe <j@example.org>, broken <<x>, "Q, R" <q@example.org>, bare@example.net`)
	var addrs []string
	for _, a := range got {
		addrs = append(addrs, a.Address)
	}
	want := "j@example.org,x,q@example.org,bare@example.net"
	if strings.Join(addrs, ",") != want {
		t.Errorf("got %q, want %q", strings.Join(addrs, ","), want)
	}
	if got[2].Name != "Q, R" {
		t.Errorf("quoted name %q", got[2].Name)
	}
}

func TestPreviewLength(t *testing.T) {
	body := strings.Repeat("é", 1000)
	_, p, _ := Summarize(crlf("Subject: long\n\n" + body))
	if utf8.RuneCountInString(p) != PreviewLen {
		t.Errorf("preview has %d characters", utf8.RuneCountInString(p))
	}
}

func checkValid(t *testing.T, env store.Envelope, preview string) {
	t.Helper()
	if !utf8.ValidString(preview) || utf8.RuneCountInString(preview) > PreviewLen {
		t.Errorf("bad preview %q", preview)
	}
	strs := []string{env.Subject, env.MessageID}
	strs = append(strs, env.InReplyTo...)
	strs = append(strs, env.References...)
	for _, l := range [][]store.EnvelopeAddress{env.From, env.Sender, env.ReplyTo, env.To, env.Cc, env.Bcc} {
		for _, a := range l {
			strs = append(strs, a.Name, a.Address)
		}
	}
	for _, s := range strs {
		if !utf8.ValidString(s) || strings.ContainsAny(s, "\r\n\x00") {
			t.Errorf("bad string %q", s)
		}
	}
}
