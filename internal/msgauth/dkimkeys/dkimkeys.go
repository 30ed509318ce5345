// Package dkimkeys manages the DKIM keys of our domains: generating them
// when a domain is added, rotating (a new selector, published before it
// signs, while the old one stays published until retired), and serving
// the active ones to the msgauth.Signer.
//
// Life of a key: Generate makes the first Ed25519 and RSA-2048 pair
// active at once (nothing was published before). Rotate adds a pending
// pair, which dnsrecords lists for publication; Activate (or
// ActivatePublished, once DNS shows them) makes it sign and moves the
// previous pair to retiring, still published so that mail in flight
// verifies; Retire deletes retiring keys.
package dkimkeys

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"freehold/internal/msgauth"
	"freehold/internal/store"
)

// Algorithms.
const (
	Ed25519 = "ed25519"
	RSA     = "rsa"
)

// rsaBits is the RSA key size (RFC 8301 §3.2 asks for at least 1024;
// 2048 is what receivers expect today and fits one TXT record).
const rsaBits = 2048

// Manager changes a domain's keys.
type Manager struct {
	Keys store.DKIMKeys
	// Now is the clock (default time.Now); selectors are named after the
	// date.
	Now func() time.Time
}

func (m *Manager) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// Generate creates a domain's first keys, active at once. It does
// nothing when the domain already has active keys.
func (m *Manager) Generate(ctx context.Context, domain string) ([]store.DKIMKey, error) {
	domain = canonDomain(domain)
	keys, err := m.Keys.DKIMKeyList(ctx, domain)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if k.State == store.DKIMActive {
			return nil, nil
		}
	}
	return m.addPair(ctx, domain, store.DKIMActive)
}

// Rotate adds a new pending pair of keys to publish in DNS.
func (m *Manager) Rotate(ctx context.Context, domain string) ([]store.DKIMKey, error) {
	return m.addPair(ctx, canonDomain(domain), store.DKIMPending)
}

// Activate makes the domain's pending keys sign, and moves the keys that
// signed before them to retiring. It reports whether anything changed.
func (m *Manager) Activate(ctx context.Context, domain string) (bool, error) {
	domain = canonDomain(domain)
	keys, err := m.Keys.DKIMKeyList(ctx, domain)
	if err != nil {
		return false, err
	}
	return m.activate(ctx, domain, keys)
}

// activate is Activate over the domain's keys as just listed.
func (m *Manager) activate(ctx context.Context, domain string, keys []store.DKIMKey) (bool, error) {
	var pending, active []store.DKIMKey
	for _, k := range keys {
		switch k.State {
		case store.DKIMPending:
			pending = append(pending, k)
		case store.DKIMActive:
			active = append(active, k)
		}
	}
	if len(pending) == 0 {
		return false, nil
	}
	// Activate first, so the domain is never left without a signing key.
	for _, k := range pending {
		if err := m.Keys.DKIMKeySetState(ctx, domain, k.Selector, store.DKIMActive); err != nil {
			return false, err
		}
	}
	for _, k := range active {
		if err := m.Keys.DKIMKeySetState(ctx, domain, k.Selector, store.DKIMRetiring); err != nil {
			return true, err
		}
	}
	return true, nil
}

// TXTLookup is the DNS access ActivatePublished needs.
type TXTLookup interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// ActivatePublished activates a domain's pending keys once every one of
// them is visible in DNS with the right public key. The app can run it
// periodically; it reports whether it activated.
func (m *Manager) ActivatePublished(ctx context.Context, dns TXTLookup, domain string) (bool, error) {
	domain = canonDomain(domain)
	keys, err := m.Keys.DKIMKeyList(ctx, domain)
	if err != nil {
		return false, err
	}
	n := 0
	for _, k := range keys {
		if k.State != store.DKIMPending {
			continue
		}
		n++
		want, err := TXTRecord(k)
		if err != nil {
			return false, err
		}
		got, err := dns.LookupTXT(ctx, k.Selector+"._domainkey."+domain)
		if err != nil || !containsRecord(got, want) {
			return false, nil
		}
	}
	if n == 0 {
		return false, nil
	}
	return m.activate(ctx, domain, keys)
}

func containsRecord(got []string, want string) bool {
	norm := func(s string) string { return strings.Join(strings.Fields(strings.ReplaceAll(s, ";", " ; ")), "") }
	for _, g := range got {
		if norm(g) == norm(want) {
			return true
		}
	}
	return false
}

// Retire deletes a domain's retiring keys, or the one named by selector.
// An active key is never deleted this way.
func (m *Manager) Retire(ctx context.Context, domain, selector string) (int, error) {
	domain = canonDomain(domain)
	keys, err := m.Keys.DKIMKeyList(ctx, domain)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, k := range keys {
		if selector != "" && k.Selector != selector {
			continue
		}
		if k.State == store.DKIMActive {
			if selector != "" {
				return 0, fmt.Errorf("dkim: %s is active; rotate first: %w", selector, store.ErrInvalid)
			}
			continue
		}
		if selector == "" && k.State != store.DKIMRetiring {
			continue
		}
		if err := m.Keys.DKIMKeyDelete(ctx, domain, k.Selector); err != nil {
			return n, err
		}
		n++
	}
	if selector != "" && n == 0 {
		return 0, fmt.Errorf("dkim: no key %s for %s: %w", selector, domain, store.ErrNotFound)
	}
	return n, nil
}

