// Package dnsutil is Freehold's DNS client: a stub resolver that asks one
// configured recursive resolver (`[dns] resolver = "host:port"`, by default
// the nameservers of /etc/resolv.conf) and reports whether the answer was
// validated by DNSSEC (the AD bit), which DANE depends on.
//
// LookupTXT has net.Resolver's shape, for the DKIM and DMARC lookups;
// errors are *net.DNSError with IsNotFound, IsTemporary and IsTimeout set as
// net.Resolver sets them.
package dnsutil

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/idna"
)

// Options configures a Resolver.
type Options struct {
	// Server is the recursive resolver to ask, "host:port" (port 53 if
	// omitted). Empty means the nameservers listed in ResolvConf.
	Server string
	// ResolvConf is read when Server is empty; default /etc/resolv.conf.
	ResolvConf string
	// Timeout bounds one query to one server; default 5s.
	Timeout time.Duration
	// Attempts is how many times each server is tried; default 2.
	Attempts int
}

// Resolver sends queries to the configured servers. It is safe for
// concurrent use.
type Resolver struct {
	servers  []string
	timeout  time.Duration
	attempts int
	udp, tcp *dns.Client
}

// maxCNAMEs bounds how many CNAMEs a lookup follows.
const maxCNAMEs = 8

// New returns a Resolver for opts.
func New(opts Options) (*Resolver, error) {
	r := &Resolver{timeout: opts.Timeout, attempts: opts.Attempts}
	if r.timeout <= 0 {
		r.timeout = 5 * time.Second
	}
	if r.attempts <= 0 {
		r.attempts = 2
	}
	if opts.Server != "" {
		s, err := withPort(opts.Server)
		if err != nil {
			return nil, err
		}
		r.servers = []string{s}
	} else {
		file := opts.ResolvConf
		if file == "" {
			file = "/etc/resolv.conf"
		}
		cc, err := dns.ClientConfigFromFile(file)
		if err != nil {
			return nil, fmt.Errorf("dns: reading %s: %w", file, err)
		}
		for _, s := range cc.Servers {
			r.servers = append(r.servers, net.JoinHostPort(s, cc.Port))
		}
		if len(r.servers) == 0 {
			return nil, fmt.Errorf("dns: no nameserver in %s", file)
		}
	}
	r.udp = &dns.Client{Net: "udp", Timeout: r.timeout, UDPSize: 1232}
	r.tcp = &dns.Client{Net: "tcp", Timeout: r.timeout}
	return r, nil
}

func withPort(s string) (string, error) {
	if _, _, err := net.SplitHostPort(s); err == nil {
		return s, nil
	}
	if net.ParseIP(strings.Trim(s, "[]")) != nil {
		return net.JoinHostPort(strings.Trim(s, "[]"), "53"), nil
	}
	return "", fmt.Errorf("dns: resolver %q is not host:port", s)
}

// Answer is the result of Query.
type Answer struct {
	// Records are the records of the type asked for, owned by the end of
	// the CNAME chain. Empty for a name that exists without such records.
	Records []dns.RR
	// CanonicalName is the name the records belong to after following
	// CNAMEs (FQDN); the name asked when there were none.
	CanonicalName string
	// Authentic is true when every response on the way had the AD bit: the
	// resolver validated the data with DNSSEC.
	Authentic bool
}

// Addrs returns the addresses in the answer's A and AAAA records.
func (a Answer) Addrs() []netip.Addr {
	var out []netip.Addr
	for _, rr := range a.Records {
		switch r := rr.(type) {
		case *dns.A:
			if ip, ok := netip.AddrFromSlice(r.A.To4()); ok {
				out = append(out, ip)
			}
		case *dns.AAAA:
			if ip, ok := netip.AddrFromSlice(r.AAAA); ok {
				out = append(out, ip)
			}
		}
	}
	return out
}

