package spf

import (
	"context"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"freehold/internal/dnsutil"
	"freehold/internal/testutil/dnstest"
)

// countingResolver counts the PTR queries it passes on.
type countingResolver struct {
	r   Resolver
	ptr atomic.Int32
}

func (c *countingResolver) Query(ctx context.Context, name string, qtype uint16) (dnsutil.Answer, error) {
	if qtype == dns.TypePTR {
		c.ptr.Add(1)
	}
	return c.r.Query(ctx, name, qtype)
}

// Every ptr mechanism and %{p} macro of one evaluation uses the client's
// validated names from a single reverse look-up.
func TestValidatedNamesLookedUpOnce(t *testing.T) {
	srv := dnstest.New(t)
	srv.Add("1.2.0.192.in-addr.arpa. 300 IN PTR mail.example.org.",
		"mail.example.org. 300 IN A 192.0.2.1",
		"mail.example.org._p.example.org. 300 IN A 127.0.0.2")
	srv.AddTXT("example.org.", "v=spf1 ptr:other.example ptr:nowhere.example exists:%{p}._p.%{d} -all")
	r, err := dnsutil.New(dnsutil.Options{Server: srv.Addr, Timeout: 300 * time.Millisecond, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	cr := &countingResolver{r: r}
	out := Check(context.Background(), cr, Params{IP: netip.MustParseAddr("192.0.2.1"), HELO: "mail.example.org", MailFrom: "a@example.org"})
	if out.Result != Pass || out.Mechanism != "exists:%{p}._p.%{d}" {
		t.Fatalf("got %+v", out)
	}
	if n := cr.ptr.Load(); n != 1 {
		t.Fatalf("%d PTR queries, want 1", n)
	}
}
