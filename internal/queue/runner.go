// Package queue runs the durable outbound queue: it claims due work from
// the store under a lease, delivers it (remote domains through
// smtpclient, our own domains through a Local hook), records each
// attempt's outcome, retries temporary failures with growing backoff,
// and reports permanent failures and expiry to the sender with a DSN
// (RFC 3464) — never for a message that is itself a bounce.
//
// Durability: the store's lease protocol (see store.QueueDelivery) makes
// an attempt's outcome recorded exactly once even if the process is
// killed mid-attempt: the lease expires and the work is claimed again.
// Held messages (FUTURERELEASE) stay in the store and are claimed when
// their time comes; the runner sleeps until the next due time.
package queue

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync"
	"time"

	"freehold/internal/blob"
	"freehold/internal/maillog"
	"freehold/internal/smtpclient"
	"freehold/internal/store"
)

// Store is what the queue needs from the store.
type Store interface {
	store.Queue
	store.QueueDelivery
}

// Deliverer makes one remote delivery attempt; *smtpclient.Client
// implements it.
type Deliverer interface {
	Deliver(ctx context.Context, domain string, env smtpclient.Envelope) smtpclient.Result
}

// Local delivers to our own domains. The queue uses it for work whose
// domain is local: DSNs to local senders, mostly. The app connects it to
// the delivery pipeline.
type Local interface {
	// Handles reports whether mail for domain is delivered locally.
	Handles(ctx context.Context, domain string) bool
	// DeliverLocal stores a message for local recipients and returns one
	// error per recipient (nil: delivered). An error wrapping
	// ErrPermanent is a permanent failure; others are retried.
	DeliverLocal(ctx context.Context, m LocalMessage) []error
}

// LocalMessage is a message for local recipients.
type LocalMessage struct {
	MailFrom string
	Rcpts    []string
	Raw      []byte
}

// Options configures a Runner.
type Options struct {
	Store  Store
	Blobs  blob.Store
	Client Deliverer
	Local  Local // optional
	// Hostname is our host name, for DSNs (Reporting-MTA, From).
	Hostname string
	// Backoff is the wait after the 1st, 2nd, ... temporary failure; the
	// last value repeats. Default: 1m 5m 15m 30m 1h 2h 4h 8h.
	Backoff []time.Duration
	// MaxAge is how long a message is retried before it bounces
	// (default 5 days).
	MaxAge time.Duration
	// Concurrency bounds attempts in flight (default 20), PerDomain those
	// to one destination domain (default 4).
	Concurrency, PerDomain int
	// Lease is how long claimed work is reserved (default 15 min); an
	// attempt is cut off well before it ends.
	Lease time.Duration
	// Poll is the longest sleep between looks at the store, so that work
	// enqueued by other nodes is seen (default 30s).
	Poll time.Duration
	// ShutdownGrace is how long attempts in flight may go on after Run's
	// context ends before they are cut off (default 10s). A cut attempt
	// counts as a temporary failure.
	ShutdownGrace time.Duration
	// Owner names this runner in leases (default random).
	Owner   string
	Now     func() time.Time
	Logger  *slog.Logger
	MailLog *maillog.Logger
}

// DefaultBackoff is the retry schedule.
func DefaultBackoff() []time.Duration {
	return []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute,
		time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour}
}

// Runner runs the queue.
type Runner struct {
	opts Options
	kick chan struct{}
	done chan struct{} // an attempt finished

	mu   sync.Mutex // guards doms
	doms map[string]*domainSlots
}

// domainSlots limits the attempts running to one domain. users counts
// the items of the domain claimed and not finished (running or waiting
// for a slot); the entry is dropped when it reaches zero, so the items
// in flight are the sum of users over doms.
type domainSlots struct {
	sem   chan struct{}
	users int
}

