// Package smtpserver is Freehold's SMTP server: the MX that receives mail
// from the internet for local recipients (RFC 5321), and the submission
// service where authenticated users send mail (RFC 6409, on 587 with
// STARTTLS and on 465 with implicit TLS, RFC 8314).
//
// The protocol engine is written here rather than on go-smtp's server,
// whose connection loop cannot be extended where this server needs it:
// it answers syntax errors and an oversized MAIL SIZE itself (so the
// mail-event log cannot record every refusal), closes after a fixed three
// errors with a 500 instead of a configurable limit with 421, applies a
// single read deadline to a whole DATA transfer instead of per-read
// timeouts (RFC 5321 §4.5.3.2), and has no notion of an idle connection
// that a graceful shutdown may close. Its client is still used in tests.
//
// At the end of data the MX runs the inbound checks (SPF, DKIM, DMARC
// through Options.Verifier), refuses what DMARC says to reject, sends
// what it says to quarantine to Junk, and stores the Authentication-Results
// field with the message; submission DKIM-signs what it accepts
// (Options.Signer) before it is stored or queued, so that a message held
// with FUTURERELEASE is sent as signed when accepted. Both announce DSN
// (RFC 3461) and carry its parameters to the queue.
//
// Invariant: a 250 to DATA or BDAT LAST is written only after the
// Deliverer returned, that is after the message is durable.
package smtpserver

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"freehold/internal/delivery"
	"freehold/internal/mail"
	"freehold/internal/maillog"
	"freehold/internal/msgauth"
	"freehold/internal/queue"
	"freehold/internal/store"
)

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("smtpserver: server closed")

// Mode selects the service a Server provides.
type Mode uint8

const (
	// ModeMX receives mail for local recipients from anyone, without
	// authentication, and never relays.
	ModeMX Mode = iota + 1
	// ModeSubmission requires TLS and authentication, accepts only the
	// user's own sender addresses, and queues remote recipients.
	ModeSubmission
)

func (m Mode) String() string {
	switch m {
	case ModeMX:
		return "mx"
	case ModeSubmission:
		return "submission"
	}
	return "mode(" + strconv.Itoa(int(m)) + ")"
}

// Defaults for zero Options fields.
const (
	DefaultMaxMessageBytes = 50 << 20
	// DefaultMaxRecipients is RFC 5321 §4.5.3.1.8's minimum buffer.
	DefaultMaxRecipients = 100
	// DefaultMaxLineBytes bounds command lines. RFC 5321 §4.5.3.1.4 says
	// 512 octets, which extensions and UTF-8 addresses may exceed.
	DefaultMaxLineBytes = 2048
	DefaultMaxErrors    = 20
	// DefaultIdleTimeout is RFC 5321 §4.5.3.2.7's server timeout.
	DefaultIdleTimeout = 5 * time.Minute
	// DefaultDataTimeout is RFC 5321 §4.5.3.2.5's data block timeout,
	// applied to each read while receiving message data.
	DefaultDataTimeout  = 3 * time.Minute
	DefaultWriteTimeout = 5 * time.Minute
	// DefaultDeliverTimeout bounds storing one message; RFC 5321
	// §4.5.3.2.6 gives the client 10 minutes to wait for the reply.
	DefaultDeliverTimeout = 5 * time.Minute
	// DefaultVerifyTimeout bounds the inbound checks of one message
	// (their DNS lookups); it comes out of the same 10 minutes.
	DefaultVerifyTimeout = 30 * time.Second
	// DefaultMaxHold is the longest FUTURERELEASE hold (RFC 4865) when
	// Options.MaxHold is zero, as config's queue.max_hold defaults to.
	DefaultMaxHold = 30 * 24 * time.Hour
)

// Resolver resolves recipients and sender rights (see delivery.Resolver).
type Resolver interface {
	Resolve(ctx context.Context, addr mail.Address) (delivery.Route, error)
	ResolveSubmission(ctx context.Context, addr mail.Address, rcpt string) (delivery.Route, error)
	MaySendAs(ctx context.Context, acct store.Account, addr mail.Address) (bool, error)
}

// Deliverer stores an accepted message durably (see delivery.Deliverer).
type Deliverer interface {
	Deliver(ctx context.Context, env delivery.Envelope, raw []byte) (delivery.Result, error)
}

