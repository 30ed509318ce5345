package smtpserver

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"freehold/internal/auth"
	"freehold/internal/blob"
	"freehold/internal/blob/fs"
	"freehold/internal/delivery"
	"freehold/internal/store"
	"freehold/internal/store/sqlite"
)

// The key scenarios again, end to end over loopback TCP, on SQLite and the
// fs blob store as the binary runs them.

type realEnv struct {
	st    store.Store
	blobs blob.Store
	accts map[string]store.Account
}

func newRealEnv(t *testing.T) *realEnv {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "db.sqlite"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	blobs, err := fs.Open(ctx, filepath.Join(dir, "blobs"), st)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blobs.Close() })
	e := &realEnv{st: st, blobs: blobs, accts: map[string]store.Account{}}
	for _, d := range []string{"example.org", "example.net"} {
		if err := st.AddDomain(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range []struct {
		addr, pw string
		quota    int64
	}{{"alice@example.org", "alice-pw", 0}, {"bob@example.org", "bob-pw", 0}, {"tiny@example.org", "pw", 2000}} {
		h, err := auth.Hash(a.pw, auth.Params{Memory: 64, Time: 1, Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		acct, err := st.CreateAccount(ctx, store.NewAccount{Address: a.addr, PasswordHash: h, QuotaBytes: a.quota})
		if err != nil {
			t.Fatal(err)
		}
		e.accts[a.addr] = acct
	}
	for _, al := range []store.Alias{
		{Address: "team@example.org", Targets: []string{"alice@example.org", "bob@example.org"}},
		{Address: "fwd@example.org", Targets: []string{"bob@example.org", "outside@remote.example"}},
		{Address: "@example.net", Targets: []string{"alice@example.org"}},
	} {
		if err := st.SetAlias(ctx, al); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func (e *realEnv) start(t *testing.T, o Options) *testServer {
	t.Helper()
	o.Resolver = delivery.NewResolver(e.st, delivery.ResolverOptions{})
	d, err := delivery.NewDeliverer(delivery.DelivererOptions{Target: e.st, Blobs: e.blobs, Hostname: "mx.test"})
	if err != nil {
		t.Fatal(err)
	}
	o.Deliverer, o.Authenticator, o.Usage = d, auth.NewAuthenticator(e.st), e.st
	return startServer(t, nil, o)
}

// entries returns the entries of the mailbox named name of an account.
func (e *realEnv) entries(t *testing.T, addr, name string) []store.MailboxEntry {
	t.Helper()
	ctx := context.Background()
	a := e.accts[addr]
	mb, err := e.st.MailboxByName(ctx, a.ID, name)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := e.st.Entries(ctx, a.ID, mb.ID)
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

// inbox returns the messages in an account's INBOX.
func (e *realEnv) inbox(t *testing.T, addr string) []store.Message {
	t.Helper()
	var ids []store.MessageID
	for _, en := range e.entries(t, addr, "INBOX") {
		ids = append(ids, en.MessageID)
	}
	msgs, err := e.st.Messages(context.Background(), e.accts[addr].ID, ids)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// onlyMessage returns the stored form of the one message in an account's
// INBOX, and fails the test when there is not exactly one.
func (e *realEnv) onlyMessage(t *testing.T, addr string) string {
	t.Helper()
	msgs := e.inbox(t, addr)
	if len(msgs) != 1 {
		t.Fatalf("%s has %d messages, want 1", addr, len(msgs))
	}
	return e.body(t, msgs[0].BlobID)
}

func (e *realEnv) body(t *testing.T, id string) string {
	t.Helper()
	b, err := blob.ReadAll(context.Background(), e.blobs, id)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestStoreMXDelivery(t *testing.T) {
	e := newRealEnv(t)
	ts := e.start(t, Options{})
	d := dial(t, ts)
	d.run(`
		s: 220
		c: EHLO client.example
		` + ehloMX + `
		c: MAIL FROM:<sender@remote.example>
		s: 250
		c: RCPT TO:<Alice+lists@Example.org>
		s: 250
		c: RCPT TO:<team@example.org>
		s: 250
		c: RCPT TO:<whoever@example.net>
		s: 250
		c: RCPT TO:<ghost@example.org>
		s: 550 5.1.1
		c: RCPT TO:<x@elsewhere.example>
		s: 554 5.7.1
		c: DATA
		s: 354
		c: From: Sender <sender@remote.example>
		c: Subject: =?utf-8?q?caf=C3=A9?=
		c: Content-Type: multipart/mixed; boundary=broken
		c:
		c: --broken
		c: no closing boundary, malformed MIME kept as is
		c: .
		s: 250 2.0.0
		c: MAIL FROM:<sender@remote.example>
		s: 250
		c: RCPT TO:<tiny@example.org>
		s: 250
		c: DATA
		s: 354
		c! Subject: too big for the quota\r\n\r\n` + strings.Repeat(`0123456789\r\n`, 200) + `.\r\n
		s: 452 4.2.2 Mailbox full
		c: MAIL FROM:<sender@remote.example> SIZE=5000
		s: 250
		c: RCPT TO:<tiny@example.org>
		s: 452 4.2.2 Mailbox full
		c: QUIT
		s: 221
	`)
	alice, bob := e.inbox(t, "alice@example.org"), e.inbox(t, "bob@example.org")
	if len(alice) != 1 || len(bob) != 1 {
		t.Fatalf("alice has %d, bob %d messages; want 1 each", len(alice), len(bob))
	}
	if alice[0].BlobID != bob[0].BlobID {
		t.Error("the message must be stored once for both accounts")
	}
	if alice[0].Envelope.Subject != "café" {
		t.Errorf("subject %q", alice[0].Envelope.Subject)
	}
	body := e.body(t, alice[0].BlobID)
	if !strings.HasPrefix(body, "Return-Path: <sender@remote.example>\r\nReceived: from client.example ([127.0.0.1])\r\n") {
		t.Errorf("stored:\n%s", body)
	}
	if !strings.HasSuffix(body, "\r\n--broken\r\nno closing boundary, malformed MIME kept as is\r\n") {
		t.Errorf("malformed MIME not stored byte for byte:\n%q", body)
	}
	if len(e.inbox(t, "tiny@example.org")) != 0 {
		t.Error("over-quota message stored")
	}
}

func TestStoreSubmissionQueuesRemote(t *testing.T) {
	e := newRealEnv(t)
	ts := e.start(t, Options{Mode: ModeSubmission})
	d := dial(t, ts)
	d.run(`
		s: 220
		c: EHLO laptop
		` + ehloSubmission + `
		c: STARTTLS
		s: 220
		starttls
		c: EHLO laptop
		` + ehloSubmissionTLS + `
		c: AUTH PLAIN ` + b64("\x00bob@example.org\x00bob-pw") + `
		s: 235
	`)
	d.transaction("team@example.org", []string{"alice@example.org", "carol@remote.example"},
		"From: Team <team@example.org>\r\nSubject: minutes\r\n\r\nattached\r\n", "250 2.0.0")
	d.transaction("bob@example.org", []string{"dave@remote.example"},
		"From: bob@example.org\r\nSubject: remote only\r\n\r\nhi\r\n", "250 2.0.0")
	if got := e.inbox(t, "alice@example.org"); len(got) != 1 || got[0].Envelope.Subject != "minutes" {
		t.Fatalf("alice's inbox %+v", got)
	}
	q, err := e.st.QueueList(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(q) != 2 {
		t.Fatalf("queue has %d entries, want 2", len(q))
	}
	rcpts := map[string]store.OutboundMessage{}
	for _, m := range q {
		rcpts[m.Recipients[0].Address] = m
	}
	carol, dave := rcpts["carol@remote.example"], rcpts["dave@remote.example"]
	if carol.Account != e.accts["bob@example.org"].ID || carol.MailFrom != "team@example.org" || dave.MailFrom != "bob@example.org" {
		t.Fatalf("queue %+v", q)
	}
	out := e.body(t, carol.BlobID)
	if strings.Contains(out, "Return-Path") || !strings.Contains(out, " with ESMTPSA id ") || !strings.Contains(out, "\r\nMessage-ID: <") {
		t.Errorf("queued form:\n%s", out)
	}
}

func TestStoreMXForwardingAlias(t *testing.T) {
	e := newRealEnv(t)
	ts := e.start(t, Options{})
	d := dial(t, ts)
	d.run(`
		s: 220
		c: HELO c
		s: 250
		c: MAIL FROM:<sender@remote.example>
		s: 250
		c: RCPT TO:<fwd@example.org>
		s: 250
		c: DATA
		s: 354
		c: Subject: forwarded
		c:
		c: x
		c: .
		s: 250
	`)
	if len(e.inbox(t, "bob@example.org")) != 1 {
		t.Error("local alias target did not receive")
	}
	q, err := e.st.QueueList(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(q) != 1 || q[0].Recipients[0].Address != "outside@remote.example" || q[0].Recipients[0].ORcpt != "rfc822;fwd@example.org" || q[0].Account != 0 {
		t.Fatalf("queue %+v", q)
	}
}
