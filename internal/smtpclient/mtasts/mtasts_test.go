package mtasts_test

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"freehold/internal/dnsutil"
	"freehold/internal/smtpclient/mtasts"
	"freehold/internal/smtpclient/smtptest"
	"freehold/internal/store"
	"freehold/internal/testutil/dnstest"
)

func TestParse(t *testing.T) {
	p, err := mtasts.Parse("version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmx: backupmx.example.com\r\nmax_age: 604800\r\n")
	if err != nil {
		t.Fatal(err)
	}
	if p.Mode != mtasts.ModeEnforce || len(p.MX) != 3 || p.MaxAge != 7*24*time.Hour {
		t.Fatalf("%+v", p)
	}
	for host, want := range map[string]bool{
		"mail.example.com": true, "MAIL.example.com.": true, "a.example.net": true,
		"example.net": false, "a.b.example.net": false, "other.example.com": false,
	} {
		if p.Matches(host) != want {
			t.Errorf("Matches(%s) != %v", host, want)
		}
	}
	again, err := mtasts.Parse(p.String())
	if err != nil || again.String() != p.String() || p.ID() != again.ID() || len(p.ID()) != 32 {
		t.Fatalf("round trip: %v %q", err, again.String())
	}
	for _, bad := range []string{
		"", "version: STSv2\nmode: enforce\nmx: a\nmax_age: 1\n", "version: STSv1\nmode: sometimes\nmx: a\nmax_age: 1\n",
		"version: STSv1\nmode: enforce\nmax_age: 1\n", "version: STSv1\nmode: enforce\nmx: a\nmax_age: -1\n",
		"version: STSv1\nmode: enforce\nmx: a\n", "garbage", "version: STSv1\nmode: enforce\nmx: a\nmax_age: 99999999999\n",
	} {
		if _, err := mtasts.Parse(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
	if p, err := mtasts.Parse("version: STSv1\nmode: none\nmax_age: 60\nextension: ignored\n"); err != nil || p.Mode != mtasts.ModeNone {
		t.Errorf("mode none: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("version: STSv1\r\nmode: enforce\r\nmx: *.example.net\r\nmax_age: 604800\r\n")
	f.Add("version: STSv1\nmode: testing\nmx: a\nmax_age: 1")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := mtasts.Parse(s)
		if err != nil {
			return
		}
		if _, err := mtasts.Parse(p.String()); err != nil {
			t.Fatalf("formatted policy does not parse: %v\n%q", err, p.String())
		}
		p.Matches("mx.example.net")
	})
}

// memCache is an in-memory store.MTASTSCache.
type memCache struct {
	mu sync.Mutex
	m  map[string]store.MTASTSPolicy
}

func (c *memCache) MTASTSGet(_ context.Context, d string) (store.MTASTSPolicy, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.m[d]
	if !ok {
		return p, store.ErrNotFound
	}
	return p, nil
}

func (c *memCache) MTASTSPut(_ context.Context, p store.MTASTSPolicy) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[p.Domain] = p
	return nil
}

// policyServer serves our Handler over HTTPS with a certificate for
// mta-sts.<domain> from ca, and returns an http.Client that reaches it for
// any host name.
func policyServer(t *testing.T, ca *smtptest.CA, domain string, policy func() (mtasts.Policy, bool), hits *atomic.Int32) *http.Client {
	h := mtasts.Handler{PolicyFor: func(_ context.Context, d string) (mtasts.Policy, bool) {
		hits.Add(1)
		if d != domain {
			return mtasts.Policy{}, false
		}
		return policy()
	}}
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Issue(t, "mta-sts."+domain)}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: ca.Pool},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
		},
	}}
}