// Query asks for name's records of type qtype, following CNAMEs. A name
// that does not exist (NXDOMAIN) gives a *net.DNSError with IsNotFound; a
// name that exists without records of the type gives an empty Answer and
// no error. Failures to get an answer are *net.DNSError with IsTemporary
// (and IsTimeout for timeouts).
func (r *Resolver) Query(ctx context.Context, name string, qtype uint16) (Answer, error) {
	fqdn, err := toFQDN(name)
	if err != nil {
		return Answer{}, &net.DNSError{Err: err.Error(), Name: name}
	}
	ans := Answer{CanonicalName: fqdn, Authentic: true}
	seen := map[string]bool{fqdn: true}
	for range maxCNAMEs + 1 {
		resp, server, err := r.exchange(ctx, ans.CanonicalName, qtype)
		if err != nil {
			return Answer{}, err
		}
		ans.Authentic = ans.Authentic && resp.AuthenticatedData
		switch resp.Rcode {
		case dns.RcodeSuccess:
		case dns.RcodeNameError:
			return Answer{}, &net.DNSError{Err: "no such host", Name: name, Server: server, IsNotFound: true}
		default:
			return Answer{}, &net.DNSError{Err: "server answered " + dns.RcodeToString[resp.Rcode], Name: name, Server: server, IsTemporary: true}
		}
		next, done := walkAnswer(resp, &ans, qtype)
		if done {
			return ans, nil
		}
		if seen[next] {
			return Answer{}, &net.DNSError{Err: "CNAME loop", Name: name, Server: server}
		}
		seen[next] = true
		ans.CanonicalName = next
	}
	return Answer{}, &net.DNSError{Err: "too many CNAMEs", Name: name}
}

// walkAnswer follows the CNAME chain within one response from
// ans.CanonicalName and collects the records of qtype at its end. It
// returns done when the response answers the question, or the name to ask
// next when the chain leaves the response.
func walkAnswer(resp *dns.Msg, ans *Answer, qtype uint16) (next string, done bool) {
	owner := ans.CanonicalName
	for range maxCNAMEs + 1 {
		var target string
		for _, rr := range resp.Answer {
			h := rr.Header()
			if !strings.EqualFold(h.Name, owner) {
				continue
			}
			if h.Rrtype == qtype {
				ans.Records = append(ans.Records, rr)
			} else if c, ok := rr.(*dns.CNAME); ok && qtype != dns.TypeCNAME {
				target = dns.Fqdn(strings.ToLower(c.Target))
			}
		}
		if len(ans.Records) > 0 || target == "" {
			ans.CanonicalName = owner
			return "", true
		}
		owner = target
		if !hasOwner(resp, owner) {
			return owner, false
		}
	}
	ans.CanonicalName = owner
	return "", true
}

func hasOwner(resp *dns.Msg, name string) bool {
	for _, rr := range resp.Answer {
		if strings.EqualFold(rr.Header().Name, name) {
			return true
		}
	}
	return false
}

func toFQDN(name string) (string, error) {
	name = strings.TrimSuffix(name, ".")
	if name == "" {
		return ".", nil
	}
	for i := 0; i < len(name); i++ {
		if name[i] >= 0x80 {
			a, err := idna.Lookup.ToASCII(name)
			if err != nil {
				return "", fmt.Errorf("bad name: %v", err)
			}
			name = a
			break
		}
	}
	name = EscapeName(strings.ToLower(name))
	if _, ok := dns.IsDomainName(name); !ok {
		return "", errors.New("bad name")
	}
	return dns.Fqdn(name), nil
}