// Authenticator checks a user name and password (see auth.Authenticator).
// A wrong name or password is an error wrapping auth.ErrFailed.
type Authenticator interface {
	Login(ctx context.Context, username, password string) (store.Account, error)
}

// Verifier runs the inbound message checks of the MX: SPF, DKIM and
// DMARC (see msgauth.Verifier). It never fails: problems are results.
type Verifier interface {
	Verify(ctx context.Context, in msgauth.In) msgauth.Result
}

// Signer DKIM-signs a submitted message (see msgauth.Signer): it returns
// the DKIM-Signature header fields to prepend to raw, nil when the
// author's domain does not sign, and an error wrapping msgauth.ErrNoFrom
// when no single signing domain can be chosen.
type Signer interface {
	Sign(ctx context.Context, raw []byte) ([]byte, error)
}

// Usage reports an account's storage, for refusing recipients whose quota
// is exhausted at RCPT time (see store.Directory.AccountUsage).
type Usage interface {
	AccountUsage(ctx context.Context, id store.AccountID) (store.AccountUsage, error)
}

// Options configures a Server. Zero values take the defaults above.
type Options struct {
	Mode Mode
	// Hostname is this server's name in the greeting, EHLO reply and
	// Received fields.
	Hostname string
	// TLSConfig enables STARTTLS (or, with ImplicitTLS, TLS from the first
	// byte). Submission requires it: AUTH is offered only over TLS.
	TLSConfig   *tls.Config
	ImplicitTLS bool

	MaxMessageBytes int64
	MaxRecipients   int
	MaxLineBytes    int
	// MaxErrors is the number of failed commands after which the server
	// answers 421 and closes the connection.
	MaxErrors int
	// MaxConnections bounds concurrent connections; 0 means no limit.
	MaxConnections int
	IdleTimeout    time.Duration
	DataTimeout    time.Duration
	WriteTimeout   time.Duration
	DeliverTimeout time.Duration

	// Postmaster is the address RCPT TO:<postmaster> is delivered to
	// (RFC 5321 §4.5.1); "postmaster@" + Hostname when empty.
	Postmaster string

	Resolver      Resolver
	Deliverer     Deliverer
	Authenticator Authenticator // required for ModeSubmission
	Usage         Usage         // optional quota check at RCPT

	// Verifier runs SPF, DKIM and DMARC on the MX at the end of data and
	// its Authentication-Results field is stored with the message; nil
	// turns the checks off. Its authserv-id must be Hostname: forged
	// Authentication-Results fields naming Hostname are removed from
	// every message, checked or not. Submission is never checked.
	Verifier      Verifier
	VerifyTimeout time.Duration
	// Signer DKIM-signs every submitted message when it is accepted,
	// before it is stored or queued; nil leaves messages unsigned.
	Signer Signer
	// MaxHold is the longest FUTURERELEASE hold (RFC 4865) submission
	// accepts and announces: DefaultMaxHold when zero, at most
	// queue.MaxHold. Negative turns the extension off.
	MaxHold time.Duration

	Logger  *slog.Logger    // debug/operational log; slog.Default() when nil
	MailLog *maillog.Logger // mail-event log; nil discards
	// Clock is the time source; time.Now when nil.
	Clock func() time.Time
}

// Server is an SMTP server. Create it with New.
type Server struct {
	opts     Options
	log      *slog.Logger
	mlog     *maillog.Logger
	now      func() time.Time
	idPrefix string
	seq      atomic.Uint64

	mu        sync.Mutex // guards the fields below
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	shutdown  bool
	done      chan struct{} // made by Shutdown; closed when no conn is left
}

