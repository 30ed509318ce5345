package spf

import (
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/netip"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"gopkg.in/yaml.v3"

	"freehold/internal/dnsutil"
	"freehold/internal/testutil/dnstest"
)

// The openspf RFC 7208 test suite, as shipped by Debian's python3-spf.
const suiteFile = "/usr/share/doc/python3-spf/rfc7208-tests.yml.gz"

type suiteScenario struct {
	Description string                 `yaml:"description"`
	Tests       map[string]suiteTest   `yaml:"tests"`
	ZoneData    map[string][]yaml.Node `yaml:"zonedata"`
}

type suiteTest struct {
	Description string    `yaml:"description"`
	Spec        yaml.Node `yaml:"spec"`
	Helo        string    `yaml:"helo"`
	Host        string    `yaml:"host"`
	MailFrom    string    `yaml:"mailfrom"`
	Result      yaml.Node `yaml:"result"`
	Explanation *string   `yaml:"explanation"`
}

// strings of a node that is a scalar or a sequence of scalars.
func nodeStrings(n *yaml.Node) []string {
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}
	}
	var out []string
	for _, c := range n.Content {
		out = append(out, c.Value)
	}
	return out
}

func loadSuite(t *testing.T) []suiteScenario {
	f, err := os.Open(suiteFile)
	if err != nil {
		t.Skipf("SPF test suite not installed (apt-get install python3-spf): %v", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(zr)
	var out []suiteScenario
	for {
		var s suiteScenario
		err := dec.Decode(&s)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
}

// loadZone publishes a scenario's zonedata on srv the way the suite's
// reference driver (pyspf's testspf.py) reads it: SPF-type records are
// also published as TXT unless the name has TXT records ("TXT: NONE"
// marks a name with none), and TIMEOUT makes queries for the types the
// name has no records of time out.
func loadZone(t *testing.T, srv *dnstest.Server, zone map[string][]yaml.Node) {
	srv.Reset()
	for name, entries := range zone {
		fqdn := dns.Fqdn(dnsutil.EscapeName(name))
		hdr := func(rrtype uint16) dns.RR_Header {
			return dns.RR_Header{Name: fqdn, Rrtype: rrtype, Class: dns.ClassINET, Ttl: 300}
		}
		hasTXT, timeout := false, false
		var spfs [][]string
		types := map[uint16]bool{}
		for i := range entries {
			e := &entries[i]
			if e.Kind == yaml.ScalarNode && e.Value == "TIMEOUT" {
				timeout = true
				continue
			}
			if e.Kind != yaml.MappingNode || len(e.Content) != 2 {
				t.Fatalf("zone %s: unexpected entry %v", name, e.Value)
			}
			typ, val := e.Content[0].Value, e.Content[1]
			var rr dns.RR
			switch typ {
			case "A":
				for _, v := range nodeStrings(val) {
					srv.AddRR(&dns.A{Hdr: hdr(dns.TypeA), A: netip.MustParseAddr(v).AsSlice()})
				}
				types[dns.TypeA] = true
			case "AAAA":
				for _, v := range nodeStrings(val) {
					srv.AddRR(&dns.AAAA{Hdr: hdr(dns.TypeAAAA), AAAA: netip.MustParseAddr(v).AsSlice()})
				}
				types[dns.TypeAAAA] = true
			case "MX":
				var prio uint16
				for _, c := range val.Content[:1] {
					var p int
					c.Decode(&p)
					prio = uint16(p)
				}
				rr = &dns.MX{Hdr: hdr(dns.TypeMX), Preference: prio, Mx: dns.Fqdn(val.Content[1].Value)}
			case "PTR":
				rr = &dns.PTR{Hdr: hdr(dns.TypePTR), Ptr: dns.Fqdn(val.Value)}
			case "CNAME":
				rr = &dns.CNAME{Hdr: hdr(dns.TypeCNAME), Target: dns.Fqdn(val.Value)}
			case "TXT":
				hasTXT = true
				if val.Kind == yaml.ScalarNode && val.Value == "NONE" {
					continue
				}
				rr = &dns.TXT{Hdr: hdr(dns.TypeTXT), Txt: escapeAll(nodeStrings(val))}
			case "SPF":
				if val.Kind == yaml.ScalarNode && val.Value == "NONE" {
					continue
				}
				spfs = append(spfs, nodeStrings(val))
				rr = &dns.SPF{Hdr: hdr(dns.TypeSPF), Txt: escapeAll(nodeStrings(val))}
			default:
				t.Fatalf("zone %s: unknown type %s", name, typ)
			}
			if rr != nil {
				types[rr.Header().Rrtype] = true
				srv.AddRR(rr)
			}
		}
		if !hasTXT {
			for _, s := range spfs {
				srv.AddRR(&dns.TXT{Hdr: hdr(dns.TypeTXT), Txt: escapeAll(s)})
				types[dns.TypeTXT] = true
			}
		}
		if timeout {
			for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeMX, dns.TypeTXT, dns.TypePTR, dns.TypeSPF} {
				if !types[qt] {
					srv.FailType(fqdn, qt, dnstest.Timeout)
				}
			}
		}
	}
}

func escapeAll(raw []string) []string {
	out := []string{}
	for _, s := range raw {
		out = append(out, dnsutil.EscapeTXT(s)...)
	}
	return out
}

// TestRFC7208Suite runs every scenario of the openspf RFC 7208 test
// suite against zones served by a local DNS server.
func TestRFC7208Suite(t *testing.T) {
	suite := loadSuite(t)
	srv := dnstest.New(t)
	r, err := dnsutil.New(dnsutil.Options{Server: srv.Addr, Timeout: 100 * time.Millisecond, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, sc := range suite {
		loadZone(t, srv, sc.ZoneData)
		names := make([]string, 0, len(sc.Tests))
		for n := range sc.Tests {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, name := range names {
			tc := sc.Tests[name]
			total++
			t.Run(name, func(t *testing.T) {
				ip, err := netip.ParseAddr(tc.Host)
				if err != nil {
					t.Fatal(err)
				}
				out := Check(context.Background(), r, Params{IP: ip, HELO: tc.Helo, MailFrom: tc.MailFrom, Receiver: "receiver.example"})
				want := nodeStrings(&tc.Result)
				if !slices.Contains(want, string(out.Result)) {
					t.Errorf("%s (%s): got %s (%v), want %v", sc.Description, strings.TrimSpace(tc.Description), out.Result, out.Err, want)
				}
				if tc.Explanation != nil {
					exp := out.Explanation
					if exp == "" {
						exp = "DEFAULT" // the suite's name for the default explanation
					}
					if exp != *tc.Explanation {
						t.Errorf("explanation %q, want %q", exp, *tc.Explanation)
					}
				}
			})
		}
	}
	if total < 150 {
		t.Fatalf("only %d scenarios found", total)
	}
	t.Logf("%d scenarios", total)
}
