package smtpclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"github.com/miekg/dns"

	"freehold/internal/dnsutil"
	"freehold/internal/smtpclient/mtasts"
)

// tlsMode is how a session must use TLS.
type tlsMode uint8

const (
	tlsOpportunistic tlsMode = iota // STARTTLS if offered, no authentication
	tlsRequired                     // STARTTLS required, no authentication
	tlsDANE                         // STARTTLS required, TLSA authentication
	tlsSTS                          // STARTTLS required, PKIX authentication
	tlsSTSTesting                   // as opportunistic, PKIX failures logged
)

// hostError is a failure with one host that lets us try the next.
type hostError struct {
	host   string
	status string
	msg    string
}

func (e *hostError) Error() string { return e.host + ": " + e.msg }

// Deliver makes one delivery attempt of env to domain and reports each
// recipient's outcome. It tries the domain's MX hosts in order until one
// gives final answers; when none does, every recipient is Temporary.
func (c *Client) Deliver(ctx context.Context, domain string, env Envelope) Result {
	res := Result{Rcpts: make([]RcptResult, len(env.Rcpts))}
	rt, err := c.resolveRoute(ctx, domain)
	if err != nil {
		var re *routeError
		errors.As(err, &re)
		out := Temporary
		if re.permanent {
			out = Permanent
		}
		setAll(res.Rcpts, RcptResult{Outcome: out, Status: re.status, Detail: re.msg})
		return res
	}
	var policy *mtasts.Policy
	if c.opts.MTASTS != nil {
		policy, err = c.opts.MTASTS.Lookup(ctx, domain)
		if err != nil {
			c.opts.Logger.Info("mta-sts lookup failed", "domain", domain, "err", err)
		}
	}
	last := &hostError{host: domain, status: "4.4.1", msg: "no mail host could be reached"}
	for i, h := range rt.hosts {
		if i >= c.opts.MaxHosts {
			break
		}
		if policy != nil && policy.Mode == mtasts.ModeEnforce && !policy.Matches(h.name) {
			last = &hostError{host: h.name, status: "4.7.5", msg: "MX host not allowed by the MTA-STS policy of " + domain}
			continue
		}
		done, err := c.tryHost(ctx, domain, h.name, rt.secure, policy, env, &res)
		if done {
			res.Host = h.name
			return res
		}
		var he *hostError
		if errors.As(err, &he) {
			last = he
		}
		c.opts.Logger.Info("mail host failed", "domain", domain, "host", h.name, "err", err)
		if ctx.Err() != nil {
			break
		}
	}
	setAll(res.Rcpts, RcptResult{Outcome: Temporary, Status: last.status, Detail: last.Error()})
	return res
}

func setAll(rs []RcptResult, r RcptResult) {
	for i := range rs {
		rs[i] = r
	}
}

// tryHost tries one MX host; done means res holds final answers.
func (c *Client) tryHost(ctx context.Context, domain, host string, secureMX bool, policy *mtasts.Policy, env Envelope, res *Result) (bool, error) {
	addrs, err := c.hostAddrs(ctx, host)
	if err != nil {
		return false, &hostError{host: host, status: "4.4.4", msg: err.Error()}
	}
	mode, tlsa, err := c.tlsPlan(ctx, host, secureMX, policy)
	if err != nil {
		return false, err
	}
	var lastErr error
	for i, addr := range addrs {
		if i >= c.opts.MaxAddrs {
			break
		}
		done, err := c.session(ctx, sessionPlan{domain: domain, host: host, addr: addr, mode: mode, tlsa: tlsa}, env, res)
		if done {
			return true, nil
		}
		var te *tlsError
		if mode == tlsOpportunistic && errors.As(err, &te) {
			// RFC 7435: a failed opportunistic handshake falls back to a
			// plain session rather than not delivering.
			c.opts.Logger.Info("opportunistic TLS failed, retrying without", "host", host, "err", err)
			done, err = c.session(ctx, sessionPlan{domain: domain, host: host, addr: addr, mode: tlsOpportunistic, noTLS: true}, env, res)
			if done {
				return true, nil
			}
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return false, lastErr
}

// tlsPlan decides how a host must use TLS: DANE when its TLSA records
// are validated (RFC 7672 §2.2), else the domain's MTA-STS policy, else
// opportunistic.
func (c *Client) tlsPlan(ctx context.Context, host string, secureMX bool, policy *mtasts.Policy) (tlsMode, []*dns.TLSA, error) {
	if !c.opts.DisableDANE && secureMX {
		rrs, authentic, err := c.opts.Resolver.LookupTLSA(ctx, host, c.opts.Port)
		switch {
		case err != nil && !dnsutil.IsNotFound(err):
			// In a signed zone a failed TLSA lookup may hide records: do
			// not downgrade (RFC 7672 §2.2.3).
			return 0, nil, &hostError{host: host, status: "4.7.5", msg: "TLSA lookup failed: " + err.Error()}
		case err == nil && authentic && len(rrs) > 0:
			if u := usableTLSA(rrs); len(u) > 0 {
				return tlsDANE, u, nil
			}
			return tlsRequired, nil, nil
		}
	}
	if policy != nil {
		switch policy.Mode {
		case mtasts.ModeEnforce:
			return tlsSTS, nil, nil
		case mtasts.ModeTesting:
			return tlsSTSTesting, nil, nil
		}
	}
	return tlsOpportunistic, nil, nil
}

type sessionPlan struct {
	domain, host string
	addr         netip.Addr
	mode         tlsMode
	tlsa         []*dns.TLSA
	noTLS        bool // skip STARTTLS (fallback after a failed handshake)
}

func (c *Client) tlsConfig(p sessionPlan) *tls.Config {
	cfg := &tls.Config{ServerName: p.host, MinVersion: tls.VersionTLS12}
	switch p.mode {
	case tlsSTS:
		cfg.RootCAs = c.opts.RootCAs
	case tlsDANE:
		cfg.InsecureSkipVerify = true // verified by VerifyConnection
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			return verifyDANE(cs, p.tlsa, []string{p.host, p.domain})
		}
	case tlsSTSTesting:
		cfg.InsecureSkipVerify = true
		roots := c.opts.RootCAs
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if err := verifyPKIX(cs, p.host, roots); err != nil {
				c.opts.Logger.Info("mta-sts (testing): certificate would be refused", "host", p.host, "err", err)
			}
			return nil
		}
	default:
		cfg.InsecureSkipVerify = true // opportunistic (RFC 7435)
	}
	return cfg
}

