package smtpserver

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"freehold/internal/msgauth"
	"freehold/internal/msgauth/spf"
	"freehold/internal/store"
)

// fakeVerifier answers every message with one Result and records what
// it was asked.
type fakeVerifier struct {
	res msgauth.Result
	mu  sync.Mutex
	ins []msgauth.In
}

func (f *fakeVerifier) Verify(_ context.Context, in msgauth.In) msgauth.Result {
	f.mu.Lock()
	defer f.mu.Unlock()
	in.Raw = append([]byte(nil), in.Raw...)
	f.ins = append(f.ins, in)
	return f.res
}

func (f *fakeVerifier) calls() []msgauth.In {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.ins)
}

func verdictResult(spfRes spf.Result, dkim, dmarc string, action msgauth.Action) msgauth.Result {
	r := msgauth.Result{
		SPF:    spf.Outcome{Result: spfRes},
		DMARC:  msgauth.DMARCResult{Result: dmarc, Domain: "remote.example"},
		Action: action,
	}
	if dkim != "" {
		r.DKIM = []msgauth.DKIMResult{{Result: dkim, Domain: "remote.example", Selector: "s1"}}
	}
	r.AuthResults = "Authentication-Results: mx.test;\r\n\tspf=" + string(spfRes) + " smtp.mailfrom=sender@remote.example;\r\n" +
		"\tdkim=" + dkim + " header.d=remote.example header.s=s1;\r\n\tdmarc=" + dmarc + " header.from=remote.example\r\n"
	return r
}

// mxMessage has an Authentication-Results field forged in our name, one
// from another host that must be kept, and one forged with our name in
// other case and a comment.
const mxMessage = "Authentication-Results: mx.test; dkim=pass header.d=bank.example\r\n" +
	"Authentication-Results: other.example; spf=fail\r\n" +
	"Authentication-Results: (forged) MX.TEST;\r\n\tdmarc=pass\r\n" +
	"From: Sender <sender@remote.example>\r\n" +
	"Subject: checked\r\n" +
	"\r\n" +
	"body\r\n"

// sendMX sends one message to rcpt over the MX and fails the test unless
// the reply to the end of data starts with want.
func sendMX(t *testing.T, ts *testServer, rcpt, msg, want string) {
	t.Helper()
	d := dial(t, ts)
	d.hello("client.example")
	d.transaction("sender@remote.example", []string{rcpt}, msg, want)
	d.run(`
		c: QUIT
		s: 221
	`)
}

func TestMXAuthenticationResults(t *testing.T) {
	e := newRealEnv(t)
	v := &fakeVerifier{res: verdictResult(spf.Pass, "pass", "pass", msgauth.Accept)}
	ts := e.start(t, Options{Verifier: v})
	sendMX(t, ts, "alice@example.org", mxMessage, "250 2.0.0")
	calls := v.calls()
	if len(calls) != 1 {
		t.Fatalf("%d verifications", len(calls))
	}
	in := calls[0]
	if in.MailFrom != "sender@remote.example" || in.HELO != "client.example" || in.RemoteIP.String() != "127.0.0.1" || string(in.Raw) != mxMessage {
		t.Errorf("verifier input %+v\n%s", in, in.Raw)
	}
	stored := e.onlyMessage(t, "alice@example.org")
	// Return-Path, our Received (folded), our Authentication-Results,
	// then the message without the fields forged in our name.
	_, afterRP, _ := strings.Cut(stored, "\r\n")
	if !strings.HasPrefix(stored, "Return-Path: <sender@remote.example>\r\n") || !strings.HasPrefix(afterRP, "Received: from client.example") {
		t.Fatalf("stored:\n%s", stored)
	}
	want := v.res.AuthResults + "Authentication-Results: other.example; spf=fail\r\n" +
		"From: Sender <sender@remote.example>\r\nSubject: checked\r\n\r\nbody\r\n"
	if !strings.HasSuffix(stored, want) {
		t.Errorf("stored:\n%s\nwant it to end with:\n%s", stored, want)
	}
	if n := strings.Count(stored, "Authentication-Results: mx.test") + strings.Count(stored, "MX.TEST"); n != 1 {
		t.Errorf("%d Authentication-Results in our name, want ours only:\n%s", n, stored)
	}
	rcv := ts.mlog.events("received")
	if len(rcv) != 1 || rcv[0]["auth"] != "spf=pass dkim=pass dmarc=pass" || rcv[0]["action"] != nil {
		t.Errorf("received events: %v", rcv)
	}
}

func TestMXAuthenticationResultsFail(t *testing.T) {
	// DMARC fails, but the domain's policy is p=none: delivered to INBOX
	// with the failure recorded.
	e := newRealEnv(t)
	v := &fakeVerifier{res: verdictResult(spf.Fail, "fail", "fail", msgauth.Accept)}
	ts := e.start(t, Options{Verifier: v})
	sendMX(t, ts, "alice@example.org", "From: sender@remote.example\r\n\r\nx\r\n", "250")
	stored := e.onlyMessage(t, "alice@example.org")
	if !strings.Contains(stored, "\tspf=fail smtp.mailfrom=sender@remote.example;\r\n\tdkim=fail ") || !strings.Contains(stored, "\tdmarc=fail header.from=remote.example\r\n") {
		t.Errorf("stored:\n%s", stored)
	}
	if rcv := ts.mlog.events("received"); len(rcv) != 1 || rcv[0]["auth"] != "spf=fail dkim=fail dmarc=fail" {
		t.Errorf("received events: %v", rcv)
	}
}