func TestFetcherCache(t *testing.T) {
	ctx := context.Background()
	srv := dnstest.New(t)
	r, err := dnsutil.New(dnsutil.Options{Server: srv.Addr, Timeout: 200 * time.Millisecond, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	ca := smtptest.NewCA(t)
	var hits atomic.Int32
	var mu sync.Mutex
	current, serving := mtasts.OwnPolicy(mtasts.ModeEnforce, "mx.example.org"), true
	client := policyServer(t, ca, "example.org", func() (mtasts.Policy, bool) {
		mu.Lock()
		defer mu.Unlock()
		return current, serving
	}, &hits)
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	cache := &memCache{m: map[string]store.MTASTSPolicy{}}
	f := mtasts.New(mtasts.Options{Resolver: r, Cache: cache, HTTPClient: client, Now: func() time.Time { return now }})

	// No TXT record: no policy, no fetch.
	if p, err := f.Lookup(ctx, "example.org"); p != nil || err != nil || hits.Load() != 0 {
		t.Fatalf("without TXT: %v %v hits=%d", p, err, hits.Load())
	}
	srv.AddTXT("_mta-sts.example.org.", "v=STSv1; id=20260501;")
	p, err := f.Lookup(ctx, "example.org")
	if err != nil || p == nil || p.Mode != mtasts.ModeEnforce || !p.Matches("mx.example.org") || hits.Load() != 1 {
		t.Fatalf("first fetch: %+v %v hits=%d", p, err, hits.Load())
	}
	// Same id: the cache answers.
	if p, _ := f.Lookup(ctx, "example.org"); p == nil || hits.Load() != 1 {
		t.Fatalf("cached: %v hits=%d", p, hits.Load())
	}
	// New id: fetched again.
	mu.Lock()
	current = mtasts.OwnPolicy(mtasts.ModeTesting, "mx2.example.org")
	mu.Unlock()
	srv.Remove("_mta-sts.example.org", 16)
	srv.AddTXT("_mta-sts.example.org.", "v=STSv1; id=2")
	if p, _ := f.Lookup(ctx, "example.org"); p == nil || p.Mode != mtasts.ModeTesting || hits.Load() != 2 {
		t.Fatalf("new id: %+v hits=%d", p, hits.Load())
	}
	// The TXT record disappears, or the policy server breaks: the cached
	// policy applies until it expires.
	srv.Remove("_mta-sts.example.org", 16)
	mu.Lock()
	serving = false
	mu.Unlock()
	if p, _ := f.Lookup(ctx, "example.org"); p == nil || p.Mode != mtasts.ModeTesting {
		t.Fatalf("TXT gone: %+v", p)
	}
	srv.AddTXT("_mta-sts.example.org.", "v=STSv1; id=3")
	if p, _ := f.Lookup(ctx, "example.org"); p == nil || p.Mode != mtasts.ModeTesting {
		t.Fatalf("fetch failure: %+v", p)
	}
	now = now.Add(8 * 24 * time.Hour)
	if p, _ := f.Lookup(ctx, "example.org"); p != nil {
		t.Fatalf("expired policy used: %+v", p)
	}
	// Bad TXT records mean no policy.
	for _, txt := range []string{"v=STSv1; id=has-dash", "v=STSv1;", "v=STSv1; id=" + strings.Repeat("a", 33)} {
		srv.Remove("_mta-sts.bad.example", 16)
		srv.AddTXT("_mta-sts.bad.example.", txt)
		if p, _ := f.Lookup(ctx, "bad.example"); p != nil {
			t.Errorf("%q gave a policy", txt)
		}
	}
}

func TestHandler(t *testing.T) {
	h := mtasts.Handler{PolicyFor: func(_ context.Context, d string) (mtasts.Policy, bool) {
		return mtasts.OwnPolicy(mtasts.ModeEnforce, "mx."+d), d == "example.org"
	}}
	get := func(host, path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "https://"+host+path, nil)
		h.ServeHTTP(w, r)
		return w
	}
	w := get("mta-sts.example.org", mtasts.WellKnownPath)
	if w.Code != 200 || w.Header().Get("Content-Type") != "text/plain" || !strings.Contains(w.Body.String(), "mx: mx.example.org\r\n") {
		t.Fatalf("%d %q %q", w.Code, w.Header().Get("Content-Type"), w.Body.String())
	}
	if w := get("mta-sts.other.example", mtasts.WellKnownPath); w.Code != 404 {
		t.Errorf("foreign domain: %d", w.Code)
	}
	if w := get("www.example.org", mtasts.WellKnownPath); w.Code != 404 {
		t.Errorf("other host: %d", w.Code)
	}
	if w := get("mta-sts.example.org", "/other"); w.Code != 404 {
		t.Errorf("other path: %d", w.Code)
	}
}
