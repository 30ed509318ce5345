package smtpserver

import (
	"strings"
	"testing"
)

func TestMXDialogue(t *testing.T) {
	ts := startServer(t, standardBackend(), Options{})
	d := dial(t, ts)
	d.run(`
		s: 220 mx.test ESMTP
		c: EHLO client.example
		s: 250-mx.test Hello client.example
		s: 250-PIPELINING
		s: 250-SIZE 52428800
		s: 250-8BITMIME
		s: 250-SMTPUTF8
		s: 250-ENHANCEDSTATUSCODES
		s: 250-CHUNKING
		s: 250-LIMITS RCPTMAX=100
		s: 250-DSN
		s: 250 STARTTLS
		c: MAIL FROM:<sender@remote.example> BODY=8BITMIME SIZE=100
		s: 250 2.1.0 Ok
		c: RCPT TO:<nobody@example.org>
		s: 550 5.1.1 No such user here
		c: RCPT TO:<someone@elsewhere.example>
		s: 554 5.7.1 Relay access denied
		c: RCPT TO:<alice@example.org>
		s: 250 2.1.5 Ok
		c: RCPT TO:<Team@Example.ORG>
		s: 250 2.1.5 Ok
		c: RCPT TO:<Alice+news@example.org>
		s: 250 2.1.5 Ok
		c: DATA
		s: 354 End data
		c: From: sender@remote.example
		c: Subject: hello
		c:
		c: ..leading dot
		c: .
		s: 250 2.0.0 Ok: queued as
		c: QUIT
		s: 221 2.0.0 mx.test closing connection
		closed
	`)
	dels, _ := ts.be.snapshot()
	if len(dels) != 1 {
		t.Fatalf("%d deliveries, want 1 (stored once for all recipients)", len(dels))
	}
	if n := len(dels[0].Targets); n != 2 {
		t.Errorf("%d targets, want 2 (alice and bob, each once)", n)
	}
	stored := ts.be.blob(dels[0].Message.BlobID)
	if !strings.HasPrefix(stored, "Return-Path: <sender@remote.example>\r\nReceived: from client.example ([127.0.0.1])\r\n\tby mx.test (Freehold) with ESMTP id ") {
		t.Errorf("stored form starts:\n%s", stored)
	}
	if strings.Contains(stored, "\tfor <") {
		t.Error("Received must not name a recipient when there are several")
	}
	if !strings.HasSuffix(stored, "\r\nSubject: hello\r\n\r\n.leading dot\r\n") {
		t.Errorf("dot-stuffing not undone:\n%q", stored)
	}
	if dels[0].Message.Envelope.Subject != "hello" {
		t.Errorf("envelope %+v", dels[0].Message.Envelope)
	}
	rcv := ts.mlog.events("received")
	rej := ts.mlog.events("rejected")
	if len(rcv) != 1 || len(rej) != 2 {
		t.Fatalf("mail log: %d received, %d rejected; want 1 and 2:\n%s", len(rcv), len(rej), ts.mlog)
	}
	if rej[0]["stage"] != "rcpt" || rej[0]["code"] != 550.0 || rej[1]["code"] != 554.0 {
		t.Errorf("rejections %v", rej)
	}
	if rcv[0]["from"] != "sender@remote.example" || rcv[0]["local"] != 2.0 || rcv[0]["conn"] == nil {
		t.Errorf("received event %v", rcv[0])
	}
}

