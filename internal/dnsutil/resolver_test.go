package dnsutil_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"

	"freehold/internal/dnsutil"
	"freehold/internal/testutil/dnstest"
)

func newResolver(t *testing.T, srv *dnstest.Server) *dnsutil.Resolver {
	t.Helper()
	r, err := dnsutil.New(dnsutil.Options{Server: srv.Addr, Timeout: 300 * time.Millisecond, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestLookups(t *testing.T) {
	srv := dnstest.New(t)
	srv.Add(
		"example.org. 300 IN MX 20 mx2.example.org.",
		"example.org. 300 IN MX 10 mx1.example.org.",
		"example.org. 300 IN TXT \"v=spf1 \" \"-all\"",
		"mx1.example.org. 300 IN A 192.0.2.1",
		"mx1.example.org. 300 IN AAAA 2001:db8::1",
		"alias.example.org. 300 IN CNAME mx1.example.org.",
		"1.2.0.192.in-addr.arpa. 300 IN PTR mx1.example.org.",
		"_25._tcp.mx1.example.org. 300 IN TLSA 3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"*.wild.example.org. 300 IN TXT \"wild\"",
		"_imaps._tcp.example.org. 300 IN SRV 0 1 993 mail.example.org.",
	)
	r := newResolver(t, srv)
	ctx := context.Background()

	mxs, err := r.Query(ctx, "Example.ORG", dns.TypeMX)
	if err != nil || len(mxs.Records) != 2 || mxs.CanonicalName != "example.org." {
		t.Fatalf("MX: %v %v", mxs, err)
	}
	txt, err := r.LookupTXT(ctx, "example.org")
	if err != nil || len(txt) != 1 || txt[0] != "v=spf1 -all" {
		t.Fatalf("TXT: %q %v", txt, err)
	}
	ips, err := r.Query(ctx, "alias.example.org", dns.TypeA)
	if err != nil || len(ips.Addrs()) != 1 || ips.Addrs()[0] != netip.MustParseAddr("192.0.2.1") {
		t.Fatalf("IP via CNAME: %v %v", ips, err)
	}
	if ips.CanonicalName != "mx1.example.org." {
		t.Fatalf("CNAME: %q", ips.CanonicalName)
	}
	names, err := r.Query(ctx, "1.2.0.192.in-addr.arpa", dns.TypePTR)
	if err != nil || len(names.Records) != 1 || names.Records[0].(*dns.PTR).Ptr != "mx1.example.org." {
		t.Fatalf("PTR: %v %v", names, err)
	}
	tlsa, ad, err := r.LookupTLSA(ctx, "mx1.example.org.", 25)
	if err != nil || len(tlsa) != 1 || ad {
		t.Fatalf("TLSA: %v %v %v", tlsa, ad, err)
	}
	srv.SetAuthentic(true)
	if _, ad, _ := r.LookupTLSA(ctx, "mx1.example.org", 25); !ad {
		t.Fatal("AD bit not reported")
	}
	srv.SetInsecure("mx1.example.org")
	if a, _ := r.Query(ctx, "alias.example.org", dns.TypeA); a.Authentic {
		t.Fatal("chain through an insecure name reported authentic")
	}
	if w, err := r.LookupTXT(ctx, "x.wild.example.org"); err != nil || w[0] != "wild" {
		t.Fatalf("wildcard: %v %v", w, err)
	}
	if s, err := r.Query(ctx, "_imaps._tcp.example.org", dns.TypeSRV); err != nil || len(s.Records) != 1 || s.Records[0].(*dns.SRV).Port != 993 {
		t.Fatalf("SRV: %v %v", s, err)
	}

	// NXDOMAIN and NODATA are both "not found", as with net.Resolver;
	// Query tells them apart.
	if _, err := r.LookupTXT(ctx, "nope.example.org"); !dnsutil.IsNotFound(err) {
		t.Fatalf("NXDOMAIN: %v", err)
	}
	if _, err := r.LookupTXT(ctx, "mx1.example.org"); !dnsutil.IsNotFound(err) {
		t.Fatalf("NODATA: %v", err)
	}
	if a, err := r.Query(ctx, "mx1.example.org", dns.TypeMX); err != nil || len(a.Records) != 0 {
		t.Fatalf("Query NODATA: %v %v", a, err)
	}
}

func TestFailures(t *testing.T) {
	srv := dnstest.New(t)
	srv.Add("big.example.org. 300 IN A 192.0.2.1", "tc.example.org. 300 IN A 192.0.2.9",
		"loop1.example.org. 300 IN CNAME loop2.example.org.", "loop2.example.org. 300 IN CNAME loop1.example.org.")
	for i := range 100 {
		srv.Add("big.example.org. 300 IN TXT \"record number " + string(rune('a'+i%26)) + "-padding-padding-padding\"")
	}
	r := newResolver(t, srv)
	ctx := context.Background()

	// A large answer is truncated over UDP and fetched over TCP.
	if txt, err := r.LookupTXT(ctx, "big.example.org"); err != nil || len(txt) != 100 {
		t.Fatalf("TCP fallback: %d %v", len(txt), err)
	}
	srv.Fail("tc.example.org", dnstest.Truncated)
	if ips, err := r.Query(ctx, "tc.example.org", dns.TypeA); err != nil || len(ips.Addrs()) != 1 {
		t.Fatalf("truncated: %v %v", ips, err)
	}
	for _, f := range []dnstest.Failure{dnstest.ServFail, dnstest.Timeout, dnstest.Garbage, dnstest.Refused, dnstest.WrongID} {
		srv.Fail("bad.example.org", f)
		start := time.Now()
		_, err := r.LookupTXT(ctx, "bad.example.org")
		if !dnsutil.IsTemporary(err) {
			t.Errorf("failure %d: want temporary error, got %v", f, err)
		}
		if time.Since(start) > 2*time.Second {
			t.Errorf("failure %d took %v", f, time.Since(start))
		}
	}
	if _, err := r.LookupTXT(ctx, "loop1.example.org"); err == nil || dnsutil.IsTemporary(err) {
		t.Fatalf("CNAME loop: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := r.LookupTXT(cctx, "big.example.org"); !dnsutil.IsTemporary(err) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestResolvConf(t *testing.T) {
	dir := t.TempDir()
	if _, err := dnsutil.New(dnsutil.Options{ResolvConf: dir + "/none"}); err == nil {
		t.Fatal("missing resolv.conf accepted")
	}
	if _, err := dnsutil.New(dnsutil.Options{Server: "not a server"}); err == nil {
		t.Fatal("bad server accepted")
	}
	if _, err := dnsutil.New(dnsutil.Options{Server: "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
}
