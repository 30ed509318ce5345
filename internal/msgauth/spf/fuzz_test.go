package spf

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"

	"freehold/internal/dnsutil"
	"freehold/internal/testutil/dnstest"
)

// FuzzRecord evaluates arbitrary published records: no input may crash
// the evaluator or make it exceed the lookup limits.
func FuzzRecord(f *testing.F) {
	for _, s := range []string{
		"v=spf1 -all",
		"v=spf1 a mx/24//64 ptr:%{d} include:inc.example.org ~all",
		"v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} exp=exp.example.org -all",
		"v=spf1 redirect=%{o}",
		"v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 ?all",
		"v=spf1 a:%{Z} %",
		"v=spf1 include:self.example.org",
		"v=spf1 mx:%{h}.%{p}.%{v}.%{s}",
	} {
		f.Add(s)
	}
	srv := dnstest.New(f)
	r, err := dnsutil.New(dnsutil.Options{Server: srv.Addr, Timeout: 50 * time.Millisecond, Attempts: 1})
	if err != nil {
		f.Fatal(err)
	}
	srv.Add("self.example.org. 300 IN TXT \"v=spf1 include:self.example.org\"",
		"inc.example.org. 300 IN TXT \"v=spf1 +all\"",
		"example.org. 300 IN MX 10 mx.example.org.",
		"mx.example.org. 300 IN A 192.0.2.1")
	f.Fuzz(func(t *testing.T, rec string) {
		if _, err := parseRecord(rec); err != nil {
			return
		}
		srv.Remove("fuzz.example.org", dns.TypeTXT)
		srv.AddTXT("fuzz.example.org.", rec)
		out := Check(context.Background(), r, Params{IP: netip.MustParseAddr("192.0.2.1"), HELO: "h.example.org", MailFrom: "a@fuzz.example.org"})
		if out.Result == "" {
			t.Fatal("empty result")
		}
	})
}

// FuzzMacro expands arbitrary macro-strings: the syntax check alone (nil
// env) must agree with a full expansion, and explanation mode must accept
// whatever domain-spec mode accepts.
func FuzzMacro(f *testing.F) {
	for _, s := range []string{"%{s}", "%{ir}.%{v}._spf.%{d2}", "%{l-r}", "%%%_%-", "%{c}", "%{L1r+-=}", "%"} {
		f.Add(s)
	}
	env := &macroEnv{sender: "a-b+c@x.example.org", local: "a-b+c", domain: "x.example.org", ip: "192.0.2.1",
		ptr: func() string { return "unknown" }}
	f.Fuzz(func(t *testing.T, s string) {
		var syntaxOK [2]bool
		for i, expMode := range []bool{false, true} {
			_, errFull := expand(s, env, expMode)
			_, errSyntax := expand(s, nil, expMode)
			if (errFull == nil) != (errSyntax == nil) {
				t.Fatalf("%q (exp %v): expansion says %v, syntax check %v", s, expMode, errFull, errSyntax)
			}
			syntaxOK[i] = errSyntax == nil
		}
		if syntaxOK[0] && !syntaxOK[1] {
			t.Fatalf("%q valid in a domain-spec but not in an explanation", s)
		}
	})
}