func TestMXNoAuthAndPostmaster(t *testing.T) {
	ts := startServer(t, standardBackend(), Options{})
	d := dial(t, ts)
	d.run(`
		s: 220
		c: MAIL FROM:<a@remote.example>
		s: 503 5.5.1 Send EHLO first
		c: HELO client.example
		s: 250 mx.test Hello client.example
		c: AUTH PLAIN AGFsaWNlQGV4YW1wbGUub3JnAGFsaWNlLXB3
		s: 502 5.5.1 AUTH not available
		c: MAIL FROM:<> SIZE=10
		s: 555 5.5.4
		c: MAIL FROM:<>
		s: 250 2.1.0
		c: RCPT TO:<PostMaster>
		s: 250 2.1.5
		c: RCPT TO:<anyone@example.net>
		s: 250 2.1.5
		c: DATA
		s: 354
		c: Subject: bounce
		c:
		c: x
		c: .
		s: 250 2.0.0
	`)
	dels, _ := ts.be.snapshot()
	if len(dels) != 1 || len(dels[0].Targets) != 2 {
		t.Fatalf("deliveries %+v", dels)
	}
	if !strings.HasPrefix(ts.be.blob(dels[0].Message.BlobID), "Return-Path: <>\r\nReceived: from client.example ([127.0.0.1])\r\n\tby mx.test (Freehold) with SMTP id") {
		t.Errorf("stored:\n%s", ts.be.blob(dels[0].Message.BlobID))
	}
}

func TestMXSingleRecipientForClauseAndTLS(t *testing.T) {
	ts := startServer(t, standardBackend(), Options{})
	d := dial(t, ts)
	d.run(`
		s: 220
		c: EHLO client.example
		` + ehloMX + `
		c: STARTTLS
		s: 220 2.0.0 Ready to start TLS
		starttls
		c: MAIL FROM:<a@remote.example>
		s: 503 5.5.1 Send EHLO first
		c: EHLO client.example
		s: 250-mx.test
		s: 250-PIPELINING
		s: 250-SIZE
		s: 250-8BITMIME
		s: 250-SMTPUTF8
		s: 250-ENHANCEDSTATUSCODES
		s: 250-CHUNKING
		s: 250-LIMITS RCPTMAX=100
		s: 250 DSN
		c: STARTTLS
		s: 503 5.5.1 TLS already active
		c: MAIL FROM:<a@remote.example>
		s: 250
		c: RCPT TO:<bob@example.org>
		s: 250
		c: DATA
		s: 354
		c: Subject: over TLS
		c:
		c: hi
		c: .
		s: 250
	`)
	dels, _ := ts.be.snapshot()
	stored := ts.be.blob(dels[0].Message.BlobID)
	for _, want := range []string{" with ESMTPS id ", "\r\n\t(TLS 1.3, TLS_", "\r\n\tfor <bob@example.org>;\r\n"} {
		if !strings.Contains(stored, want) {
			t.Errorf("stored form lacks %q:\n%s", want, stored)
		}
	}
}

func TestMXPipelining(t *testing.T) {
	ts := startServer(t, standardBackend(), Options{})
	d := dial(t, ts)
	d.run(`s: 220`)
	// RFC 2920: the whole transaction in one write; replies come in order.
	d.send("EHLO c.example\r\nMAIL FROM:<a@remote.example>\r\nRCPT TO:<alice@example.org>\r\n" +
		"RCPT TO:<ghost@example.org>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n")
	if r := d.readReply(); !strings.HasPrefix(r, "250-mx.test") {
		t.Fatalf("EHLO reply %q", r)
	}
	d.run(`
		s: 250 2.1.0
		s: 250 2.1.5
		s: 550 5.1.1
		s: 250 2.1.5
		s: 354
		c! Subject: p\r\n\r\nbody\r\n.\r\nRSET\r\nNOOP\r\nQUIT\r\n
		s: 250 2.0.0 Ok: queued
		s: 250 2.0.0 Ok
		s: 250 2.0.0 Ok
		s: 221
		closed
	`)
}