func TestMXDMARCReject(t *testing.T) {
	e := newRealEnv(t)
	v := &fakeVerifier{res: verdictResult(spf.Fail, "", "fail", msgauth.Reject)}
	ts := e.start(t, Options{Verifier: v})
	d := dial(t, ts)
	d.hello("client.example")
	d.transaction("sender@remote.example", []string{"alice@example.org", "fwd@example.org"},
		"From: sender@remote.example\r\n\r\nspoofed\r\n", "550 5.7.1 Message rejected per DMARC policy of remote.example")
	d.run(`
		c: RSET
		s: 250
		c: QUIT
		s: 221
	`)
	if n := len(e.inbox(t, "alice@example.org")) + len(e.inbox(t, "bob@example.org")); n != 0 {
		t.Errorf("%d messages stored", n)
	}
	if q, err := e.st.QueueList(context.Background()); err != nil || len(q) != 0 {
		t.Errorf("queue %v %v", q, err)
	}
	rej := ts.mlog.events("rejected")
	if len(rej) != 1 || rej[0]["stage"] != "data" || rej[0]["code"] != 550.0 || rej[0]["status"] != "5.7.1" ||
		!strings.Contains(rej[0]["reason"].(string), "DMARC p=reject for header.from=remote.example: spf=fail dkim=none dmarc=fail") {
		t.Errorf("rejected events: %v", rej)
	}
	if to, _ := rej[0]["to"].([]any); len(to) != 2 {
		t.Errorf("rejection must name both recipients: %v", rej[0])
	}
	if len(ts.mlog.events("received")) != 0 {
		t.Error("a refused message was logged as received")
	}
}

func TestMXDMARCQuarantine(t *testing.T) {
	e := newRealEnv(t)
	v := &fakeVerifier{res: verdictResult(spf.SoftFail, "none", "fail", msgauth.Quarantine)}
	ts := e.start(t, Options{Verifier: v})
	sendMX(t, ts, "team@example.org", "From: sender@remote.example\r\nSubject: suspicious\r\n\r\nx\r\n", "250")
	for _, addr := range []string{"alice@example.org", "bob@example.org"} {
		if n := len(e.inbox(t, addr)); n != 0 {
			t.Errorf("%s has %d messages in INBOX", addr, n)
		}
		if entries := e.entries(t, addr, "Junk"); len(entries) != 1 || !slices.Contains(entries[0].Keywords, store.KeywordJunk) {
			t.Errorf("%s Junk: %+v", addr, entries)
		}
	}
	rcv := ts.mlog.events("received")
	if len(rcv) != 1 || rcv[0]["action"] != "quarantine" || rcv[0]["auth"] != "spf=softfail dkim=none dmarc=fail" {
		t.Errorf("received events: %v", rcv)
	}
}

func TestMXQuarantineFollowsRenamedJunk(t *testing.T) {
	e := newRealEnv(t)
	ctx := context.Background()
	alice := e.accts["alice@example.org"]
	junk, err := e.st.MailboxByName(ctx, alice.ID, "Junk")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.RenameMailbox(ctx, alice.ID, junk.ID, "Spam"); err != nil {
		t.Fatal(err)
	}
	v := &fakeVerifier{res: verdictResult(spf.Fail, "none", "fail", msgauth.Quarantine)}
	ts := e.start(t, Options{Verifier: v})
	sendMX(t, ts, "alice@example.org", "From: sender@remote.example\r\n\r\nx\r\n", "250")
	entries, err := e.st.Entries(ctx, alice.ID, junk.ID)
	if err != nil || len(entries) != 1 {
		t.Errorf("the \\Junk mailbox, now named Spam, has %v (%v)", entries, err)
	}
	if n := len(e.inbox(t, "alice@example.org")); n != 0 {
		t.Errorf("%d in INBOX", n)
	}
}

func TestSubmissionIsNotVerified(t *testing.T) {
	e := newRealEnv(t)
	v := &fakeVerifier{res: verdictResult(spf.Fail, "", "fail", msgauth.Reject)}
	ts := e.start(t, Options{Mode: ModeSubmission, ImplicitTLS: true, Verifier: v})
	d := loginSubmission(t, ts, "bob@example.org", "bob-pw")
	d.transaction("bob@example.org", []string{"alice@example.org"},
		"Authentication-Results: mx.test; dmarc=pass\r\nFrom: bob@example.org\r\n\r\nhi\r\n", "250")
	if n := len(v.calls()); n != 0 {
		t.Errorf("submission verified %d times", n)
	}
	if s := e.onlyMessage(t, "alice@example.org"); strings.Contains(s, "Authentication-Results") {
		t.Errorf("forged field kept on submission:\n%s", s)
	}
}

// loginSubmission connects to an implicit-TLS submission server and logs
// in.
func loginSubmission(t *testing.T, ts *testServer, user, pw string) *dialog {
	t.Helper()
	d := dialTLS(t, ts)
	d.hello("laptop")
	d.run(`
		c: AUTH PLAIN ` + b64("\x00"+user+"\x00"+pw) + `
		s: 235
	`)
	return d
}
