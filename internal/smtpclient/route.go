package smtpclient

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"freehold/internal/dnsutil"
	"freehold/internal/mail"
)

// mxHost is one host to try, in order.
type mxHost struct {
	name string // FQDN without the trailing dot
	pref uint16
}

// route is where a domain's mail goes.
type route struct {
	hosts []mxHost
	// secure: the MX RRset (or, for an implicit MX, the address records)
	// was validated by DNSSEC, a condition of DANE (RFC 7672 §2.2.1).
	secure bool
}

// routeError is a failure to find where to send; permanent when the
// domain cannot receive mail at all.
type routeError struct {
	permanent bool
	status    string // enhanced status code for the DSN
	msg       string
}

func (e *routeError) Error() string { return e.msg }

// resolveRoute finds a domain's mail hosts (RFC 5321 §5.1): its MX records
// by preference (equal preferences shuffled), or the domain itself when it
// has none (implicit MX). A null MX (RFC 7505) or a domain that does not
// exist is a permanent failure.
func (c *Client) resolveRoute(ctx context.Context, domain string) (route, error) {
	ascii, err := mail.ASCIIDomain(domain)
	if err != nil {
		return route{}, &routeError{permanent: true, status: "5.1.2", msg: fmt.Sprintf("bad domain %q: %v", domain, err)}
	}
	ans, err := c.opts.Resolver.Query(ctx, ascii, dns.TypeMX)
	if err != nil {
		if dnsutil.IsNotFound(err) {
			return route{}, &routeError{permanent: true, status: "5.1.2", msg: "domain " + domain + " does not exist"}
		}
		return route{}, &routeError{status: "4.4.3", msg: "MX lookup of " + domain + ": " + err.Error()}
	}
	var hosts []mxHost
	null := false
	for _, rr := range ans.Records {
		mx := rr.(*dns.MX)
		name := strings.ToLower(strings.TrimSuffix(mx.Mx, "."))
		if name == "" {
			null = true
			continue
		}
		hosts = append(hosts, mxHost{name: name, pref: mx.Preference})
	}
	if null && len(hosts) == 0 {
		return route{}, &routeError{permanent: true, status: "5.1.10", msg: "domain " + domain + " accepts no mail (null MX)"}
	}
	if len(ans.Records) == 0 {
		// Implicit MX: the domain's own address records (§5.1).
		return route{hosts: []mxHost{{name: ascii}}, secure: ans.Authentic}, nil
	}
	rand.Shuffle(len(hosts), func(i, j int) { hosts[i], hosts[j] = hosts[j], hosts[i] })
	slices.SortStableFunc(hosts, func(a, b mxHost) int { return int(a.pref) - int(b.pref) })
	return route{hosts: hosts, secure: ans.Authentic}, nil
}

// hostAddrs returns a host's addresses, IPv6 first.
func (c *Client) hostAddrs(ctx context.Context, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip}, nil
	}
	var out []netip.Addr
	var lastErr error
	for _, qt := range []uint16{dns.TypeAAAA, dns.TypeA} {
		if qt == dns.TypeAAAA && c.opts.DisableIPv6 {
			continue
		}
		ans, err := c.opts.Resolver.Query(ctx, host, qt)
		if err != nil {
			if !dnsutil.IsNotFound(err) {
				lastErr = err
			}
			continue
		}
		out = append(out, ans.Addrs()...)
	}
	if len(out) == 0 {
		if lastErr != nil {
			return nil, lastErr
		}
		return nil, fmt.Errorf("host %s has no address", host)
	}
	return out, nil
}
