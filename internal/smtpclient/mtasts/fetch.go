package mtasts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"freehold/internal/store"
)

// TXTLookup is the DNS access policy discovery needs.
type TXTLookup interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// Options configures a Fetcher.
type Options struct {
	Resolver TXTLookup
	Cache    store.MTASTSCache
	// HTTPClient fetches policies; its TLS configuration must verify
	// certificates (the default does). Redirects are never followed.
	HTTPClient *http.Client
	Now        func() time.Time
	Logger     *slog.Logger
}

// Fetcher discovers and caches the MTA-STS policies of remote domains
// (RFC 8461 §3, §5.1). It is safe for concurrent use.
type Fetcher struct {
	opts   Options
	client *http.Client

	mu       sync.Mutex // guards inflight
	inflight map[string]*call
}

type call struct {
	done chan struct{}
	p    *Policy
	err  error
}

// maxPolicySize bounds a policy file (RFC 8461 §3.3 suggests 64 KiB).
const maxPolicySize = 64 * 1024

// New returns a Fetcher.
func New(opts Options) *Fetcher {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	base := opts.HTTPClient
	if base == nil {
		base = &http.Client{Timeout: time.Minute}
	}
	// RFC 8461 §3.3: redirects must not be followed.
	c := *base
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if c.Timeout == 0 {
		c.Timeout = time.Minute
	}
	return &Fetcher{opts: opts, client: &c, inflight: make(map[string]*call)}
}

// Lookup returns the policy to apply when sending to domain, or nil when
// there is none (or its mode is none). Concurrent lookups of one domain
// share one discovery.
func (f *Fetcher) Lookup(ctx context.Context, domain string) (*Policy, error) {
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	f.mu.Lock()
	if c, ok := f.inflight[domain]; ok {
		f.mu.Unlock()
		select {
		case <-c.done:
			return c.p, c.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	c := &call{done: make(chan struct{})}
	f.inflight[domain] = c
	f.mu.Unlock()

	c.p, c.err = f.lookup(ctx, domain)
	f.mu.Lock()
	delete(f.inflight, domain)
	f.mu.Unlock()
	close(c.done)
	return c.p, c.err
}

func (f *Fetcher) lookup(ctx context.Context, domain string) (*Policy, error) {
	now := f.opts.Now()
	id, haveTXT := f.discover(ctx, domain)
	cached, cachedOK := f.cached(ctx, domain, now)
	if haveTXT && cachedOK && cached.ID == id {
		return f.usable(cached)
	}
	if !haveTXT {
		// §5.1: without a record, a cached policy still applies until it
		// expires.
		if cachedOK {
			return f.usable(cached)
		}
		return nil, nil
	}
	text, p, err := f.fetch(ctx, domain)
	if err != nil {
		f.opts.Logger.Info("mta-sts policy fetch failed", "domain", domain, "err", err)
		if cachedOK {
			return f.usable(cached)
		}
		return nil, nil
	}
	entry := store.MTASTSPolicy{Domain: domain, ID: id, Policy: text, Fetched: now, Expires: now.Add(p.MaxAge)}
	if err := f.opts.Cache.MTASTSPut(ctx, entry); err != nil {
		f.opts.Logger.Warn("mta-sts policy not cached", "domain", domain, "err", err)
	}
	if p.Mode == ModeNone {
		return nil, nil
	}
	return &p, nil
}

// discover reads the _mta-sts TXT record; exactly one valid record counts.
func (f *Fetcher) discover(ctx context.Context, domain string) (string, bool) {
	txts, err := f.opts.Resolver.LookupTXT(ctx, "_mta-sts."+domain)
	if err != nil {
		return "", false
	}
	var ids []string
	for _, t := range txts {
		if strings.HasPrefix(t, "v=STSv1") {
			if id, ok := parseTXT(t); ok {
				ids = append(ids, id)
			} else {
				return "", false
			}
		}
	}
	if len(ids) != 1 {
		return "", false
	}
	return ids[0], true
}

func (f *Fetcher) cached(ctx context.Context, domain string, now time.Time) (store.MTASTSPolicy, bool) {
	c, err := f.opts.Cache.MTASTSGet(ctx, domain)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			f.opts.Logger.Warn("mta-sts cache read failed", "domain", domain, "err", err)
		}
		return c, false
	}
	return c, now.Before(c.Expires)
}

func (f *Fetcher) usable(c store.MTASTSPolicy) (*Policy, error) {
	p, err := Parse(c.Policy)
	if err != nil || p.Mode == ModeNone {
		return nil, nil
	}
	return &p, nil
}

// fetch gets https://mta-sts.<domain>/.well-known/mta-sts.txt (§3.3).
func (f *Fetcher) fetch(ctx context.Context, domain string) (string, Policy, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://mta-sts."+domain+WellKnownPath, nil)
	if err != nil {
		return "", Policy{}, err
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return "", Policy{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", Policy{}, fmt.Errorf("mta-sts: HTTP status %d", resp.StatusCode)
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil || mt != "text/plain" {
		return "", Policy{}, fmt.Errorf("mta-sts: content type %q", resp.Header.Get("Content-Type"))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPolicySize+1))
	if err != nil {
		return "", Policy{}, err
	}
	if len(body) > maxPolicySize {
		return "", Policy{}, errors.New("mta-sts: policy too large")
	}
	p, err := Parse(string(body))
	if err != nil {
		return "", Policy{}, err
	}
	return string(body), p, nil
}