// New checks o and returns a Server.
func New(o Options) (*Server, error) {
	if o.Mode != ModeMX && o.Mode != ModeSubmission {
		return nil, errors.New("smtpserver: Mode must be ModeMX or ModeSubmission")
	}
	if o.Hostname == "" || o.Resolver == nil || o.Deliverer == nil {
		return nil, errors.New("smtpserver: Hostname, Resolver and Deliverer are required")
	}
	if o.Mode == ModeSubmission && (o.TLSConfig == nil || o.Authenticator == nil) {
		return nil, errors.New("smtpserver: submission requires TLSConfig and Authenticator")
	}
	if o.ImplicitTLS && o.TLSConfig == nil {
		return nil, errors.New("smtpserver: ImplicitTLS requires TLSConfig")
	}
	setDefaults(&o)
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	s := &Server{
		opts:      o,
		log:       o.Logger.With("service", "smtp", "mode", o.Mode.String()),
		mlog:      o.MailLog,
		now:       o.Clock,
		idPrefix:  hex.EncodeToString(b[:]),
		listeners: map[net.Listener]struct{}{},
		conns:     map[*conn]struct{}{},
	}
	return s, nil
}

// orDefault sets *v to d unless *v is positive.
func orDefault[T ~int | ~int64](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

func setDefaults(o *Options) {
	orDefault(&o.MaxMessageBytes, DefaultMaxMessageBytes)
	orDefault(&o.MaxRecipients, DefaultMaxRecipients)
	orDefault(&o.MaxLineBytes, DefaultMaxLineBytes)
	orDefault(&o.MaxErrors, DefaultMaxErrors)
	orDefault(&o.IdleTimeout, DefaultIdleTimeout)
	orDefault(&o.DataTimeout, DefaultDataTimeout)
	orDefault(&o.WriteTimeout, DefaultWriteTimeout)
	orDefault(&o.DeliverTimeout, DefaultDeliverTimeout)
	orDefault(&o.VerifyTimeout, DefaultVerifyTimeout)
	if o.MaxHold == 0 {
		o.MaxHold = DefaultMaxHold
	}
	o.MaxHold = min(o.MaxHold, queue.MaxHold)
	if o.Postmaster == "" {
		o.Postmaster = "postmaster@" + o.Hostname
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
}

// Serve accepts connections on ln until Shutdown, then returns
// ErrServerClosed. It may be called for several listeners.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.shutdown
			s.mu.Unlock()
			if closed {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				// Back off on transient accept errors such as running
				// out of file descriptors.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.log.Warn("accept failed; retrying", "err", err, "delay", delay)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		c, ok := s.register(nc)
		if !ok {
			continue
		}
		go c.serve()
	}
}

// register records a new connection, or refuses it when shutting down or
// over MaxConnections.
func (s *Server) register(nc net.Conn) (*conn, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutdown {
		nc.Close()
		return nil, false
	}
	if s.opts.MaxConnections > 0 && len(s.conns) >= s.opts.MaxConnections {
		go refuseBusy(nc, s.opts.Hostname, s.opts.ImplicitTLS)
		return nil, false
	}
	c := newConn(s, nc, fmt.Sprintf("%s-%d", s.idPrefix, s.seq.Add(1)))
	s.conns[c] = struct{}{}
	return c, true
}

// refuseBusy answers a connection over the limit (RFC 5321 §3.1: a 421
// greeting) and closes it. On implicit TLS the reply cannot be sent
// without a handshake, which is the work being refused, so it just closes.
func refuseBusy(nc net.Conn, host string, implicitTLS bool) {
	defer nc.Close()
	if implicitTLS {
		return
	}
	nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(nc, "421 4.7.0 %s Too many connections, try again later\r\n", host)
}

// unregister forgets a finished connection.
func (s *Server) unregister(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	if s.done != nil && len(s.conns) == 0 {
		select {
		case <-s.done:
		default:
			close(s.done)
		}
	}
}

// Shutdown stops accepting connections and closes idle ones with 421.
// Connections in the middle of a transaction may finish it (and are then
// closed with 421); when ctx ends first, the remaining ones are
// interrupted: a transaction not yet committed is answered 421 and is not
// stored, one already committed still gets its 250. Shutdown returns after
// every connection has ended, with ctx.Err() if it had to interrupt.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shutdown = true
	for ln := range s.listeners {
		ln.Close()
	}
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	if s.done == nil {
		// Made once, so that concurrent or repeated Shutdowns all wait
		// for the same moment.
		s.done = make(chan struct{})
		if len(s.conns) == 0 {
			close(s.done)
		}
	}
	done := s.done
	s.mu.Unlock()

	for _, c := range conns {
		c.interruptIfIdle()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	for _, c := range conns {
		c.interrupt(true)
	}
	<-done
	return ctx.Err()
}
