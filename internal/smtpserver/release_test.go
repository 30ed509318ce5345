package smtpserver

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"freehold/internal/delivery"
	"freehold/internal/msgauth"
	"freehold/internal/queue"
	"freehold/internal/store"
)

// releaseNow is the fixed clock of the FUTURERELEASE tests.
var releaseNow = time.Date(2030, 3, 1, 12, 0, 0, 0, time.UTC)

func fixedClock() time.Time { return releaseNow }

func TestFutureReleaseAdvertised(t *testing.T) {
	for _, c := range []struct {
		name string
		o    Options
		want string // "" when not offered
	}{
		{"default", Options{Mode: ModeSubmission}, "250-FUTURERELEASE 2592000 2030-03-31T12:00:00Z"},
		{"one hour", Options{Mode: ModeSubmission, MaxHold: time.Hour}, "250-FUTURERELEASE 3600 2030-03-01T13:00:00Z"},
		{"capped", Options{Mode: ModeSubmission, MaxHold: 365 * 24 * time.Hour}, "250-FUTURERELEASE 5184000 2030-04-30T12:00:00Z"},
		{"off", Options{Mode: ModeSubmission, MaxHold: -1}, ""},
		{"mx", Options{}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.o.ImplicitTLS = c.o.Mode == ModeSubmission
			c.o.Clock = fixedClock
			ts := startServer(t, standardBackend(), c.o)
			dialer := dial
			if c.o.ImplicitTLS {
				dialer = dialTLS
			}
			ehlo := dialer(t, ts).hello("x")
			if !strings.Contains(ehlo, "\n250-DSN\n") && !strings.Contains(ehlo, "\n250 DSN") {
				t.Errorf("DSN not advertised:\n%s", ehlo)
			}
			got := ""
			for _, l := range strings.Split(ehlo, "\n") {
				if strings.Contains(l, "FUTURERELEASE") {
					got = l
				}
			}
			if got != c.want {
				t.Errorf("FUTURERELEASE line %q, want %q", got, c.want)
			}
		})
	}
}

func TestFutureReleaseParameters(t *testing.T) {
	be := standardBackend()
	ts := startServer(t, be, Options{Mode: ModeSubmission, ImplicitTLS: true, Clock: fixedClock, MaxErrors: 100})
	d := loginSubmission(t, ts, "alice@example.org", "alice-pw")
	d.run(`
		c: MAIL FROM:<alice@example.org> HOLDFOR=abc
		s: 501 5.5.4
		c: MAIL FROM:<alice@example.org> HOLDFOR=-5
		s: 501 5.5.4
		c: MAIL FROM:<alice@example.org> HOLDFOR=1234567890
		s: 501 5.5.4
		c: MAIL FROM:<alice@example.org> HOLDFOR
		s: 501 5.5.4
		c: MAIL FROM:<alice@example.org> HOLDFOR=2592001
		s: 554 5.5.4
		c: MAIL FROM:<alice@example.org> HOLDUNTIL=2030-03-31T12:00:01Z
		s: 554 5.5.4
		c: MAIL FROM:<alice@example.org> HOLDUNTIL=2030-03-31T14:00:00+02:00
		s: 250
		c: RSET
		s: 250
		c: MAIL FROM:<alice@example.org> HOLDUNTIL=2030-03-02
		s: 501 5.5.4
		c: MAIL FROM:<alice@example.org> HOLDUNTIL=2030-03-02T25:00:00Z
		s: 501 5.5.4
		c: MAIL FROM:<alice@example.org> HOLDUNTIL=tomorrow
		s: 501 5.5.4
		c: MAIL FROM:<alice@example.org> HOLDFOR=60 HOLDUNTIL=2030-03-02T00:00:00Z
		s: 501 5.5.4
		c: MAIL FROM:<alice@example.org> HOLDFOR=60 HOLDFOR=70
		s: 501 5.5.4
		c: MAIL FROM:<alice@example.org> HOLDFOR=3600
		s: 250
		c: RCPT TO:<bob@example.org>
		s: 250
		c: RCPT TO:<friend@remote.example>
		s: 250
		c: DATA
		s: 354
		c: From: alice@example.org
		c: Subject: later
		c:
		c: x
		c: .
		s: 250 2.0.0
		c: MAIL FROM:<alice@example.org> holduntil=2030-03-01t18:30:00.25z
		s: 250
		c: RCPT TO:<friend@remote.example>
		s: 250
		c: DATA
		s: 354
		c: From: alice@example.org
		c:
		c: y
		c: .
		s: 250 2.0.0
		c: MAIL FROM:<alice@example.org> HOLDUNTIL=2030-02-01T00:00:00Z
		s: 250
		c: RCPT TO:<bob@example.org>
		s: 250
		c: DATA
		s: 354
		c: From: alice@example.org
		c: Subject: past
		c:
		c: z
		c: .
		s: 250 2.0.0
	`)
	dels, q := be.snapshot()
	if len(q) != 2 {
		t.Fatalf("queue %+v", q)
	}
	if want := releaseNow.Add(time.Hour); !q[0].HoldUntil.Equal(want) || len(q[0].Recipients) != 2 ||
		q[0].Recipients[0].Address != "bob@example.org" || q[0].Recipients[1].Address != "friend@remote.example" {
		t.Errorf("HOLDFOR entry %+v, want held until %v for bob and friend", q[0], want)
	}
	if want := time.Date(2030, 3, 1, 18, 30, 0, 250e6, time.UTC); !q[1].HoldUntil.Equal(want) {
		t.Errorf("HOLDUNTIL entry held until %v, want %v", q[1].HoldUntil, want)
	}
	// Held messages reach no mailbox now; a release time in the past
	// delivers at once.
	if len(dels) != 1 || dels[0].Message.Envelope.Subject != "past" {
		t.Errorf("deliveries %+v", dels)
	}
	rcv := ts.mlog.events("received")
	if len(rcv) != 3 || rcv[0]["hold"] != "2030-03-01T13:00:00Z" || rcv[0]["queued"] != 2.0 || rcv[0]["local"] != 0.0 || rcv[2]["hold"] != nil {
		t.Errorf("received events: %v", rcv)
	}
}

