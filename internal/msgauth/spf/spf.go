// Package spf evaluates Sender Policy Framework records (RFC 7208).
//
// It is Freehold's own evaluator, written against the RFC and its test
// suite (the openspf rfc7208-tests.yml, all of whose scenarios pass in this
// package's tests): any syntax error anywhere in a record is a permerror,
// explanations (exp=) are computed so that a rejection can quote them, and
// DNS goes through a Resolver the caller configures.
package spf

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

	"freehold/internal/dnsutil"
)

// Result is an SPF result (RFC 7208 §2.6); its text is what
// Authentication-Results and Received-SPF carry.
type Result string

const (
	None      Result = "none"
	Neutral   Result = "neutral"
	Pass      Result = "pass"
	Fail      Result = "fail"
	SoftFail  Result = "softfail"
	TempError Result = "temperror"
	PermError Result = "permerror"
)

// Resolver is the DNS access the evaluator needs; *dnsutil.Resolver
// implements it.
type Resolver interface {
	Query(ctx context.Context, name string, qtype uint16) (dnsutil.Answer, error)
}

// Params is the input of Check.
type Params struct {
	IP netip.Addr // the SMTP client's address
	// HELO is the domain the client gave in HELO/EHLO.
	HELO string
	// MailFrom is the MAIL FROM address; empty for the null reverse path,
	// in which case postmaster@HELO is checked (RFC 7208 §2.4).
	MailFrom string
	// Receiver is our host name, for the %{r} macro of explanations.
	Receiver string
	// Now is the time for the %{t} macro; zero means time.Now.
	Now time.Time
}

// Outcome is the result of a check.
type Outcome struct {
	Result Result
	// Domain is the domain whose policy was evaluated.
	Domain string
	// Explanation is the expanded exp= text of a fail, "" if none.
	Explanation string
	// Mechanism is the directive that matched, "" if none did.
	Mechanism string
	// Err says why the result is temperror or permerror (or none).
	Err error
}

// Limits of RFC 7208 §4.6.4.
const (
	maxLookups     = 10
	maxVoidLookups = 2
	maxMXNames     = 10
	maxPTRNames    = 10
)

var (
	errLookupLimit = errors.New("spf: more than 10 DNS-querying terms")
	errVoidLimit   = errors.New("spf: more than 2 void lookups")
)

// Check evaluates the sender's SPF policy: the MAIL FROM domain, or the
// HELO domain for the null reverse path (RFC 7208 §2.4, §4).
func Check(ctx context.Context, r Resolver, p Params) Outcome {
	sender := p.MailFrom
	if sender == "" {
		sender = "postmaster@" + p.HELO
	}
	local, domain := sender, ""
	if i := strings.LastIndexByte(sender, '@'); i >= 0 {
		local, domain = sender[:i], sender[i+1:]
	}
	if local == "" {
		// RFC 7208 §4.3: a sender without local part is postmaster.
		local = "postmaster"
		sender = local + "@" + domain
	}
	return CheckHost(ctx, r, p, domain, local, sender)
}

// CheckHost is check_host() of RFC 7208 §4 for domain, with sender as the
// <sender> (local is its local part).
func CheckHost(ctx context.Context, r Resolver, p Params, domain, local, sender string) Outcome {
	ip := p.IP.Unmap()
	c := &checker{ctx: ctx, r: r, ip: ip}
	now := p.Now
	if now.IsZero() {
		now = time.Now()
	}
	receiver := p.Receiver
	if receiver == "" {
		receiver = "unknown"
	}
	c.env = macroEnv{
		sender:     sender,
		local:      local,
		senderDom:  strings.TrimSuffix(domain, "."),
		ip:         macroIP(ip),
		readableIP: ip.String(),
		version:    "in-addr",
		helo:       p.HELO,
		receiver:   receiver,
		timestamp:  strconv.FormatInt(now.Unix(), 10),
	}
	if ip.Is6() {
		c.env.version = "ip6"
	}
	out := Outcome{Domain: strings.TrimSuffix(domain, ".")}
	if !p.IP.IsValid() {
		out.Result, out.Err = PermError, errors.New("spf: no client address")
		return out
	}
	// RFC 7208 §4.3: a domain that is not a valid multi-label name gives
	// none without any lookup.
	if !validDomain(out.Domain) || !strings.Contains(out.Domain, ".") {
		out.Result, out.Err = None, fmt.Errorf("spf: %q is not a domain name", domain)
		return out
	}
	out.Result, out.Explanation, out.Err = c.checkHost(out.Domain, false)
	out.Mechanism = c.matched
	return out
}

// checker is the state of one evaluation, shared by its recursions so
// that the lookup limits apply to the whole evaluation.
type checker struct {
	ctx     context.Context
	r       Resolver
	ip      netip.Addr
	env     macroEnv
	lookups int
	voids   int
	matched string
	// ptrNames are the client's validated names once ptrDone.
	ptrNames []string
	ptrDone  bool
}