// New returns a Runner.
func New(opts Options) *Runner {
	if len(opts.Backoff) == 0 {
		opts.Backoff = DefaultBackoff()
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = 5 * 24 * time.Hour
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 20
	}
	if opts.PerDomain <= 0 {
		opts.PerDomain = 4
	}
	if opts.Lease <= 0 {
		opts.Lease = 15 * time.Minute
	}
	if opts.Poll <= 0 {
		opts.Poll = 30 * time.Second
	}
	if opts.ShutdownGrace <= 0 {
		opts.ShutdownGrace = 10 * time.Second
	}
	if opts.Owner == "" {
		var b [6]byte
		rand.Read(b[:])
		opts.Owner = hex.EncodeToString(b[:])
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Hostname == "" {
		opts.Hostname = "localhost"
	}
	return &Runner{
		opts: opts,
		kick: make(chan struct{}, 1),
		done: make(chan struct{}, 1),
		doms: make(map[string]*domainSlots),
	}
}

// Kick tells the runner that work may be due now (a message was just
// enqueued or retried on this node). It never blocks.
func (r *Runner) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Run processes the queue until ctx ends, then waits for the attempts in
// flight to finish and record their outcome.
func (r *Runner) Run(ctx context.Context) error {
	// Attempts outlive a cancelled Run for ShutdownGrace, so that most
	// finish; then they are cut off and record a temporary failure.
	attemptCtx, cancelAttempts := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelAttempts()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(r.opts.ShutdownGrace, cancelAttempts) })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		claimed, err := r.claim(ctx, attemptCtx, &wg)
		if err != nil && ctx.Err() == nil {
			r.opts.Logger.Warn("queue: claim failed", "err", err)
		}
		if claimed {
			continue // more may be due
		}
		wait := r.sleepFor(ctx, err != nil)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-r.kick:
		case <-r.done:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// claim leases as much due work as there is room for and starts its
// attempts. It reports whether it started any.
func (r *Runner) claim(ctx, attemptCtx context.Context, wg *sync.WaitGroup) (bool, error) {
	r.mu.Lock()
	free := r.opts.Concurrency
	var skip []string
	for d, ds := range r.doms {
		free -= ds.users
		if ds.users >= r.opts.PerDomain {
			skip = append(skip, d)
		}
	}
	r.mu.Unlock()
	if free <= 0 {
		return false, nil
	}
	work, err := r.opts.Store.QueueClaim(ctx, store.QueueClaim{
		Now: r.opts.Now(), Owner: r.opts.Owner, Lease: r.opts.Lease, Limit: free, Skip: skip,
	})
	if err != nil {
		return false, err
	}
	for _, w := range work {
		r.mu.Lock()
		ds := r.doms[w.Domain]
		if ds == nil {
			ds = &domainSlots{sem: make(chan struct{}, r.opts.PerDomain)}
			r.doms[w.Domain] = ds
		}
		ds.users++
		r.mu.Unlock()
		wg.Add(1)
		go r.run(attemptCtx, w, ds, wg)
	}
	return len(work) > 0, nil
}

// run runs one claimed item once its domain has a free slot: one claim
// may return more items of a domain than it has slots.
func (r *Runner) run(ctx context.Context, w store.QueueWork, ds *domainSlots, wg *sync.WaitGroup) {
	defer wg.Done()
	ds.sem <- struct{}{}
	defer func() {
		<-ds.sem
		r.mu.Lock()
		ds.users--
		if ds.users == 0 {
			delete(r.doms, w.Domain)
		}
		r.mu.Unlock()
		select {
		case r.done <- struct{}{}:
		default:
		}
	}()
	r.attempt(ctx, w)
}

// sleepFor is how long to wait before looking at the store again: until
// the next due time, at most Poll. Work that is due but was not claimed
// (its domain is at its limit) is waited for by an attempt's end.
func (r *Runner) sleepFor(ctx context.Context, failed bool) time.Duration {
	if failed {
		return min(time.Second, r.opts.Poll)
	}
	next, err := r.opts.Store.QueueNextDue(ctx)
	if err != nil || next.IsZero() {
		return r.opts.Poll
	}
	d := next.Sub(r.opts.Now())
	if d <= 0 {
		r.mu.Lock()
		busy := len(r.doms) > 0
		r.mu.Unlock()
		if busy {
			return r.opts.Poll // an attempt's end wakes us
		}
		return 100 * time.Millisecond
	}
	return min(d, r.opts.Poll)
}