func TestMXSize(t *testing.T) {
	ts := startServer(t, standardBackend(), Options{MaxMessageBytes: 1000})
	d := dial(t, ts)
	big := strings.Repeat("x", 70) + `\r\n`
	d.run(`
		s: 220
		c: EHLO c.example
		s: 250-mx.test
		s: 250-PIPELINING
		s: 250-SIZE 1000
		s: 250-8BITMIME
		s: 250-SMTPUTF8
		s: 250-ENHANCEDSTATUSCODES
		s: 250-CHUNKING
		s: 250-LIMITS
		s: 250-DSN
		s: 250 STARTTLS
		c: MAIL FROM:<a@remote.example> SIZE=1001
		s: 552 5.3.4 Message size exceeds fixed maximum message size
		c: MAIL FROM:<a@remote.example> SIZE=999
		s: 250
		c: RCPT TO:<alice@example.org>
		s: 250
		c: DATA
		s: 354
		c! Subject: big\r\n\r\n` + strings.Repeat(big, 20) + `.\r\n
		s: 552 5.3.4 Message too big
		c: MAIL FROM:<a@remote.example>
		s: 250
		c: RCPT TO:<alice@example.org>
		s: 250
		c: BDAT 600
		c! ` + strings.Repeat("y", 598) + `\r\n
		s: 250 2.0.0 600 octets received
		c: BDAT 600 LAST
		c! ` + strings.Repeat("z", 598) + `\r\n
		s: 552 5.3.4 Message too big
		c: MAIL FROM:<a@remote.example>
		s: 250
		c: RCPT TO:<alice@example.org>
		s: 250
		c: DATA
		s: 354
		c: Subject: small
		c:
		c: fits
		c: .
		s: 250 2.0.0
	`)
	dels, _ := ts.be.snapshot()
	if len(dels) != 1 || dels[0].Message.Envelope.Subject != "small" {
		t.Fatalf("deliveries %+v", dels)
	}
	rej := ts.mlog.events("rejected")
	if len(rej) != 3 {
		t.Fatalf("want 3 rejections (MAIL SIZE, DATA, BDAT):\n%s", ts.mlog)
	}
	for i, stage := range []string{"mail", "data", "data"} {
		if rej[i]["stage"] != stage || rej[i]["code"] != 552.0 {
			t.Errorf("rejection %d: %v", i, rej[i])
		}
	}
}

func TestMXChunking(t *testing.T) {
	ts := startServer(t, standardBackend(), Options{})
	d := dial(t, ts)
	d.run(`
		s: 220
		c: EHLO c.example
		` + ehloMX + `
		c: BDAT 5
		c! hello
		s: 503 5.5.1
		c: MAIL FROM:<a@remote.example>
		s: 250
		c: BDAT 3
		c! abc
		s: 554 5.5.1 No valid recipients
		c: MAIL FROM:<a@remote.example>
		s: 250
		c: RCPT TO:<bob@example.org>
		s: 250
		c: BDAT 19
		c! Subject: chunks\r\n\r\n
		s: 250 2.0.0 19 octets received
		c: DATA
		s: 503 5.5.1
		c: BDAT 10 LAST
		c! .a\r\n.\r\nb\r\n
		s: 250 2.0.0 Ok: queued
		c: MAIL FROM:<a@remote.example>
		s: 250
		c: RCPT TO:<bob@example.org>
		s: 250
		c: BDAT 0 LAST
		s: 250 2.0.0
		c: MAIL FROM:<a@remote.example>
		s: 250
		c: RCPT TO:<bob@example.org>
		s: 250
		c: BDAT 7 LAST
		c! a\nb\r\nc\r
		s: 550 5.6.0 Message refused: bare CR or LF
		c: NOOP
		s: 250
		c: BDAT x
		s: 501 5.5.4
		s: 421 4.5.0
		closed
	`)
	dels, _ := ts.be.snapshot()
	if len(dels) != 2 {
		t.Fatalf("%d deliveries", len(dels))
	}
	// BDAT data is not dot-stuffed: it is stored exactly as sent.
	if s := ts.be.blob(dels[0].Message.BlobID); !strings.HasSuffix(s, "\r\nSubject: chunks\r\n\r\n.a\r\n.\r\nb\r\n") {
		t.Errorf("stored %q", s)
	}
}