func TestFutureReleaseNotOnMX(t *testing.T) {
	ts := startServer(t, standardBackend(), Options{})
	d := dial(t, ts)
	d.hello("x")
	d.run(`
		c: MAIL FROM:<a@remote.example> HOLDFOR=60
		s: 555 5.5.4
	`)
}

// TestFutureReleaseHeldUntilRelease submits a held, signed message for
// local and remote recipients on SQLite, checks that nobody has it
// before its time, then runs the real queue with QueueLocal past the
// release time: the local recipients get the message signed once, at
// submission.
func TestFutureReleaseHeldUntilRelease(t *testing.T) {
	e := newRealEnv(t)
	keys := newTestKeys(t)
	ts := e.start(t, Options{Mode: ModeSubmission, ImplicitTLS: true, Clock: fixedClock, Signer: msgauth.NewSigner(keys)})
	d := loginSubmission(t, ts, "bob@example.org", "bob-pw")
	d.run(`
		c: MAIL FROM:<bob@example.org> HOLDFOR=7200 RET=HDRS
		s: 250
		c: RCPT TO:<team@example.org> NOTIFY=FAILURE
		s: 250
		c: RCPT TO:<carol@remote.example>
		s: 250
		c: DATA
		s: 354
		c: From: bob@example.org
		c: Subject: birthday
		c:
		c: see you
		c: .
		s: 250 2.0.0
	`)
	ctx := context.Background()
	qs, ok := e.st.(queue.Store)
	if !ok {
		t.Fatal("the SQLite store is not a queue.Store")
	}
	held, err := qs.QueueHeld(ctx, e.accts["bob@example.org"].ID)
	if err != nil || len(held) != 1 {
		t.Fatalf("held %+v %v", held, err)
	}
	h := held[0]
	if !h.HoldUntil.Equal(releaseNow.Add(2*time.Hour)) || h.DSNRet != "HDRS" || len(h.Recipients) != 3 {
		t.Fatalf("held entry %+v", h)
	}
	for i, want := range []string{"alice@example.org", "bob@example.org", "carol@remote.example"} {
		if r := h.Recipients[i]; r.Address != want || (i < 2 && (r.Notify != "FAILURE" || r.ORcpt != "rfc822;team@example.org")) {
			t.Errorf("recipient %d: %+v", i, r)
		}
	}
	if n := len(e.inbox(t, "alice@example.org")) + len(e.inbox(t, "bob@example.org")); n != 0 {
		t.Fatalf("%d local copies before release", n)
	}

	var now atomic.Int64
	now.Store(releaseNow.Add(time.Hour).UnixNano())
	dl, err := delivery.NewDeliverer(delivery.DelivererOptions{Target: e.st, Blobs: e.blobs, Hostname: "mx.test"})
	if err != nil {
		t.Fatal(err)
	}
	runner := queue.New(queue.Options{
		Store: qs, Blobs: e.blobs, Hostname: "mx.test", Poll: 20 * time.Millisecond,
		Local:  delivery.NewQueueLocal(dl, delivery.NewResolver(e.st, delivery.ResolverOptions{})),
		Now:    func() time.Time { return time.Unix(0, now.Load()).UTC() },
		Logger: slog.New(slog.DiscardHandler),
	})
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- runner.Run(rctx) }()
	defer func() {
		stop()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("runner: %v", err)
		}
	}()

	time.Sleep(200 * time.Millisecond)
	if n := len(e.inbox(t, "alice@example.org")); n != 0 {
		t.Fatal("delivered an hour early")
	}
	now.Store(releaseNow.Add(2*time.Hour + time.Second).UnixNano())
	runner.Kick()
	// The runner stores the local copies first and records the
	// recipients' outcome after: wait for both.
	var q store.OutboundMessage
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if q, err = qs.QueueGet(ctx, h.ID); err != nil {
			t.Fatal(err)
		}
		if len(e.inbox(t, "alice@example.org")) > 0 && len(e.inbox(t, "bob@example.org")) > 0 && !anyPending(q, "alice@example.org", "bob@example.org") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not delivered after release: %+v", q.Recipients)
		}
	}
	body := e.body(t, e.inbox(t, "alice@example.org")[0].BlobID)
	if !strings.HasPrefix(body, "Return-Path: <bob@example.org>\r\nReceived: ") || strings.Count(body, "DKIM-Signature:") != 2 {
		t.Errorf("released copy:\n%s", body)
	}
	if got := keys.verify(t, body); len(got) != 2 {
		t.Errorf("verified %v", got)
	}
	// The remote recipient stays queued (no outbound client here).
	for _, r := range q.Recipients {
		want := store.RcptDelivered
		if r.Address == "carol@remote.example" {
			want = store.RcptPending
		}
		if r.Status != want {
			t.Errorf("%s: status %v, want %v", r.Address, r.Status, want)
		}
	}
}

// anyPending reports whether one of addrs is still pending in m.
func anyPending(m store.OutboundMessage, addrs ...string) bool {
	for _, r := range m.Recipients {
		if r.Status == store.RcptPending && slices.Contains(addrs, r.Address) {
			return true
		}
	}
	return false
}