// addPair generates an Ed25519 and an RSA key in state.
func (m *Manager) addPair(ctx context.Context, domain string, state store.DKIMKeyState) ([]store.DKIMKey, error) {
	if domain == "" {
		return nil, fmt.Errorf("dkim: empty domain: %w", store.ErrInvalid)
	}
	existing, err := m.Keys.DKIMKeyList(ctx, domain)
	if err != nil {
		return nil, err
	}
	taken := map[string]bool{}
	for _, k := range existing {
		taken[k.Selector] = true
	}
	now := m.now().UTC()
	var out []store.DKIMKey
	for _, algo := range []string{Ed25519, RSA} {
		k, err := NewKey(domain, algo)
		if err != nil {
			return nil, err
		}
		k.Selector = selectorName(now, algo, taken)
		taken[k.Selector] = true
		k.State, k.Created, k.Changed = state, now, now
		if err := m.Keys.DKIMKeyAdd(ctx, k); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}

// selectorName names a key after its date and algorithm:
// "fh20260315e" (Ed25519), "fh20260315r" (RSA), with a suffix when taken.
func selectorName(t time.Time, algo string, taken map[string]bool) string {
	base := "fh" + t.Format("20060102") + algo[:1]
	s := base
	for i := 2; taken[s]; i++ {
		s = fmt.Sprintf("%s%d", base, i)
	}
	return s
}

// NewKey generates a key (without selector or state).
func NewKey(domain, algo string) (store.DKIMKey, error) {
	var priv crypto.Signer
	var err error
	switch algo {
	case Ed25519:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case RSA:
		priv, err = rsa.GenerateKey(rand.Reader, rsaBits)
	default:
		return store.DKIMKey{}, fmt.Errorf("dkim: unknown algorithm %q", algo)
	}
	if err != nil {
		return store.DKIMKey{}, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return store.DKIMKey{}, err
	}
	return store.DKIMKey{Domain: domain, Algorithm: algo, PrivateKey: der}, nil
}

// ParseKey decodes a stored key's private key.
func ParseKey(k store.DKIMKey) (crypto.Signer, error) {
	p, err := x509.ParsePKCS8PrivateKey(k.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("dkim: key %s of %s: %w", k.Selector, k.Domain, err)
	}
	switch p := p.(type) {
	case ed25519.PrivateKey:
		return p, nil
	case *rsa.PrivateKey:
		return p, nil
	}
	return nil, fmt.Errorf("dkim: key %s of %s: unsupported type %T", k.Selector, k.Domain, p)
}

// TXTRecord is the DNS TXT record value publishing k's public key at
// <selector>._domainkey.<domain> (RFC 6376 §3.6.1, RFC 8463 §4.2).
func TXTRecord(k store.DKIMKey) (string, error) {
	priv, err := ParseKey(k)
	if err != nil {
		return "", err
	}
	switch pub := priv.Public().(type) {
	case ed25519.PublicKey:
		return "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub), nil
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return "", err
		}
		return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der), nil
	}
	return "", errors.New("dkim: unsupported public key")
}

// Keyring serves the active keys to the Signer, from a cache refreshed
// every TTL so that a rotation made on another node is picked up.
type Keyring struct {
	keys store.DKIMKeys
	ttl  time.Duration

	mu    sync.Mutex // guards cache
	cache map[string]cached
}

type cached struct {
	keys []msgauth.SigningKey
	at   time.Time
}

// NewKeyring returns a Keyring over keys; ttl <= 0 means one minute.
func NewKeyring(keys store.DKIMKeys, ttl time.Duration) *Keyring {
	if ttl <= 0 {
		ttl = time.Minute
	}
	return &Keyring{keys: keys, ttl: ttl, cache: make(map[string]cached)}
}

// SigningKeys implements msgauth.KeySource.
func (r *Keyring) SigningKeys(ctx context.Context, domain string) ([]msgauth.SigningKey, error) {
	domain = canonDomain(domain)
	now := time.Now()
	r.mu.Lock()
	c, ok := r.cache[domain]
	r.mu.Unlock()
	if ok && now.Sub(c.at) < r.ttl {
		return c.keys, nil
	}
	list, err := r.keys.DKIMKeyList(ctx, domain)
	if err != nil {
		return nil, err
	}
	var out []msgauth.SigningKey
	for _, k := range list {
		if k.State != store.DKIMActive {
			continue
		}
		priv, err := ParseKey(k)
		if err != nil {
			return nil, err
		}
		out = append(out, msgauth.SigningKey{Domain: domain, Selector: k.Selector, Key: priv})
	}
	r.mu.Lock()
	r.cache[domain] = cached{keys: out, at: now}
	r.mu.Unlock()
	return out, nil
}

// canonDomain is the form keys are stored and cached under: lower case,
// without the root dot.
func canonDomain(d string) string {
	return strings.ToLower(strings.TrimSuffix(d, "."))
}