func TestMXRefusesBareLineEnds(t *testing.T) {
	cases := map[string]string{
		// The classic smuggling payload: <LF>.<LF> followed by a second
		// transaction that must never be executed.
		"LF.LF":   `Subject: a\r\n\r\nhello\n.\nMAIL FROM:<admin@example.org>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n`,
		"CRLF.LF": `Subject: a\r\n\r\nhello\r\n.\nMAIL FROM:<admin@example.org>\r\n`,
		"LF.CRLF": `Subject: a\r\n\r\nhello\n.\r\nMAIL FROM:<admin@example.org>\r\n`,
		"bare CR": `Subject: a\r\n\r\nhello\r.\r\nstill data\r\n.\r\n`,
	}
	for name, payload := range cases {
		t.Run(name, func(t *testing.T) {
			ts := startServer(t, standardBackend(), Options{})
			d := dial(t, ts)
			d.run(`
				s: 220
				c: HELO c.example
				s: 250
				c: MAIL FROM:<a@remote.example>
				s: 250
				c: RCPT TO:<alice@example.org>
				s: 250
				c: DATA
				s: 354
				c! ` + payload + `
				s: 550 5.6.0 Message refused: bare CR or LF
				s: 421 4.7.0
				closed
			`)
			if dels, _ := ts.be.snapshot(); len(dels) != 0 {
				t.Errorf("%d messages delivered", len(dels))
			}
			if rej := ts.mlog.events("rejected"); len(rej) != 1 || rej[0]["code"] != 550.0 {
				t.Errorf("mail log:\n%s", ts.mlog)
			}
		})
	}
}

func TestMXUTF8(t *testing.T) {
	be := standardBackend()
	be.addAccount("jösé@example.org", "pw", 0)
	ts := startServer(t, be, Options{})
	d := dial(t, ts)
	d.run(`
		s: 220
		c: HELO c.example
		s: 250
		c: MAIL FROM:<a@remote.example> SMTPUTF8
		s: 555 5.5.4
		c: EHLO c.example
		` + ehloMX + `
		c: MAIL FROM:<ärger@remote.example>
		s: 553 5.6.7
		c: MAIL FROM:<a@remote.example>
		s: 250
		c: RCPT TO:<jösé@example.org>
		s: 553 5.6.7
		c: RSET
		s: 250
		c: MAIL FROM:<ärger@remote.example> SMTPUTF8 BODY=8BITMIME
		s: 250
		c: RCPT TO:<JÖSÉ@example.org>
		s: 250
		c: DATA
		s: 354
		c: Subject: ünïcode
		c:
		c: ça va
		c: .
		s: 250
	`)
	dels, _ := ts.be.snapshot()
	if len(dels) != 1 || dels[0].Message.Envelope.Subject != "ünïcode" {
		t.Fatalf("deliveries %+v", dels)
	}
	if !strings.Contains(ts.be.blob(dels[0].Message.BlobID), " with UTF8SMTP id ") {
		t.Error("Received should say UTF8SMTP")
	}
}

// TestMXNeverRelays tries the classic ways to make an MX relay: source
// routes, percent hacks, quoted at-signs and bang paths all stay local or
// are refused.
func TestMXNeverRelays(t *testing.T) {
	ts := startServer(t, standardBackend(), Options{})
	d := dial(t, ts)
	d.run(`
		s: 220
		c: EHLO c
		` + ehloMX + `
		c: MAIL FROM:<alice@example.org>
		s: 250
		c: RCPT TO:<victim@remote.example>
		s: 554 5.7.1 Relay access denied
		c: RCPT TO:<@example.org:victim@remote.example>
		s: 554 5.7.1 Relay access denied
		c: RCPT TO:<victim%remote.example@example.org>
		s: 550 5.1.1
		c: RCPT TO:<"victim@remote.example"@example.org>
		s: 550 5.1.1
		c: RCPT TO:<remote.example!victim@example.org>
		s: 550 5.1.1
		c: RCPT TO:<victim@remote.example.>
		s: 554 5.7.1
		c: RCPT TO:<victim@[192.0.2.1]>
		s: 553 5.1.3
		c: DATA
		s: 554 5.5.1 No valid recipients
	`)
	if dels, q := ts.be.snapshot(); len(dels)+len(q) != 0 {
		t.Errorf("something was accepted: %+v %+v", dels, q)
	}
}
