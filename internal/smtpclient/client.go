// Package smtpclient delivers a message to the mail hosts of one remote
// domain (RFC 5321 §5): MX resolution with preference order, implicit and
// null MX, one transaction for all the recipients at the domain, and TLS:
// DANE (RFC 7672) when the resolver validates DNSSEC, else MTA-STS
// (RFC 8461) when the domain publishes a policy, else opportunistic
// STARTTLS. Every wait is bounded by the timeouts of RFC 5321 §4.5.3.2
// (configurable) and by the caller's context.
package smtpclient

import (
	"context"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/miekg/dns"

	"freehold/internal/dnsutil"
	"freehold/internal/smtpclient/mtasts"
)

// Resolver is the DNS access delivery needs; *dnsutil.Resolver
// implements it.
type Resolver interface {
	Query(ctx context.Context, name string, qtype uint16) (dnsutil.Answer, error)
	LookupTLSA(ctx context.Context, host string, port int) ([]*dns.TLSA, bool, error)
}

// PolicySource gives the MTA-STS policy of a domain, nil when it has none;
// *mtasts.Fetcher implements it.
type PolicySource interface {
	Lookup(ctx context.Context, domain string) (*mtasts.Policy, error)
}

// Timeouts bound each wait of a session (RFC 5321 §4.5.3.2). Zero values
// take the RFC's recommendations.
type Timeouts struct {
	Connect time.Duration // TCP connect (default 30s)
	// Command bounds the greeting, and the reply to EHLO, STARTTLS (with
	// the TLS handshake), MAIL, RCPT and DATA (default 5 min; the RFC
	// asks 2 min for DATA's 354, which this also allows).
	Command time.Duration
	// DataBlock bounds each write of the message (default 3 min).
	DataBlock time.Duration
	// DataEnd bounds the wait for the reply to the final "." (default
	// 10 min).
	DataEnd time.Duration
}

func (t Timeouts) withDefaults() Timeouts {
	if t.Connect <= 0 {
		t.Connect = 30 * time.Second
	}
	if t.Command <= 0 {
		t.Command = 5 * time.Minute
	}
	if t.DataBlock <= 0 {
		t.DataBlock = 3 * time.Minute
	}
	if t.DataEnd <= 0 {
		t.DataEnd = 10 * time.Minute
	}
	return t
}

// Options configures a Client.
type Options struct {
	Resolver Resolver
	// Hostname is the name we give in EHLO: our host's FQDN.
	Hostname string
	// Port is the remote SMTP port (default 25; tests use others).
	Port int
	// Dial opens connections (default a net.Dialer).
	Dial     func(ctx context.Context, network, addr string) (net.Conn, error)
	Timeouts Timeouts
	// MTASTS, when set, enables MTA-STS.
	MTASTS PolicySource
	// RootCAs verifies certificates under MTA-STS (nil: the system's).
	RootCAs *x509.CertPool
	// DisableDANE turns DANE off even with a validating resolver.
	DisableDANE bool
	// DisableIPv6 skips AAAA records.
	DisableIPv6 bool
	// MaxHosts bounds the MX hosts tried in one attempt (default 5), and
	// MaxAddrs the addresses tried per host (default 2).
	MaxHosts, MaxAddrs int
	Logger             *slog.Logger
}

// Client delivers messages. It is safe for concurrent use.
type Client struct {
	opts Options
}

// New returns a Client.
func New(opts Options) *Client {
	opts.Timeouts = opts.Timeouts.withDefaults()
	if opts.Port == 0 {
		opts.Port = 25
	}
	if opts.Dial == nil {
		d := &net.Dialer{Timeout: opts.Timeouts.Connect}
		opts.Dial = d.DialContext
	}
	if opts.MaxHosts <= 0 {
		opts.MaxHosts = 5
	}
	if opts.MaxAddrs <= 0 {
		opts.MaxAddrs = 2
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Hostname == "" {
		opts.Hostname = "localhost"
	}
	return &Client{opts: opts}
}

// Envelope is one transaction: a sender, the recipients at one domain and
// the message.
type Envelope struct {
	MailFrom string // "" for the null reverse path
	Rcpts    []Rcpt
	Size     int64
	// Open returns the message; it may be called more than once (once per
	// host tried past the DATA command).
	Open func() (io.ReadCloser, error)
	// DSN parameters (RFC 3461), passed on when the server supports DSN.
	Ret, EnvID string
}

// Rcpt is one recipient.
type Rcpt struct {
	Address string
	Notify  string // as given, e.g. "FAILURE,DELAY"
	ORcpt   string // "rfc822;addr" as given
}

// Outcome is what happened to one recipient.
type Outcome uint8

const (
	// Temporary: try again later.
	Temporary Outcome = iota
	// Delivered: the remote host accepted responsibility.
	Delivered
	// Permanent: give up and report to the sender.
	Permanent
)

func (o Outcome) String() string {
	return [...]string{"temporary", "delivered", "permanent"}[o]
}

// Result is the outcome of a delivery attempt.
type Result struct {
	// Host is the MX host that gave the final answers ("" if none did).
	Host string
	// Addr is the address connected to.
	Addr netip.Addr
	// TLS says how the session was protected: "" (plain), "tls"
	// (opportunistic, unauthenticated), "mta-sts" or "dane".
	TLS   string
	Rcpts []RcptResult // in the order of Envelope.Rcpts
}

// RcptResult is one recipient's outcome.
type RcptResult struct {
	Outcome Outcome
	// Reply is the remote reply that decided it; Code is 0 when the
	// outcome is a local decision (no route, connection failure), which
	// Status and Detail then describe.
	Reply  Reply
	Status string // enhanced status code for a DSN
	Detail string // one-line explanation, quoting the remote answer
}
