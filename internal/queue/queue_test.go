package queue_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"freehold/internal/queue"
	"freehold/internal/smtpclient/smtptest"
	"freehold/internal/store"
)

func TestDeliveryAndBounceToLocalSender(t *testing.T) {
	e := newQEnv(t)
	srv := smtptest.NewServer(t, smtptest.Options{Rcpt: func(a string) error {
		if strings.HasPrefix(a, "gone@") {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "user unknown"}
		}
		return nil
	}})
	other := smtptest.NewServer(t, smtptest.Options{})
	e.mx("example.net", "192.0.2.1", srv.Addr)
	e.mx("other.example", "192.0.2.2", other.Addr)
	r, _ := e.start()
	e.enqueue(store.OutboundMessage{Account: 1, MailFrom: "alice@freehold.test", DSNEnvID: "env-42",
		Recipients: rcpts("b@example.net", "gone@example.net", "c@other.example", "d@example.net")}, testMsg)
	r.Kick()

	msgs := srv.Wait(1, 5*time.Second)
	if len(msgs) != 1 || strings.Join(msgs[0].To, ",") != "b@example.net,d@example.net" || msgs[0].From != "alice@freehold.test" {
		t.Fatalf("example.net got %+v", msgs)
	}
	if m := other.Wait(1, 5*time.Second); len(m) != 1 || m[0].To[0] != "c@other.example" {
		t.Fatalf("other.example got %+v", m)
	}
	dsn := e.local.wait(t, 1, 5*time.Second)[0]
	if dsn.MailFrom != "" || len(dsn.Rcpts) != 1 || dsn.Rcpts[0] != "alice@freehold.test" {
		t.Fatalf("DSN envelope: from %q to %v", dsn.MailFrom, dsn.Rcpts)
	}
	raw := string(dsn.Raw)
	for _, want := range []string{
		"Content-Type: multipart/report; report-type=delivery-status",
		"Auto-Submitted: auto-replied",
		"Reporting-MTA: dns; out.freehold.test",
		"Original-Envelope-Id: env-42",
		"Final-Recipient: rfc822; gone@example.net",
		"Action: failed",
		"Status: 5.1.1",
		"Remote-MTA: dns; mx.example.net",
		"Diagnostic-Code: smtp; 550 5.1.1 user unknown",
		"Content-Type: message/rfc822",
		"Message-ID: <m1@freehold.test>",
	} {
		if !strings.Contains(raw, want) {
			t.Errorf("DSN lacks %q", want)
		}
	}
	if strings.Contains(raw, "Final-Recipient: rfc822; b@example.net") {
		t.Error("DSN reports a delivered recipient")
	}
	e.waitEmpty(5 * time.Second)
	log := e.events.String()
	for _, want := range []string{`"msg":"sent"`, `"msg":"bounced"`, `"to":"gone@example.net"`, `"code":550`, `"host":"mx.example.net"`} {
		if !strings.Contains(log, want) {
			t.Errorf("mail log lacks %s:\n%s", want, log)
		}
	}
}

func TestRetryThenExpireAndNeverBounceABounce(t *testing.T) {
	e := newQEnv(t)
	var tries atomic.Int32
	busy := smtptest.NewServer(t, smtptest.Options{Rcpt: func(string) error {
		tries.Add(1)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "greylisted, come back later"}
	}})
	// The sender's own domain refuses the DSN: the DSN must not bounce.
	var dsnTries atomic.Int32
	senderMX := smtptest.NewServer(t, smtptest.Options{Rcpt: func(string) error {
		dsnTries.Add(1)
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such sender"}
	}})
	e.mx("busy.example", "192.0.2.1", busy.Addr)
	e.mx("sender.example", "192.0.2.2", senderMX.Addr)
	e.opts.MaxAge = 600 * time.Millisecond
	r, _ := e.start()
	e.enqueue(store.OutboundMessage{MailFrom: "someone@sender.example", Recipients: rcpts("x@busy.example")}, testMsg)
	r.Kick()
	e.waitEmpty(8 * time.Second)
	if n := tries.Load(); n < 3 {
		t.Errorf("only %d attempts before expiry", n)
	}
	if n := dsnTries.Load(); n != 1 {
		t.Errorf("the DSN was tried %d times, want once", n)
	}
	log := e.events.String()
	if !strings.Contains(log, `"msg":"deferred"`) || !strings.Contains(log, "greylisted") || !strings.Contains(log, "delivery time expired") {
		t.Errorf("mail log:\n%s", log)
	}
	// The DSN to sender.example was refused; no DSN about the DSN exists.
	if got := strings.Count(log, `"msg":"bounced"`); got != 2 {
		t.Errorf("%d bounced events, want 2 (the message, then the DSN, which is not bounced further)", got)
	}
}

