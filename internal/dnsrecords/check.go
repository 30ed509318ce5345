package dnsrecords

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"freehold/internal/dnsutil"
	"freehold/internal/msgauth/spf"
)

// Resolver is the DNS access Check needs; *dnsutil.Resolver implements it.
type Resolver interface {
	Query(ctx context.Context, name string, qtype uint16) (dnsutil.Answer, error)
}

// Status is a record's verdict.
type Status string

const (
	OK      Status = "ok"
	Missing Status = "missing"
	Wrong   Status = "wrong"
	Error   Status = "error" // DNS failed: could not tell
)

// Verdict is the check of one record.
type Verdict struct {
	Record Record
	Status Status
	Found  []string // what DNS has at the name, for this type
	Detail string   // what is wrong, or a note
}

// Check queries DNS for every record Records lists and says, record by
// record, whether it is there, missing or wrong.
func Check(ctx context.Context, r Resolver, in Input) ([]Verdict, error) {
	recs, err := Records(in)
	if err != nil {
		return nil, err
	}
	// The server's addresses are looked up once, when a record first
	// needs them.
	var (
		host     []string
		hostErr  error
		hostDone bool
	)
	hostAddrs := func() ([]string, error) {
		if !hostDone {
			host, hostErr = addrs(ctx, r, in.Hostname)
			hostDone = true
		}
		return host, hostErr
	}
	out := make([]Verdict, 0, len(recs))
	for _, rec := range recs {
		out = append(out, checkOne(ctx, r, in, rec, hostAddrs))
	}
	return out, nil
}

func checkOne(ctx context.Context, r Resolver, in Input, rec Record, hostAddrs func() ([]string, error)) Verdict {
	v := Verdict{Record: rec}
	qtype := dns.StringToType[rec.Type]
	ans, err := r.Query(ctx, rec.Name, qtype)
	if err != nil && !dnsutil.IsNotFound(err) {
		v.Status, v.Detail = Error, err.Error()
		return v
	}
	for _, rr := range ans.Records {
		v.Found = append(v.Found, rdata(rr))
	}
	if len(v.Found) == 0 {
		v.Status = Missing
		if qtype == dns.TypeCNAME {
			// A name with addresses instead of a CNAME is fine when they
			// are the server's. (Not for the server's own A or AAAA: its
			// other family would stand in for the missing one.)
			if ok, found := sameAddrs(ctx, r, rec.Name, hostAddrs); ok {
				v.Status, v.Found, v.Detail = OK, found, "addresses of "+in.Hostname+" instead of a CNAME"
			}
		}
		return v
	}
	switch rec.Type {
	case "TXT":
		checkTXT(ctx, r, in, rec, &v)
	case "MX", "CNAME", "SRV", "A", "AAAA":
		v.Status, v.Detail = Wrong, "expected "+rec.Value
		for _, f := range v.Found {
			if strings.EqualFold(f, rec.Value) || rec.Type == "MX" && strings.EqualFold(lastField(f), lastField(rec.Value)) {
				v.Status, v.Detail = OK, ""
			}
		}
		if rec.Type == "MX" && v.Status == Wrong {
			v.Detail = "no MX points to " + fqdn(in.Hostname)
		}
	}
	return v
}

// rdata is a record's data in presentation form (raw text for TXT).
func rdata(rr dns.RR) string {
	switch x := rr.(type) {
	case *dns.TXT:
		return dnsutil.TXT(x)
	case *dns.MX:
		return strconv.Itoa(int(x.Preference)) + " " + strings.ToLower(x.Mx)
	case *dns.CNAME:
		return strings.ToLower(x.Target)
	case *dns.SRV:
		return fmt.Sprintf("%d %d %d %s", x.Priority, x.Weight, x.Port, strings.ToLower(x.Target))
	case *dns.A:
		return x.A.String()
	case *dns.AAAA:
		return x.AAAA.String()
	}
	return strings.TrimPrefix(rr.String(), rr.Header().String())
}

// sameAddrs reports whether name has the server's addresses, and which.
func sameAddrs(ctx context.Context, r Resolver, name string, hostAddrs func() ([]string, error)) (bool, []string) {
	a, err1 := addrs(ctx, r, name)
	b, err2 := hostAddrs()
	if err1 != nil || err2 != nil || len(a) == 0 || len(a) != len(b) {
		return false, nil
	}
	for i := range a {
		if a[i] != b[i] {
			return false, nil
		}
	}
	return true, a
}

