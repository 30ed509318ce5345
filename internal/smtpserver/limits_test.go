package smtpserver

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"freehold/internal/delivery"
	"freehold/internal/mail"
	"freehold/internal/store"
)

func TestErrorLimitCloses(t *testing.T) {
	ts := startServer(t, standardBackend(), Options{MaxErrors: 4})
	d := dial(t, ts)
	d.run(`
		s: 220
		c: HELO c
		s: 250
		c: FOO
		s: 500 5.5.1 Command unrecognized
		c: MAIL TO:<x@y>
		s: 501 5.5.4
		c: NOOP
		s: 250
		c! \x00\x01\r\n
		s: 500 5.5.2
		c: RCPT TO:<a@example.org>
		s: 503 5.5.1 Need MAIL command first
		s: 421 4.7.0 mx.test Too many errors
		closed
	`)
}

func TestLineLimits(t *testing.T) {
	ts := startServer(t, standardBackend(), Options{MaxLineBytes: 100, MaxRecipients: 2})
	d := dial(t, ts)
	long := strings.Repeat("a", 200)
	huge := strings.Repeat("b", 20000)
	d.run(`
		s: 220
		c: EHLO c
		s: 250-mx.test
		s: 250-PIPELINING
		s: 250-SIZE
		s: 250-8BITMIME
		s: 250-SMTPUTF8
		s: 250-ENHANCEDSTATUSCODES
		s: 250-CHUNKING
		s: 250-LIMITS RCPTMAX=2
		s: 250-DSN
		s: 250 STARTTLS
		c: NOOP ` + long + `
		s: 500 5.5.2 Line too long
		c: NOOP ` + huge + `
		s: 500 5.5.2 Line too long
		c: MAIL FROM:<a@remote.example>
		s: 250
		c: RCPT TO:<alice@example.org>
		s: 250
		c: RCPT TO:<bob@example.org>
		s: 250
		c: RCPT TO:<team@example.org>
		s: 452 4.5.3 Too many recipients
		c: DATA
		s: 354
		c: Subject: two
		c:
		c: .
		s: 250
	`)
}

func TestIdleTimeout(t *testing.T) {
	ts := startServer(t, standardBackend(), Options{IdleTimeout: 150 * time.Millisecond, DataTimeout: 150 * time.Millisecond})
	d := dial(t, ts)
	d.run(`
		s: 220
		c: HELO c
		s: 250
	`)
	start := time.Now()
	d.run(`
		s: 421 4.4.2 mx.test Timeout waiting for command
		closed
	`)
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("timeout took %v", el)
	}
	// A client stalling in the middle of DATA is timed out as well, and
	// nothing is stored.
	d = dial(t, ts)
	d.run(`
		s: 220
		c: HELO c
		s: 250
		c: MAIL FROM:<a@remote.example>
		s: 250
		c: RCPT TO:<alice@example.org>
		s: 250
		c: DATA
		s: 354
		c: Subject: stalled
		s: 421 4.4.2 mx.test Timeout waiting for data
		closed
	`)
	if dels, _ := ts.be.snapshot(); len(dels) != 0 {
		t.Errorf("%d delivered", len(dels))
	}
}

// panicResolver panics on one address, as a bug would.
type panicResolver struct{ Resolver }

func (p panicResolver) Resolve(ctx context.Context, a mail.Address) (delivery.Route, error) {
	if a.Local == "boom" {
		panic("resolver bug")
	}
	return p.Resolver.Resolve(ctx, a)
}

func TestPanicIsRecovered(t *testing.T) {
	be := standardBackend()
	ts := startServer(t, be, Options{Resolver: panicResolver{delivery.NewResolver(be, delivery.ResolverOptions{})}})
	d := dial(t, ts)
	d.run(`
		s: 220
		c: HELO c
		s: 250
		c: MAIL FROM:<a@remote.example>
		s: 250
		c: RCPT TO:<boom@example.org>
		s: 421 4.3.0 mx.test Internal error
		closed
	`)
	// The server still serves.
	d = dial(t, ts)
	d.run(`
		s: 220
		c: QUIT
		s: 221
	`)
	logs := ts.log.events("panic in SMTP session")
	if len(logs) != 1 || !strings.Contains(logs[0]["stack"].(string), "panicResolver") || logs[0]["conn"] == nil {
		t.Errorf("panic log: %v", logs)
	}
}

func TestMaxConnections(t *testing.T) {
	ts := startServer(t, standardBackend(), Options{MaxConnections: 1})
	d1 := dial(t, ts)
	d1.run(`s: 220`)
	d2 := dial(t, ts)
	d2.run(`
		s: 421 4.7.0 mx.test Too many connections
		closed
	`)
	d1.run(`
		c: QUIT
		s: 221
	`)
}

// blockingStore holds Deliver until released, to test shutdown.
type blockingStore struct {
	*memBackend
	entered chan struct{}
	release chan struct{}
}

func (b *blockingStore) Deliver(ctx context.Context, d store.Delivery) ([]store.Delivered, error) {
	b.entered <- struct{}{}
	select {
	case <-b.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return b.memBackend.Deliver(ctx, d)
}

func TestShutdownGraceful(t *testing.T) {
	ts := startServer(t, standardBackend(), Options{})
	idle := dial(t, ts)
	idle.run(`
		s: 220
		c: HELO idle
		s: 250
	`)
	busy := dial(t, ts)
	busy.run(`
		s: 220
		c: HELO busy
		s: 250
		c: MAIL FROM:<a@remote.example>
		s: 250
		c: RCPT TO:<alice@example.org>
		s: 250
	`)
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- ts.Shutdown(ctx)
	}()
	idle.run(`
		s: 421 4.3.2 mx.test Service shutting down
		closed
	`)
	// The transaction in flight completes, then the connection is closed.
	busy.run(`
		c: DATA
		s: 354
		c: Subject: in flight
		c:
		c: .
		s: 250 2.0.0
		s: 421 4.3.2
		closed
	`)
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if dels, _ := ts.be.snapshot(); len(dels) != 1 {
		t.Errorf("%d delivered", len(dels))
	}
	if _, err := dialErr(ts.addr); err == nil {
		t.Error("listener still accepting after Shutdown")
	}
}

func TestShutdownDeadlineInterruptsDelivery(t *testing.T) {
	be := standardBackend()
	bs := &blockingStore{memBackend: be, entered: make(chan struct{}, 1), release: make(chan struct{})}
	dl, err := delivery.NewDeliverer(delivery.DelivererOptions{Target: bs, Blobs: be, Hostname: "mx.test"})
	if err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, be, Options{Deliverer: dl})
	d := dial(t, ts)
	d.run(`
		s: 220
		c: HELO c
		s: 250
		c: MAIL FROM:<a@remote.example>
		s: 250
		c: RCPT TO:<alice@example.org>
		s: 250
		c: DATA
		s: 354
		c: Subject: stuck
		c:
		c: .
	`)
	<-bs.entered
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := ts.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown: %v", err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("Shutdown took %v", el)
	}
	// Not committed: the client is told to come back, never 250.
	d.run(`
		s: 421 4.3.2
		closed
	`)
	if dels, _ := be.snapshot(); len(dels) != 0 {
		t.Errorf("%d delivered", len(dels))
	}
}
