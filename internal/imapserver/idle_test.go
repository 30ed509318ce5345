package imapserver

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"testing"
	"time"

	"freehold/internal/message"
	"freehold/internal/store"
)

// deliver stores a message as the SMTP delivery path does.
func (e *testEnv) deliver(a store.Account, raw string) {
	e.t.Helper()
	ctx := context.Background()
	id, size, err := e.blobs.Put(ctx, strings.NewReader(raw))
	if err != nil {
		e.t.Fatal(err)
	}
	env, preview, att := message.Summarize([]byte(raw))
	_, err = e.st.Deliver(ctx, store.Delivery{
		Message: store.NewMessage{BlobID: id, Size: size, ReceivedAt: time.Now(), Envelope: env, Preview: preview, HasAttachment: att},
		Targets: []store.DeliveryTarget{{Account: a.ID}},
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

func TestUpdatesAcrossSessions(t *testing.T) {
	e := newTestEnv(t)
	a := e.addUser("alice@example.org")
	for i := 1; i <= 3; i++ {
		e.appendMsg(a, "INBOX", testMessage(i, "x"))
	}
	one, two := e.login("alice@example.org"), e.login("alice@example.org")
	one.ok("SELECT INBOX")
	two.ok("SELECT INBOX")

	two.ok(`STORE 1 +FLAGS (\Flagged)`)
	mustHave(t, one.ok("NOOP"), `* 1 FETCH (UID 1 FLAGS (\Flagged))`)
	if lines := one.ok("NOOP"); len(lines) != 0 {
		t.Fatalf("change reported twice: %q", lines)
	}

	e.deliver(a, testMessage(4, "new"))
	mustHave(t, one.ok("NOOP"), "* 4 EXISTS")

	// An expunge elsewhere is held back during FETCH, STORE and SEARCH,
	// and the message keeps its number until reported.
	two.ok(`STORE 2 +FLAGS (\Deleted)`)
	two.ok("EXPUNGE")
	lines := one.ok("FETCH 1:* UID")
	if has(lines, "EXPUNGE") || len(lines) != 4 {
		t.Fatalf("FETCH during pending expunge: %q", lines)
	}
	mustHave(t, one.ok("SEARCH ALL"), "* SEARCH 1 2 3 4")
	if lines := one.ok(`STORE 3 +FLAGS (\Seen)`); has(lines, "EXPUNGE") {
		t.Fatalf("STORE reported expunge: %q", lines)
	}
	// UID commands may report it.
	lines = one.ok("UID FETCH 1 UID")
	mustHave(t, lines, "* 2 EXPUNGE")
	lines = one.ok("FETCH 1:* UID")
	if len(lines) != 3 || lines[1] != "* 2 FETCH (UID 3)" {
		t.Fatalf("after expunge: %q", lines)
	}
	// With QRESYNC the expunge is a VANISHED response.
	one.ok("ENABLE QRESYNC")
	two.ok(`UID STORE 4 +FLAGS (\Deleted)`)
	two.ok("UID EXPUNGE 4")
	mustHave(t, one.ok("NOOP"), "* VANISHED 4")
}

func TestIdle(t *testing.T) {
	e := newTestEnv(t)
	a := e.addUser("alice@example.org")
	e.appendMsg(a, "INBOX", testMessage(1, "x"))
	c, other := e.login("alice@example.org"), e.login("alice@example.org")
	c.ok("SELECT INBOX")
	other.ok("SELECT INBOX")

	c.send("i1 IDLE")
	if l := c.line(); !strings.HasPrefix(l, "+ ") {
		t.Fatalf("IDLE: %q", l)
	}
	// A delivery (the SMTP path) wakes the session within a second.
	start := time.Now()
	e.deliver(a, testMessage(2, "pushed"))
	if l := c.line(); l != "* 2 EXISTS" {
		t.Fatalf("want EXISTS, got %q", l)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("IDLE woke after %v", d)
	}
	// Flag changes and expunges by other sessions arrive too.
	other.ok(`STORE 1 +FLAGS (\Seen)`)
	if l := c.line(); l != `* 1 FETCH (UID 1 FLAGS (\Seen))` {
		t.Fatalf("want FETCH, got %q", l)
	}
	other.ok(`STORE 1 +FLAGS.SILENT (\Deleted)`)
	c.line()
	other.ok("EXPUNGE")
	if l := c.line(); l != "* 1 EXPUNGE" {
		t.Fatalf("want EXPUNGE, got %q", l)
	}
	// A change in another mailbox wakes it but says nothing.
	e.appendMsg(a, "Archive", testMessage(3, "elsewhere"))
	c.send("DONE")
	if _, done := c.until("i1"); !strings.HasPrefix(done, "OK") {
		t.Fatal(done)
	}
	mustHave(t, c.ok("FETCH 1 UID"), "* 1 FETCH (UID 2)")
	// Anything but DONE is an error.
	c.send("i2 IDLE")
	c.line()
	c.send("NOPE")
	if _, done := c.until("i2"); !strings.HasPrefix(done, "BAD") {
		t.Fatal(done)
	}
}

func TestAutologout(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.AutologoutTimeout = 300 * time.Millisecond })
	e.addUser("alice@example.org")
	c := e.login("alice@example.org")
	start := time.Now()
	if l := c.line(); !strings.HasPrefix(l, "* BYE") {
		t.Fatalf("want BYE, got %q", l)
	}
	if d := time.Since(start); d < 250*time.Millisecond || d > 3*time.Second {
		t.Fatalf("autologout after %v", d)
	}
	// IDLE re-arms the timer but does not disable it.
	c = e.login("alice@example.org")
	c.ok("SELECT INBOX")
	time.Sleep(200 * time.Millisecond)
	c.send("i1 IDLE")
	c.line()
	start = time.Now()
	if l := c.line(); !strings.HasPrefix(l, "* BYE") {
		t.Fatalf("want BYE in IDLE, got %q", l)
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Fatalf("IDLE autologout after %v: not re-armed", d)
	}
}

func TestShutdownSaysBye(t *testing.T) {
	e := newTestEnv(t)
	e.addUser("alice@example.org")
	c := e.login("alice@example.org")
	idler := e.login("alice@example.org")
	idler.ok("SELECT INBOX")
	idler.send("i1 IDLE")
	idler.line()
	done := make(chan error)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- e.srv.Shutdown(ctx)
	}()
	for _, cl := range []*tclient{c, idler} {
		if l := cl.line(); !strings.HasPrefix(l, "* BYE") {
			t.Fatalf("want BYE, got %q", l)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Bursts of changes while idling over TLS: every wake-up interrupts a TLS
// read, which must leave the TLS stream intact, and the last EXISTS must
// count every message.
func TestIdleBurstOverTLS(t *testing.T) {
	e := newTestEnv(t)
	a := e.addUser("alice@example.org")
	c := e.dial()
	c.ok("STARTTLS")
	tc := tls.Client(c.nc, e.tls)
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	c.nc, c.r = tc, bufio.NewReader(tc)
	c.ok("LOGIN alice@example.org %q", testPassword)
	c.ok("SELECT INBOX")
	c.send("i1 IDLE")
	c.line()
	const n = 40
	go func() {
		for i := 0; i < n; i++ {
			e.appendMsg(a, "INBOX", testMessage(i, "burst"))
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		l := c.line()
		if l == fmt.Sprintf("* %d EXISTS", n) {
			c.send("DONE")
			if _, done := c.until("i1"); !strings.HasPrefix(done, "OK") {
				t.Fatal(done)
			}
			mustHave(t, c.ok("FETCH %d UID", n), fmt.Sprintf("* %d FETCH (UID %d)", n, n))
			return
		}
		if !strings.HasSuffix(l, " EXISTS") {
			t.Fatalf("unexpected %q", l)
		}
	}
	t.Fatal("never saw all messages")
}