// With RET=HDRS the DSN returns the original's header and not its body
// (RFC 3461 §4.3).
func TestBounceReturnsHeadersOnly(t *testing.T) {
	e := newQEnv(t)
	srv := smtptest.NewServer(t, smtptest.Options{Rcpt: func(string) error {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "user unknown"}
	}})
	e.mx("example.net", "192.0.2.1", srv.Addr)
	r, _ := e.start()
	e.enqueue(store.OutboundMessage{Account: 1, MailFrom: "alice@freehold.test", DSNRet: "HDRS",
		Recipients: rcpts("gone@example.net")}, testMsg)
	r.Kick()
	raw := string(e.local.wait(t, 1, 5*time.Second)[0].Raw)
	if !strings.Contains(raw, "Content-Type: text/rfc822-headers") || !strings.Contains(raw, "Message-ID: <m1@freehold.test>\r\n") {
		t.Errorf("DSN lacks the original's header:\n%s", raw)
	}
	if strings.Contains(raw, "Hello.") {
		t.Errorf("DSN returns the body despite RET=HDRS:\n%s", raw)
	}
}

func TestDropMidDataIsRetriedNotLost(t *testing.T) {
	e := newQEnv(t)
	good := smtptest.NewServer(t, smtptest.Options{})
	flaky := dropInDataThenProxy(t, good, func(c net.Conn) {
		c.Read(make([]byte, 16)) // then drop the connection mid-DATA
	})
	e.mx("flaky.example", "192.0.2.1", flaky)
	r, _ := e.start()
	id := e.enqueue(store.OutboundMessage{MailFrom: "alice@freehold.test", Recipients: rcpts("x@flaky.example")}, testMsg)
	r.Kick()
	msgs := good.Wait(1, 5*time.Second)
	if len(msgs) != 1 {
		t.Fatalf("got %d messages", len(msgs))
	}
	e.waitEmpty(5 * time.Second)
	if _, err := e.st.QueueGet(context.Background(), id); !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	if len(e.local.msgs) != 0 {
		t.Fatal("a DSN was sent for a message that was delivered")
	}
	if !strings.Contains(e.events.String(), "connection lost during DATA") {
		t.Errorf("the dropped attempt is not logged:\n%s", e.events.String())
	}
}

func TestConcurrencyLimitsAndSlowDomains(t *testing.T) {
	e := newQEnv(t)
	var cur, peak atomic.Int32
	var mu sync.Mutex
	slow := smtptest.NewServer(t, smtptest.Options{Data: func(*smtptest.Message) error {
		n := cur.Add(1)
		mu.Lock()
		if n > peak.Load() {
			peak.Store(n)
		}
		mu.Unlock()
		time.Sleep(150 * time.Millisecond)
		cur.Add(-1)
		return nil
	}})
	fast := smtptest.NewServer(t, smtptest.Options{})
	silent := smtptest.Raw(t, func(c net.Conn) { io.Copy(io.Discard, c) })
	e.mx("slow.example", "192.0.2.1", slow.Addr)
	e.mx("fast.example", "192.0.2.2", fast.Addr)
	e.mx("silent.example", "192.0.2.3", silent)
	e.opts.PerDomain = 2
	e.opts.Concurrency = 8
	e.opts.Backoff = []time.Duration{time.Hour}
	r, _ := e.start()
	for range 4 {
		e.enqueue(store.OutboundMessage{MailFrom: "a@freehold.test", Recipients: rcpts("x@silent.example")}, testMsg)
	}
	for range 8 {
		e.enqueue(store.OutboundMessage{MailFrom: "a@freehold.test", Recipients: rcpts("x@slow.example")}, testMsg)
	}
	for range 5 {
		e.enqueue(store.OutboundMessage{MailFrom: "a@freehold.test", Recipients: rcpts("x@fast.example")}, testMsg)
	}
	r.Kick()
	start := time.Now()
	if m := fast.Wait(5, 3*time.Second); len(m) != 5 {
		t.Fatalf("fast.example got %d of 5 while other domains hang", len(m))
	}
	if el := time.Since(start); el > 2500*time.Millisecond {
		t.Errorf("fast domain took %v behind slow ones", el)
	}
	if m := slow.Wait(8, 5*time.Second); len(m) != 8 {
		t.Fatalf("slow.example got %d of 8", len(m))
	}
	if p := peak.Load(); p > 2 {
		t.Errorf("peak concurrency to one domain %d, want at most 2", p)
	}
	// The silent domain's messages are deferred, not stuck in flight.
	deadline := time.Now().Add(5 * time.Second)
	for {
		list, _ := e.st.QueueList(context.Background())
		deferred := 0
		for _, m := range list {
			if m.Recipients[0].Attempts == 1 && m.Recipients[0].NextAttempt.After(time.Now()) {
				deferred++
			}
		}
		if deferred == 4 && len(list) == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("silent domain not deferred: %+v", list)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestScheduledSending(t *testing.T) {
	e := newQEnv(t)
	srv := smtptest.NewServer(t, smtptest.Options{})
	e.mx("example.net", "192.0.2.1", srv.Addr)
	e.opts.Poll = 30 * time.Second // the runner must wake for the hold time itself
	ctx := context.Background()
	release := time.Now().Add(1500 * time.Millisecond)
	id := e.enqueue(store.OutboundMessage{Account: 7, MailFrom: "a@freehold.test", HoldUntil: release, Recipients: rcpts("x@example.net")}, testMsg)
	cancelMe := e.enqueue(store.OutboundMessage{Account: 7, MailFrom: "a@freehold.test", HoldUntil: release, Recipients: rcpts("y@example.net")}, testMsg)

	// A restart before the release keeps the held messages.
	_, stop := e.start()
	time.Sleep(200 * time.Millisecond)
	stop()
	e.st.Close()
	e.open()
	r, _ := e.start()

	admin := &queue.Admin{Store: e.st, Kick: r.Kick}
	held, err := admin.Held(ctx, 7)
	if err != nil || len(held) != 2 || held[0].ID != id {
		t.Fatalf("held: %+v %v", held, err)
	}
	if err := admin.Cancel(ctx, cancelMe, 8); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another account cancelled it: %v", err)
	}
	if err := admin.Cancel(ctx, cancelMe, 7); err != nil {
		t.Fatal(err)
	}
	if m := srv.Messages(); len(m) != 0 {
		t.Fatal("held message sent early")
	}
	msgs := srv.Wait(1, 5*time.Second)
	sent := time.Now()
	if len(msgs) != 1 || msgs[0].To[0] != "x@example.net" {
		t.Fatalf("got %+v", msgs)
	}
	if sent.Before(release) || sent.After(release.Add(3*time.Second)) {
		t.Errorf("released at %v, due %v", sent.Format(time.StampMilli), release.Format(time.StampMilli))
	}
	if err := admin.Cancel(ctx, id, 7); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("cancelled after release: %v", err)
	}
	time.Sleep(100 * time.Millisecond)
	if len(srv.Messages()) != 1 {
		t.Fatal("cancelled message sent")
	}
}

