package dnsrecords_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"freehold/internal/dnsrecords"
	"freehold/internal/dnsutil"
	"freehold/internal/msgauth/dkimkeys"
	"freehold/internal/store"
	"freehold/internal/testutil/dnstest"
)

func input(t *testing.T) dnsrecords.Input {
	t.Helper()
	k, err := dkimkeys.NewKey("example.org", dkimkeys.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	k.Selector, k.State = "fh20260101e", store.DKIMActive
	r, err := dkimkeys.NewKey("example.org", dkimkeys.RSA)
	if err != nil {
		t.Fatal(err)
	}
	r.Selector, r.State = "fh20260101r", store.DKIMActive
	return dnsrecords.Input{Domain: "example.org", Hostname: "mail.example.org",
		Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.25"), netip.MustParseAddr("2001:db8::25")},
		DKIM:  []store.DKIMKey{k, r}}
}

// publish loads zone-file text into the test DNS server.
func publish(t *testing.T, srv *dnstest.Server, zone string) {
	t.Helper()
	zp := dns.NewZoneParser(strings.NewReader(zone), "", "")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		srv.AddRR(rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("zone does not parse: %v\n%s", err, zone)
	}
}

func TestRecordsAndCheck(t *testing.T) {
	in := input(t)
	recs, err := dnsrecords.Records(in)
	if err != nil {
		t.Fatal(err)
	}
	zone := dnsrecords.Zone(recs, 0)
	for _, want := range []string{
		"example.org. 3600 IN MX 10 mail.example.org.",
		"mail.example.org. 3600 IN A 192.0.2.25",
		`example.org. 3600 IN TXT "v=spf1 mx -all"`,
		`fh20260101e._domainkey.example.org. 3600 IN TXT "v=DKIM1; k=ed25519; p=`,
		`fh20260101r._domainkey.example.org. 3600 IN TXT ( "v=DKIM1; k=rsa; p=`,
		`_dmarc.example.org. 3600 IN TXT "v=DMARC1; p=quarantine"`,
		`_mta-sts.example.org. 3600 IN TXT "v=STSv1; id=`,
		"mta-sts.example.org. 3600 IN CNAME mail.example.org.",
		`_smtp._tls.example.org. 3600 IN TXT "v=TLSRPTv1; rua=mailto:postmaster@example.org"`,
		"_submissions._tcp.example.org. 3600 IN SRV 0 1 465 mail.example.org.",
		"_imaps._tcp.example.org. 3600 IN SRV 0 1 993 mail.example.org.",
		"_autodiscover._tcp.example.org. 3600 IN SRV 0 1 443 mail.example.org.",
		"autoconfig.example.org. 3600 IN CNAME mail.example.org.",
	} {
		if !strings.Contains(zone, want) {
			t.Errorf("zone lacks %q", want)
		}
	}

	srv := dnstest.New(t)
	r, err := dnsutil.New(dnsutil.Options{Server: srv.Addr, Timeout: 200 * time.Millisecond, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// Nothing published: every record is missing.
	vs, err := dnsrecords.Check(ctx, r, in)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		if v.Status != dnsrecords.Missing {
			t.Errorf("empty DNS: %s %s is %s", v.Record.Type, v.Record.Name, v.Status)
		}
	}
	// Everything published as told: every record is fine.
	publish(t, srv, zone)
	vs, _ = dnsrecords.Check(ctx, r, in)
	for _, v := range vs {
		if v.Status != dnsrecords.OK {
			t.Errorf("published: %s %s is %s (%s) found %v", v.Record.Type, v.Record.Name, v.Status, v.Detail, v.Found)
		}
	}

	// Now break things the ways people do.
	srv.Reset()
	publish(t, srv, zone)
	srv.Remove("_dmarc.example.org", dns.TypeTXT)
	srv.Remove("example.org", dns.TypeTXT)
	srv.AddTXT("example.org.", "v=spf1 ip4:198.51.100.0/24 -all")
	srv.AddTXT("example.org.", "google-site-verification=abc")
	srv.Remove("fh20260101e._domainkey.example.org", dns.TypeTXT)
	srv.AddTXT("fh20260101e._domainkey.example.org.", "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")
	srv.Remove("_mta-sts.example.org", dns.TypeTXT)
	srv.AddTXT("_mta-sts.example.org.", "v=STSv1; id=old")
	srv.Remove("autoconfig.example.org", dns.TypeCNAME)
	srv.Add("autoconfig.example.org. 300 IN A 192.0.2.25", "autoconfig.example.org. 300 IN AAAA 2001:db8::25")
	srv.Remove("example.org", dns.TypeMX)
	srv.Add("example.org. 300 IN MX 5 mx.elsewhere.example.")
	srv.Fail("_imaps._tcp.example.org", dnstest.ServFail)

	want := map[string]dnsrecords.Status{
		"TXT _dmarc.example.org.":                 dnsrecords.Missing,
		"TXT example.org.":                        dnsrecords.Wrong,
		"TXT fh20260101e._domainkey.example.org.": dnsrecords.Wrong,
		"TXT fh20260101r._domainkey.example.org.": dnsrecords.OK,
		"TXT _mta-sts.example.org.":               dnsrecords.Wrong,
		"CNAME autoconfig.example.org.":           dnsrecords.OK,
		"MX example.org.":                         dnsrecords.Wrong,
		"SRV _imaps._tcp.example.org.":            dnsrecords.Error,
		"SRV _submissions._tcp.example.org.":      dnsrecords.OK,
	}
	vs, _ = dnsrecords.Check(ctx, r, in)
	for _, v := range vs {
		key := v.Record.Type + " " + v.Record.Name
		w, ok := want[key]
		if !ok {
			continue
		}
		delete(want, key)
		if v.Status != w {
			t.Errorf("%s: %s (%s), want %s", key, v.Status, v.Detail, w)
		}
	}
	for key := range want {
		t.Errorf("%s: not checked", key)
	}
	out := dnsrecords.Format(vs)
	for _, s := range []string{"MISSING  TXT   _dmarc.example.org.", "SPF gives fail for 192.0.2.25", "have: v=STSv1; id=old", "no MX points to mail.example.org."} {
		if !strings.Contains(out, s) {
			t.Errorf("report lacks %q:\n%s", s, out)
		}
	}
}

// TestHostAddressFamilies checks that the server's AAAA record does not
// stand in for its missing A record (only a CNAME may be replaced by the
// server's addresses).
func TestHostAddressFamilies(t *testing.T) {
	in := input(t)
	recs, err := dnsrecords.Records(in)
	if err != nil {
		t.Fatal(err)
	}
	srv := dnstest.New(t)
	r, err := dnsutil.New(dnsutil.Options{Server: srv.Addr, Timeout: 200 * time.Millisecond, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	publish(t, srv, dnsrecords.Zone(recs, 0))
	srv.Remove("mail.example.org", dns.TypeA)
	vs, err := dnsrecords.Check(context.Background(), r, in)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]dnsrecords.Status{}
	for _, v := range vs {
		if v.Record.Name == "mail.example.org." {
			seen[v.Record.Type] = v.Status
		}
	}
	if seen["A"] != dnsrecords.Missing || seen["AAAA"] != dnsrecords.OK {
		t.Fatalf("host records: %v, want A missing and AAAA ok", seen)
	}
}
