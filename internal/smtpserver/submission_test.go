package smtpserver

import (
	"encoding/base64"
	"strings"
	"testing"

	"freehold/internal/mail"
	"freehold/internal/store"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestSubmissionSTARTTLSAndAuth(t *testing.T) {
	ts := startServer(t, standardBackend(), Options{Mode: ModeSubmission})
	d := dial(t, ts)
	d.run(`
		s: 220 mx.test ESMTP
		c: EHLO laptop
		s: 250-mx.test Hello laptop
		s: 250-PIPELINING
		s: 250-SIZE
		s: 250-8BITMIME
		s: 250-SMTPUTF8
		s: 250-ENHANCEDSTATUSCODES
		s: 250-CHUNKING
		s: 250-LIMITS
		s: 250-DSN
		s: 250-FUTURERELEASE 2592000 
		s: 250 STARTTLS
		c: AUTH PLAIN ` + b64("\x00alice@example.org\x00alice-pw") + `
		s: 530 5.7.0 Must issue a STARTTLS command first
		c: MAIL FROM:<alice@example.org>
		s: 530 5.7.0 Authentication required
		c: STARTTLS
		s: 220 2.0.0
		starttls
		c: EHLO laptop
		s: 250-mx.test Hello laptop
		s: 250-PIPELINING
		s: 250-SIZE
		s: 250-8BITMIME
		s: 250-SMTPUTF8
		s: 250-ENHANCEDSTATUSCODES
		s: 250-CHUNKING
		s: 250-LIMITS
		s: 250-DSN
		s: 250-FUTURERELEASE 2592000 
		s: 250 AUTH PLAIN LOGIN
		c: AUTH PLAIN ` + b64("\x00alice@example.org\x00wrong") + `
		s: 535 5.7.8 Authentication credentials invalid
		c: AUTH PLAIN ` + b64("bob@example.org\x00alice@example.org\x00alice-pw") + `
		s: 535 5.7.8
		c: AUTH CRAM-MD5
		s: 504 5.5.4
		c: AUTH PLAIN
		s: 334
		c: *
		s: 501 5.0.0 Authentication cancelled
		c: AUTH PLAIN
		s: 334
		c: ` + b64("\x00Alice@Example.org\x00alice-pw") + `
		s: 235 2.7.0 Authentication successful
		c: AUTH PLAIN ` + b64("\x00alice@example.org\x00alice-pw") + `
		s: 503 5.5.1 Already authenticated
		c: MAIL FROM:<bob@example.org>
		s: 550 5.7.1 Sender address not owned by user
		c: MAIL FROM:<>
		s: 550 5.7.1
		c: MAIL FROM:<sales@example.org>
		s: 250 2.1.0
		c: RCPT TO:<bob@example.org>
		s: 250 2.1.5
		c: RCPT TO:<friend@remote.example>
		s: 250 2.1.5
		c: RCPT TO:<nobody@example.org>
		s: 550 5.1.1
		c: DATA
		s: 354
		c: From: Bob <bob@example.org>
		c: Subject: forged
		c:
		c: x
		c: .
		s: 550 5.7.1 From header address not owned by user
		c: MAIL FROM:<alice+out@example.org>
		s: 250
		c: RCPT TO:<bob@example.org>
		s: 250
		c: RCPT TO:<Friend@Remote.example>
		s: 250
		c: DATA
		s: 354
		c: From: "Alice" <alice@example.org>
		c: Subject: lunch
		c:
		c: noon?
		c: .
		s: 250 2.0.0 Ok: queued
		c: QUIT
		s: 221
	`)
	dels, _ := ts.be.snapshot()
	if len(dels) != 1 {
		t.Fatalf("%d deliveries", len(dels))
	}
	dl := dels[0]
	if len(dl.Targets) != 1 || dl.Targets[0].Account != 2 {
		t.Errorf("local targets %+v", dl.Targets)
	}
	ob := dl.Outbound
	if ob == nil || ob.Account != 1 || ob.MailFrom != "alice+out@example.org" ||
		len(ob.Recipients) != 1 || ob.Recipients[0].Address != "Friend@Remote.example" {
		t.Fatalf("outbound %+v", ob)
	}
	local, out := ts.be.blob(dl.Message.BlobID), ts.be.blob(ob.BlobID)
	if !strings.Contains(local, " with ESMTPSA id ") || !strings.HasPrefix(local, "Return-Path: <alice+out@example.org>\r\n") {
		t.Errorf("local copy:\n%s", local)
	}
	if strings.Contains(out, "Return-Path:") {
		t.Errorf("queued copy has Return-Path:\n%s", out)
	}
	for _, f := range []string{"\r\nDate: ", "\r\nMessage-ID: <"} {
		if !strings.Contains(out, f) {
			t.Errorf("submission should add %q:\n%s", f, out)
		}
	}
	if af := ts.mlog.events("auth-failed"); len(af) != 2 || af[0]["user"] != "alice@example.org" {
		t.Errorf("auth-failed events:\n%s", ts.mlog)
	}
}

func TestSubmissionImplicitTLSLogin(t *testing.T) {
	ts := startServer(t, standardBackend(), Options{Mode: ModeSubmission, ImplicitTLS: true})
	d := dialTLS(t, ts)
	d.run(`
		s: 220 mx.test ESMTP
		c: EHLO laptop
		` + ehloSubmissionTLS + `
		c: AUTH LOGIN
		s: 334 VXNlcm5hbWU6
		c: ` + b64("bob@example.org") + `
		s: 334 UGFzc3dvcmQ6
		c: ` + b64("bob-pw") + `
		s: 235 2.7.0
		c: MAIL FROM:<bob@example.org>
		s: 250
		c: RCPT TO:<someone@remote.example>
		s: 250
		c: BDAT 57 LAST
		c! From: bob@example.org\r\nDate: x\r\nMessage-ID: <1@b>\r\n\r\nhi\r\n
		s: 250 2.0.0
	`)
	_, q := ts.be.snapshot()
	if len(q) != 1 || q[0].Account != 2 || q[0].Recipients[0].Address != "someone@remote.example" {
		t.Fatalf("queue %+v", q)
	}
	out := ts.be.blob(q[0].BlobID)
	if strings.Count(out, "Message-ID:") != 1 || strings.Count(out, "Date:") != 1 {
		t.Errorf("existing Date/Message-ID must be kept, not doubled:\n%s", out)
	}
}

func TestSubmissionFromAliasAndMissingFrom(t *testing.T) {
	ts := startServer(t, standardBackend(), Options{Mode: ModeSubmission, ImplicitTLS: true})
	d := dialTLS(t, ts)
	d.run(`
		s: 220
		c: EHLO laptop
		` + ehloSubmissionTLS + `
		c: AUTH PLAIN ` + b64("\x00alice@example.org\x00alice-pw") + `
		s: 235
	`)
	d.transaction("alice@example.org", []string{"bob@example.org"}, "Subject: no from\r\n\r\nx\r\n",
		"550 5.7.1 Message has no From header")
	d.transaction("alice@example.org", []string{"bob@example.org"},
		"From: Sales <sales@example.org>, Team <team@example.org>\r\nSubject: from aliases\r\n\r\nx\r\n", "250")
	if dels, _ := ts.be.snapshot(); len(dels) != 1 {
		t.Fatalf("%d deliveries", len(dels))
	}
	// team@ targets alice and bob: alice may use it; the catch-all for
	// example.net targets bob only, and grants no sending rights anyway.
	ok, err := ts.opts.Resolver.MaySendAs(t.Context(), store.Account{ID: 2, Address: "bob@example.org"}, mail.Address{Local: "x", Domain: "example.net"})
	if err != nil || ok {
		t.Errorf("catch-all must not grant send-as: %v %v", ok, err)
	}
}

func TestSubmissionQuotaAtRcpt(t *testing.T) {
	be := standardBackend()
	be.addAccount("full@example.org", "pw", 100)
	be.usage[4] = 90
	ts := startServer(t, be, Options{Usage: be})
	d := dial(t, ts)
	d.run(`
		s: 220
		c: EHLO c
		` + ehloMX + `
		c: MAIL FROM:<a@remote.example> SIZE=5
		s: 250
		c: RCPT TO:<full@example.org>
		s: 250
		c: RSET
		s: 250
		c: MAIL FROM:<a@remote.example> SIZE=50
		s: 250
		c: RCPT TO:<full@example.org>
		s: 452 4.2.2 Mailbox full
	`)
}