func addrs(ctx context.Context, r Resolver, name string) ([]string, error) {
	var out []string
	for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
		ans, err := r.Query(ctx, name, qt)
		if err != nil && !dnsutil.IsNotFound(err) {
			return nil, err
		}
		for _, rr := range ans.Records {
			out = append(out, rdata(rr))
		}
	}
	return out, nil
}

// checkTXT compares TXT records by meaning: the record of the same kind
// (its v= tag) must say what we need.
func checkTXT(ctx context.Context, r Resolver, in Input, rec Record, v *Verdict) {
	kind, _, _ := strings.Cut(rec.Value, ";")
	kind = strings.Fields(kind)[0] // "v=spf1", "v=DKIM1", "v=DMARC1", ...
	var same []string
	for _, f := range v.Found {
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(f)), strings.ToLower(kind)) {
			same = append(same, f)
		}
	}
	switch {
	case len(same) == 0:
		v.Status, v.Detail = Missing, "no "+kind+" record among the TXT records"
		return
	case len(same) > 1:
		v.Status, v.Detail = Wrong, fmt.Sprintf("%d %s records; there must be exactly one", len(same), kind)
		return
	}
	got := same[0]
	v.Status = OK
	switch strings.ToLower(kind) {
	case "v=spf1":
		checkSPF(ctx, r, in, got, v)
	case "v=dkim1":
		if tags(got)["p"] != tags(rec.Value)["p"] {
			v.Status, v.Detail = Wrong, "the public key differs from ours"
		}
	case "v=dmarc1":
		p := tags(got)["p"]
		switch p {
		case "reject", "quarantine":
		case "none":
			v.Detail = "p=none: receivers take no action on failures"
		default:
			v.Status, v.Detail = Wrong, "no valid p= policy"
		}
	case "v=stsv1":
		if tags(got)["id"] != tags(rec.Value)["id"] {
			v.Status, v.Detail = Wrong, "the id is not that of the current policy: senders keep using an old one"
		}
	case "v=tlsrptv1":
		if !strings.HasPrefix(tags(got)["rua"], "mailto:") && !strings.HasPrefix(tags(got)["rua"], "https:") {
			v.Status, v.Detail = Wrong, "no rua= address"
		}
	}
}

// checkSPF evaluates the published SPF policy for the server's addresses
// (when known): the text may differ from ours as long as it authorizes
// them.
func checkSPF(ctx context.Context, r Resolver, in Input, got string, v *Verdict) {
	if len(in.Addrs) == 0 {
		if !strings.EqualFold(strings.Join(strings.Fields(got), " "), "v=spf1 mx -all") {
			v.Detail = "differs from ours; give the server's addresses to check that it authorizes them"
		}
		return
	}
	for _, a := range in.Addrs {
		out := spf.Check(ctx, r, spf.Params{IP: a, HELO: in.Hostname, MailFrom: "postmaster@" + in.Domain})
		if out.Result != spf.Pass {
			v.Status = Wrong
			v.Detail = fmt.Sprintf("SPF gives %s for %s, not pass", out.Result, a)
			if out.Err != nil {
				v.Detail += ": " + out.Err.Error()
			}
			return
		}
	}
}

// tags parses a "k=v; k=v" record.
func tags(s string) map[string]string {
	out := map[string]string{}
	for _, part := range strings.Split(s, ";") {
		k, val, ok := strings.Cut(part, "=")
		if ok {
			out[strings.ToLower(strings.TrimSpace(k))] = strings.Join(strings.Fields(val), "")
		}
	}
	return out
}

// Format renders verdicts for a terminal: one line per record, and what
// to fix.
func Format(vs []Verdict) string {
	var b strings.Builder
	for _, v := range vs {
		fmt.Fprintf(&b, "%-8s %-5s %s\n", strings.ToUpper(string(v.Status)), v.Record.Type, v.Record.Name)
		if v.Status != OK {
			fmt.Fprintf(&b, "         want: %s\n", v.Record.Value)
			for _, f := range v.Found {
				fmt.Fprintf(&b, "         have: %s\n", f)
			}
		}
		if v.Detail != "" {
			fmt.Fprintf(&b, "         %s\n", v.Detail)
		}
	}
	return b.String()
}

func lastField(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}
