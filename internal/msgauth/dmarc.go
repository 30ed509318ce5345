package msgauth

import (
	"context"
	"strings"

	"github.com/emersion/go-msgauth/dmarc"
	"golang.org/x/net/publicsuffix"

	"freehold/internal/dnsutil"
	"freehold/internal/msgauth/spf"
)

// DMARCResult is the DMARC evaluation of a message (RFC 7489).
type DMARCResult struct {
	// Result is none (no policy), pass, fail, temperror or permerror
	// (no usable From header).
	Result string
	// Domain is the RFC5322.From domain evaluated.
	Domain string
	// Published is the policy the domain asks for (p=, or sp= for a
	// subdomain); Policy is the one to apply after pct= sampling, and
	// only when Result is fail.
	Published dmarc.Policy
	Policy    dmarc.Policy
	// SPFAligned and DKIMAligned say which aligned identifier passed.
	SPFAligned, DKIMAligned bool
}

func (r DMARCResult) action() Action {
	if r.Result != "fail" {
		return Accept
	}
	switch r.Policy {
	case dmarc.PolicyReject:
		return Reject
	case dmarc.PolicyQuarantine:
		return Quarantine
	}
	return Accept
}

// evalDMARC evaluates the policy of every From domain; with several (a
// message with more than one author domain, RFC 7489 §6.6.1) the
// strictest outcome is kept, so that adding an address cannot bypass a
// policy.
func (v *Verifier) evalDMARC(ctx context.Context, fields []field, spfOut spf.Outcome, sigs []DKIMResult) DMARCResult {
	domains, ok := fromDomains(fields)
	if !ok || len(domains) == 0 {
		return DMARCResult{Result: "permerror"}
	}
	var worst DMARCResult
	for i, d := range domains {
		r := v.evalDomain(ctx, d, spfOut, sigs)
		if i == 0 || severity(r) > severity(worst) {
			worst = r
		}
	}
	return worst
}

func severity(r DMARCResult) int {
	switch {
	case r.Result == "fail" && r.Policy == dmarc.PolicyReject:
		return 5
	case r.Result == "fail" && r.Policy == dmarc.PolicyQuarantine:
		return 4
	case r.Result == "fail":
		return 3
	case r.Result == "temperror":
		return 2
	case r.Result == "none":
		return 1
	}
	return 0
}

// evalDomain is RFC 7489 §6.6 for one author domain.
func (v *Verifier) evalDomain(ctx context.Context, from string, spfOut spf.Outcome, sigs []DKIMResult) DMARCResult {
	res := DMARCResult{Domain: from}
	org := orgDomain(from)
	rec, tempErr := v.lookupPolicy(ctx, from)
	atOrg := false
	if rec == nil && !tempErr && org != from {
		rec, tempErr = v.lookupPolicy(ctx, org)
		atOrg = true
	}
	if tempErr {
		res.Result = "temperror"
		return res
	}
	if rec == nil {
		res.Result = "none"
		return res
	}
	res.Published = rec.Policy
	if atOrg && rec.SubdomainPolicy != "" {
		res.Published = rec.SubdomainPolicy
	}
	// Identifier alignment (§3.1).
	if spfOut.Result == spf.Pass && aligned(spfOut.Domain, from, rec.SPFAlignment) {
		res.SPFAligned = true
	}
	for _, s := range sigs {
		if s.Result == "pass" && aligned(s.Domain, from, rec.DKIMAlignment) {
			res.DKIMAligned = true
		}
	}
	if res.SPFAligned || res.DKIMAligned {
		res.Result = "pass"
		return res
	}
	res.Result = "fail"
	res.Policy = res.Published
	// §6.6.4: a message outside the pct= sample gets the next policy
	// down.
	if rec.Percent != nil && *rec.Percent < 100 && v.opts.Sample() >= *rec.Percent {
		switch res.Policy {
		case dmarc.PolicyReject:
			res.Policy = dmarc.PolicyQuarantine
		case dmarc.PolicyQuarantine:
			res.Policy = dmarc.PolicyNone
		}
	}
	return res
}

// lookupPolicy fetches _dmarc.domain (§6.6.3). A missing, unparseable or
// ambiguous (several records) policy is nil; tempErr reports a DNS failure.
func (v *Verifier) lookupPolicy(ctx context.Context, domain string) (rec *dmarc.Record, tempErr bool) {
	txts, err := v.opts.Resolver.LookupTXT(ctx, "_dmarc."+domain)
	if err != nil {
		return nil, dnsutil.IsTemporary(err)
	}
	var found []string
	for _, t := range txts {
		if strings.HasPrefix(strings.TrimSpace(t), "v=DMARC1") {
			found = append(found, t)
		}
	}
	if len(found) != 1 {
		return nil, false
	}
	r, err := dmarc.Parse(found[0])
	if err != nil {
		// §6.3: a bad value of an optional tag must not void the
		// policy; keep the tags that decide the disposition.
		r, err = dmarc.Parse(essentialTags(found[0]))
		if err != nil {
			return nil, false
		}
	}
	switch r.Policy {
	case dmarc.PolicyNone, dmarc.PolicyQuarantine, dmarc.PolicyReject:
	default:
		return nil, false
	}
	return r, false
}

// aligned compares an authenticated domain with the author domain, in
// strict or relaxed mode (RFC 7489 §3.1).
func aligned(authDomain, from string, mode dmarc.AlignmentMode) bool {
	authDomain = strings.ToLower(strings.TrimSuffix(authDomain, "."))
	if authDomain == "" {
		return false
	}
	if authDomain == from {
		return true
	}
	if mode == dmarc.AlignmentStrict {
		return false
	}
	return orgDomain(authDomain) == orgDomain(from)
}

// orgDomain is the Organizational Domain (RFC 7489 §3.2): the public
// suffix plus one label.
func orgDomain(d string) string {
	o, err := publicsuffix.EffectiveTLDPlusOne(d)
	if err != nil {
		return d
	}
	return o
}

// essentialTags rebuilds a record from the tags that decide the
// disposition, each kept only if valid, dropping reporting options.
func essentialTags(rec string) string {
	tags := tagList(rec)
	out := "v=DMARC1"
	for _, k := range []string{"p", "sp", "adkim", "aspf", "pct"} {
		v, ok := tags[k]
		if !ok {
			continue
		}
		cand := out + "; " + k + "=" + v
		probe := cand
		if k != "p" {
			probe += "; p=none"
		}
		if _, err := dmarc.Parse(probe); err == nil {
			out = cand
		}
	}
	return out
}
