package spf

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"freehold/internal/dnsutil"
)

// match evaluates one mechanism (RFC 7208 §5). A non-nil error ends the
// evaluation with the returned result (temperror or permerror).
func (c *checker) match(d directive, env *macroEnv) (bool, Result, error) {
	switch d.kind {
	case mechAll:
		return true, "", nil
	case mechIP4, mechIP6:
		// §5.6: an ip4 network never matches an IPv6 client and vice versa.
		return d.prefix.Addr().Is4() == c.ip.Is4() && d.prefix.Contains(c.ip), "", nil
	}
	if err := c.count(); err != nil {
		return false, PermError, err
	}
	target, err := c.target(d.domain, env)
	if err != nil {
		return false, PermError, fmt.Errorf("spf: %s: %w", d.text, err)
	}
	if target == "" {
		return false, "", nil
	}
	switch d.kind {
	case mechInclude:
		return c.matchInclude(target)
	case mechA:
		addrs, res, err := c.lookupAddrs(target, true)
		if err != nil {
			return false, res, err
		}
		return c.inAny(addrs, d.cidr4, d.cidr6), "", nil
	case mechMX:
		return c.matchMX(target, d)
	case mechPTR:
		return c.matchPTR(target), "", nil
	case mechExists:
		// §5.7: exists always queries A, whatever the client's family.
		ans, err := c.r.Query(c.ctx, target, dns.TypeA)
		if err != nil && !dnsutil.IsNotFound(err) {
			return false, TempError, fmt.Errorf("spf: looking up %s: %w", target, err)
		}
		if len(ans.Records) == 0 {
			if err := c.void(); err != nil {
				return false, PermError, err
			}
			return false, "", nil
		}
		return true, "", nil
	}
	return false, PermError, fmt.Errorf("spf: unknown mechanism %s", d.text)
}

// matchInclude evaluates include (RFC 7208 §5.2): only a pass matches;
// an error or no policy at the target is an error of the includer.
func (c *checker) matchInclude(target string) (bool, Result, error) {
	res, _, err := c.checkHost(target, true)
	switch res {
	case Pass:
		return true, "", nil
	case Fail, SoftFail, Neutral:
		return false, "", nil
	case TempError:
		return false, TempError, err
	default:
		return false, PermError, fmt.Errorf("spf: include:%s: %s: %v", target, res, err)
	}
}

// matchMX evaluates mx (RFC 7208 §5.4).
func (c *checker) matchMX(target string, d directive) (bool, Result, error) {
	ans, err := c.r.Query(c.ctx, target, dns.TypeMX)
	if err != nil && !dnsutil.IsNotFound(err) {
		return false, TempError, fmt.Errorf("spf: looking up MX %s: %w", target, err)
	}
	if len(ans.Records) == 0 {
		if err := c.void(); err != nil {
			return false, PermError, err
		}
		return false, "", nil
	}
	if len(ans.Records) > maxMXNames {
		return false, PermError, fmt.Errorf("spf: %s has more than %d MX records", target, maxMXNames)
	}
	for _, rr := range ans.Records {
		host := strings.TrimSuffix(rr.(*dns.MX).Mx, ".")
		if host == "" || !validDomain(host) {
			continue // a null MX (RFC 7505) names no host
		}
		addrs, res, err := c.lookupAddrs(host, false)
		if err != nil {
			return false, res, err
		}
		if c.inAny(addrs, d.cidr4, d.cidr6) {
			return true, "", nil
		}
	}
	return false, "", nil
}

// matchPTR evaluates ptr (RFC 7208 §5.5): does a validated name of the
// client equal target or end with it? DNS errors mean no match.
func (c *checker) matchPTR(target string) bool {
	for _, name := range c.validatedNames() {
		if isSubdomainOf(name, target) {
			return true
		}
	}
	return false
}

// validatedNames returns the client's PTR names whose addresses include
// the client (RFC 7208 §5.5), looking at no more than 10 names. They
// depend on the client alone, so every ptr mechanism and %{p} macro of
// one evaluation shares the first look-up.
func (c *checker) validatedNames() []string {
	if !c.ptrDone {
		c.ptrNames, c.ptrDone = c.lookupValidatedNames(), true
	}
	return c.ptrNames
}

func (c *checker) lookupValidatedNames() []string {
	rev := c.ip.String()
	ptrName, err := dns.ReverseAddr(rev)
	if err != nil {
		return nil
	}
	ans, err := c.r.Query(c.ctx, ptrName, dns.TypePTR)
	if err != nil {
		return nil
	}
	var out []string
	for i, rr := range ans.Records {
		if i >= maxPTRNames {
			break
		}
		name := strings.TrimSuffix(rr.(*dns.PTR).Ptr, ".")
		if !validDomain(name) {
			continue
		}
		addrs, _, err := c.lookupAddrs(name, false)
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if a == c.ip {
				out = append(out, name)
				break
			}
		}
	}
	return out
}

// validatedName is the %{p} macro: a validated name of the client,
// preferring domain itself, then a subdomain of it (RFC 7208 §7.3).
func (c *checker) validatedName(domain string) string {
	names := c.validatedNames()
	for _, n := range names {
		if strings.EqualFold(n, domain) {
			return n
		}
	}
	for _, n := range names {
		if isSubdomainOf(n, domain) {
			return n
		}
	}
	if len(names) > 0 {
		return names[0]
	}
	return "unknown"
}

func isSubdomainOf(name, domain string) bool {
	name, domain = strings.ToLower(name), strings.ToLower(strings.TrimSuffix(domain, "."))
	return name == domain || strings.HasSuffix(name, "."+domain)
}

// inAny reports whether the client is in one of addrs' networks of the
// given lengths (-1: the full address).
func (c *checker) inAny(addrs []netip.Addr, cidr4, cidr6 int) bool {
	for _, a := range addrs {
		bits := cidr4
		if a.Is6() {
			bits = cidr6
		}
		if bits < 0 {
			bits = a.BitLen()
		}
		p, err := a.Prefix(bits)
		if err == nil && a.Is4() == c.ip.Is4() && p.Contains(c.ip) {
			return true
		}
	}
	return false
}