func TestAdminRetryAndRemove(t *testing.T) {
	e := newQEnv(t)
	var refuse atomic.Bool
	refuse.Store(true)
	srv := smtptest.NewServer(t, smtptest.Options{Rcpt: func(string) error {
		if refuse.Load() {
			return &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2}, Message: "full"}
		}
		return nil
	}})
	e.mx("example.net", "192.0.2.1", srv.Addr)
	e.opts.Backoff = []time.Duration{time.Hour}
	r, _ := e.start()
	ctx := context.Background()
	admin := &queue.Admin{Store: e.st, Kick: r.Kick}
	id := e.enqueue(store.OutboundMessage{MailFrom: "a@freehold.test", Recipients: rcpts("x@example.net")}, testMsg)
	gone := e.enqueue(store.OutboundMessage{MailFrom: "a@freehold.test", Recipients: rcpts("y@example.net")}, testMsg)
	r.Kick()
	deadline := time.Now().Add(5 * time.Second)
	for {
		m, err := admin.Show(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if m.Recipients[0].Attempts == 1 && m.Recipients[0].LastError != "" {
			if !strings.Contains(m.Recipients[0].LastError, "452 4.2.2 full") || m.Recipients[0].NextAttempt.Before(time.Now().Add(50*time.Minute)) {
				t.Fatalf("recipient state: %+v", m.Recipients[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no attempt recorded: %+v", m)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := admin.Remove(ctx, gone); err != nil {
		t.Fatal(err)
	}
	refuse.Store(false)
	if err := admin.Retry(ctx, id); err != nil {
		t.Fatal(err)
	}
	if m := srv.Wait(1, 5*time.Second); len(m) != 1 || m[0].To[0] != "x@example.net" {
		t.Fatalf("after retry: %+v", m)
	}
	e.waitEmpty(5 * time.Second)
	if list, _ := admin.List(ctx); len(list) != 0 {
		t.Fatalf("list: %+v", list)
	}
}

func TestHoldUntil(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if got, err := queue.HoldUntil(now, time.Hour, time.Time{}); err != nil || !got.Equal(now.Add(time.Hour)) {
		t.Fatal(got, err)
	}
	if got, err := queue.HoldUntil(now, 0, now.Add(-time.Hour)); err != nil || !got.IsZero() {
		t.Fatal(got, err)
	}
	for _, c := range []struct {
		d time.Duration
		u time.Time
	}{{time.Hour, now.Add(time.Hour)}, {-time.Second, time.Time{}}, {0, now.Add(100 * 24 * time.Hour)}} {
		if _, err := queue.HoldUntil(now, c.d, c.u); err == nil {
			t.Errorf("accepted %v %v", c.d, c.u)
		}
	}
}