func verifyPKIX(cs tls.ConnectionState, host string, roots *x509.CertPool) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("no certificate")
	}
	inter := x509.NewCertPool()
	for _, cert := range cs.PeerCertificates[1:] {
		inter.AddCert(cert)
	}
	_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{DNSName: host, Roots: roots, Intermediates: inter})
	return err
}

func tlsName(m tlsMode) string {
	switch m {
	case tlsDANE:
		return "dane"
	case tlsSTS:
		return "mta-sts"
	}
	return "tls"
}

// session runs one SMTP session with one address. It returns done when
// the transaction reached final answers (written to res).
func (c *Client) session(ctx context.Context, p sessionPlan, env Envelope, res *Result) (bool, error) {
	hostErr := func(status, format string, args ...any) error {
		return &hostError{host: p.host + "[" + p.addr.String() + "]", status: status, msg: fmt.Sprintf(format, args...)}
	}
	res.TLS = ""
	nc, err := c.opts.Dial(ctx, "tcp", net.JoinHostPort(p.addr.String(), strconv.Itoa(c.opts.Port)))
	if err != nil {
		return false, hostErr("4.4.1", "connect: %v", err)
	}
	cn := newConn(nc, c.opts.Timeouts)
	stop := cn.watch(ctx)
	defer stop()
	defer cn.close()

	// RFC 5321 §3.1: the greeting.
	r, err := cn.readReply(c.opts.Timeouts.Command)
	if err != nil {
		return false, hostErr("4.4.2", "greeting: %v", err)
	}
	if r.Code != 220 {
		return false, hostErr(statusOf(r), "greeting: %s", r)
	}
	if r, err = cn.hello(c.opts.Hostname); err != nil || r.Code != 250 {
		return false, hostErr("4.4.2", "EHLO: %s%v", r, orNil(err))
	}
	required := p.mode == tlsRequired || p.mode == tlsDANE || p.mode == tlsSTS
	if !p.noTLS && (cn.has("STARTTLS") || required) {
		if !cn.has("STARTTLS") {
			return false, hostErr("4.7.5", "STARTTLS not offered but required (%s)", tlsName(p.mode))
		}
		r, err := cn.startTLS(c.tlsConfig(p))
		if err != nil {
			if required {
				return false, hostErr("4.7.5", "%s: %v", tlsName(p.mode), err)
			}
			return false, err
		}
		if r.Code != 220 {
			if required {
				return false, hostErr("4.7.5", "STARTTLS refused: %s", r)
			}
		} else {
			res.TLS = tlsName(p.mode)
			if r, err = cn.hello(c.opts.Hostname); err != nil || r.Code != 250 {
				return false, hostErr("4.4.2", "EHLO after STARTTLS: %s%v", r, orNil(err))
			}
		}
	}
	res.Addr = p.addr
	return c.transaction(cn, p, env, res, hostErr)
}

func orNil(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// statusOf is the enhanced status of a reply, or its class's generic one.
func statusOf(r Reply) string {
	if r.Enhanced != "" {
		return r.Enhanced
	}
	return strconv.Itoa(r.Code/100) + ".0.0"
}