// EscapeName turns a raw name (labels separated by dots, any other bytes
// literal, as SPF macro expansion can produce) into the presentation
// form miekg/dns packs and unpacks.
func EscapeName(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == ' ' || c == '\'' || c == '@' || c == ';' || c == '(' || c == ')' || c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < ' ' || c > '~':
			fmt.Fprintf(&b, "\\%03d", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// exchange sends one question to the servers in turn until one answers
// with a message that is not SERVFAIL or REFUSED, retrying over TCP when
// the UDP answer is truncated.
func (r *Resolver) exchange(ctx context.Context, fqdn string, qtype uint16) (*dns.Msg, string, error) {
	q := new(dns.Msg)
	q.SetQuestion(fqdn, qtype)
	q.RecursionDesired = true
	// RFC 6840 §5.7: a stub that sets AD in its query is told whether the
	// resolver validated the answer, without asking for signatures (DO).
	q.AuthenticatedData = true
	q.SetEdns0(1232, false)

	var last error
	var lastResp *dns.Msg
	var lastServer string
	for range r.attempts {
		for _, server := range r.servers {
			if err := ctx.Err(); err != nil {
				return nil, server, &net.DNSError{Err: err.Error(), Name: fqdn, Server: server, IsTimeout: true, IsTemporary: true}
			}
			resp, err := r.exchangeOne(ctx, q, server)
			if err != nil {
				last = err
				lastServer = server
				continue
			}
			if resp.Rcode == dns.RcodeServerFailure || resp.Rcode == dns.RcodeRefused {
				lastResp, lastServer = resp, server
				continue
			}
			return resp, server, nil
		}
	}
	if lastResp != nil {
		return lastResp, lastServer, nil
	}
	var ne net.Error
	timeout := errors.As(last, &ne) && ne.Timeout()
	return nil, lastServer, &net.DNSError{Err: fmt.Sprint(last), Name: fqdn, Server: lastServer, IsTimeout: timeout, IsTemporary: true}
}

func (r *Resolver) exchangeOne(ctx context.Context, q *dns.Msg, server string) (*dns.Msg, error) {
	qctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	resp, _, err := r.udp.ExchangeContext(qctx, q, server)
	if err == nil && resp.Truncated {
		resp, _, err = r.tcp.ExchangeContext(qctx, q, server)
	}
	if err != nil {
		return nil, err
	}
	if len(resp.Question) != 1 || !strings.EqualFold(resp.Question[0].Name, q.Question[0].Name) || resp.Question[0].Qtype != q.Question[0].Qtype {
		return nil, errors.New("answer does not match the question")
	}
	return resp, nil
}

// notFound is the error net.Resolver gives for a name without records of
// the type asked.
func notFound(name string) error {
	return &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

// LookupTXT returns name's TXT records, each one's strings concatenated.
func (r *Resolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	ans, err := r.Query(ctx, name, dns.TypeTXT)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, rr := range ans.Records {
		out = append(out, TXT(rr.(*dns.TXT)))
	}
	if len(out) == 0 {
		return nil, notFound(name)
	}
	return out, nil
}

// LookupTLSA returns the TLSA records for a TCP service on host and port
// (RFC 6698 §3), and whether the resolver validated them. Callers must
// ignore records that are not authentic (RFC 7672 §2.2).
func (r *Resolver) LookupTLSA(ctx context.Context, host string, port int) ([]*dns.TLSA, bool, error) {
	ans, err := r.Query(ctx, "_"+strconv.Itoa(port)+"._tcp."+strings.TrimSuffix(host, "."), dns.TypeTLSA)
	if err != nil {
		return nil, false, err
	}
	var out []*dns.TLSA
	for _, rr := range ans.Records {
		out = append(out, rr.(*dns.TLSA))
	}
	return out, ans.Authentic, nil
}

// IsNotFound reports whether err says the name or record does not exist.
func IsNotFound(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}

// IsTemporary reports whether err is a failure to get an answer, worth
// retrying later.
func IsTemporary(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && (de.IsTemporary || de.IsTimeout)
}

// TXT returns the raw bytes of a TXT record, its strings concatenated.
// miekg/dns keeps strings in presentation form (\" \\ and \DDD escapes);
// this undoes it.
func TXT(rr *dns.TXT) string {
	var b strings.Builder
	for _, s := range rr.Txt {
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c != '\\' || i+1 == len(s) {
				b.WriteByte(c)
				continue
			}
			i++
			if i+2 < len(s) && isDigit(s[i]) && isDigit(s[i+1]) && isDigit(s[i+2]) {
				n := int(s[i]-'0')*100 + int(s[i+1]-'0')*10 + int(s[i+2]-'0')
				b.WriteByte(byte(n))
				i += 2
				continue
			}
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// EscapeTXT turns raw bytes into the presentation-form strings of a TXT
// record, split into chunks of at most 255 octets.
func EscapeTXT(raw string) []string {
	var out []string
	for {
		chunk := raw
		if len(chunk) > 255 {
			chunk = chunk[:255]
		}
		var b strings.Builder
		for i := 0; i < len(chunk); i++ {
			c := chunk[i]
			switch {
			case c == '\\' || c == '"':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c < ' ' || c > '~':
				fmt.Fprintf(&b, "\\%03d", c)
			default:
				b.WriteByte(c)
			}
		}
		out = append(out, b.String())
		raw = raw[len(chunk):]
		if raw == "" {
			return out
		}
	}
}