// checkHost evaluates domain's record. nested is true inside include
// and redirect, where no record is a permerror rather than none.
func (c *checker) checkHost(domain string, nested bool) (Result, string, error) {
	txt, res, err := c.fetchRecord(domain)
	if err != nil || txt == "" {
		if nested && res == None {
			return PermError, "", fmt.Errorf("spf: no policy at %s: %v", domain, err)
		}
		return res, "", err
	}
	rec, err := parseRecord(txt)
	if err != nil {
		return PermError, "", err
	}
	env := c.env
	env.domain = domain
	env.ptr = func() string { return c.validatedName(domain) }
	for _, d := range rec.directives {
		match, res, err := c.match(d, &env)
		if err != nil {
			return res, "", err
		}
		if match {
			c.matched = d.text
			if d.qual == Fail {
				return Fail, c.explain(rec.exp, &env), nil
			}
			return d.qual, "", nil
		}
	}
	if rec.redirect != "" {
		if err := c.count(); err != nil {
			return PermError, "", err
		}
		target, err := c.target(rec.redirect, &env)
		if err != nil || target == "" {
			return PermError, "", fmt.Errorf("spf: redirect=%s: invalid target", rec.redirect)
		}
		// The redirect target's explanation applies, not ours (§6.2).
		return c.checkHost(target, true)
	}
	return Neutral, "", nil
}

// fetchRecord looks up domain's SPF record (RFC 7208 §4.4, §4.5). It
// returns "" with None when there is none.
func (c *checker) fetchRecord(domain string) (string, Result, error) {
	ans, err := c.r.Query(c.ctx, domain, dns.TypeTXT)
	if err != nil {
		if dnsutil.IsNotFound(err) {
			return "", None, fmt.Errorf("spf: %s does not exist", domain)
		}
		return "", TempError, fmt.Errorf("spf: looking up %s: %w", domain, err)
	}
	var found []string
	for _, rr := range ans.Records {
		txt := dnsutil.TXT(rr.(*dns.TXT))
		if isSPFRecord(txt) {
			found = append(found, txt)
		}
	}
	switch len(found) {
	case 0:
		return "", None, fmt.Errorf("spf: no record at %s", domain)
	case 1:
		return found[0], "", nil
	default:
		return "", PermError, fmt.Errorf("spf: %d records at %s", len(found), domain)
	}
}

// count accounts for a term that queries DNS (RFC 7208 §4.6.4).
func (c *checker) count() error {
	c.lookups++
	if c.lookups > maxLookups {
		return errLookupLimit
	}
	return nil
}

// void accounts for a lookup that found nothing.
func (c *checker) void() error {
	c.voids++
	if c.voids > maxVoidLookups {
		return errVoidLimit
	}
	return nil
}

// target expands a domain-spec ("" means the current domain) into a name
// to query; "" with no error means the name is not a valid domain and the
// mechanism cannot match.
func (c *checker) target(spec string, env *macroEnv) (string, error) {
	if spec == "" {
		return env.domain, nil
	}
	name, err := expand(spec, env, false)
	if err != nil {
		return "", err
	}
	name = strings.TrimSuffix(name, ".")
	// RFC 7208 §7.3: drop left labels until the name fits in 253 octets.
	for len(name) > 253 {
		i := strings.IndexByte(name, '.')
		if i < 0 {
			return "", nil
		}
		name = name[i+1:]
	}
	if !validDomain(name) {
		return "", nil
	}
	return name, nil
}

// validDomain reports whether name can be queried: non-empty labels of
// at most 63 octets.
func validDomain(name string) bool {
	if name == "" || len(name) > 253 {
		return false
	}
	for _, l := range strings.Split(name, ".") {
		if l == "" || len(l) > 63 {
			return false
		}
	}
	return true
}

// lookupAddrs returns the addresses of name in the client's family. A
// void lookup is counted; a failure to get an answer is a temperror.
func (c *checker) lookupAddrs(name string, countVoid bool) ([]netip.Addr, Result, error) {
	qt := dns.TypeA
	if c.ip.Is6() {
		qt = dns.TypeAAAA
	}
	ans, err := c.r.Query(c.ctx, name, qt)
	if err != nil && !dnsutil.IsNotFound(err) {
		return nil, TempError, fmt.Errorf("spf: looking up %s: %w", name, err)
	}
	out := ans.Addrs()
	if len(out) == 0 && countVoid {
		if err := c.void(); err != nil {
			return nil, PermError, err
		}
	}
	return out, "", nil
}

// explain computes the explanation of a fail (RFC 7208 §6.2). Any
// problem gives no explanation, never an error.
func (c *checker) explain(spec string, env *macroEnv) string {
	if spec == "" {
		return ""
	}
	name, err := c.target(spec, env)
	if err != nil || name == "" {
		return ""
	}
	ans, err := c.r.Query(c.ctx, name, dns.TypeTXT)
	if err != nil || len(ans.Records) != 1 {
		return ""
	}
	text, err := expand(dnsutil.TXT(ans.Records[0].(*dns.TXT)), env, true)
	if err != nil {
		return ""
	}
	return text
}

// macroIP is the %{i} form of ip: dotted quad, or dot-separated nibbles
// for IPv6 (RFC 7208 §7.3). Nibbles are upper-case hex, as the openspf
// test suite expects in explanations; DNS names are case-insensitive, so
// queries are unaffected.
func macroIP(ip netip.Addr) string {
	if !ip.IsValid() {
		return ""
	}
	if ip.Is4() {
		return ip.String()
	}
	b := ip.As16()
	var s strings.Builder
	for i, x := range b {
		if i > 0 {
			s.WriteByte('.')
		}
		fmt.Fprintf(&s, "%X.%X", x>>4, x&0xf)
	}
	return s.String()
}
