// Package delivery is the path of a message from an accepted SMTP
// transaction to durable storage: it resolves recipients (accounts,
// aliases, plus-addressing, catch-all), writes the stored form of the
// message once to the blob store with its trace header fields, and hands
// local copies and remote recipients to the store in one atomic Deliver.
package delivery

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"freehold/internal/mail"
	"freehold/internal/store"
)

// Errors of Resolve. Callers map them to replies: ErrUnknownRecipient to
// 550 5.1.1, ErrNotLocal to a relay refusal (or, after authentication, to
// the outbound queue), ErrAliasLoop to 550 5.4.6.
var (
	ErrUnknownRecipient = errors.New("no such recipient")
	ErrNotLocal         = errors.New("domain is not local")
	ErrAliasLoop        = errors.New("alias loop or alias nesting too deep")
)

// DefaultMaxAliasDepth bounds alias expansion: an alias of an alias of ...
// deeper than this fails with ErrAliasLoop.
const DefaultMaxAliasDepth = 10

// maxRouteTargets bounds how many targets one address may expand to, so
// that a huge or combinatorial alias graph cannot stall a session.
const maxRouteTargets = 1000

// Route is where mail for one address goes.
type Route struct {
	Local  []LocalTarget // each account at most once
	Remote []string      // remote addresses, each at most once (by Key)
}

// LocalTarget is one account that receives a copy.
type LocalTarget struct {
	Account store.AccountID
	Address string // the account's primary address
}

// Empty reports whether the route leads nowhere.
func (r Route) Empty() bool { return len(r.Local) == 0 && len(r.Remote) == 0 }

// Directory is what the resolver reads.
type Directory interface {
	HasDomain(ctx context.Context, name string) (bool, error)
	AccountByAddress(ctx context.Context, address string) (store.Account, error)
	Alias(ctx context.Context, address string) (store.Alias, error)
	Aliases(ctx context.Context) ([]store.Alias, error)
}

// ResolverOptions configures a Resolver.
type ResolverOptions struct {
	// MaxAliasDepth bounds alias nesting; DefaultMaxAliasDepth when 0.
	MaxAliasDepth int
}

// Resolver resolves recipient addresses against the directory. It holds no
// cache: every answer reflects the directory at the time of the call.
type Resolver struct {
	dir      Directory
	maxDepth int
}

// NewResolver returns a Resolver over dir.
func NewResolver(dir Directory, o ResolverOptions) *Resolver {
	if o.MaxAliasDepth <= 0 {
		o.MaxAliasDepth = DefaultMaxAliasDepth
	}
	return &Resolver{dir: dir, maxDepth: o.MaxAliasDepth}
}

// IsLocalDomain reports whether Freehold receives mail for domain.
func (r *Resolver) IsLocalDomain(ctx context.Context, domain string) (bool, error) {
	return r.dir.HasDomain(ctx, domain)
}

// Resolve finds where mail for addr goes. For an address in a local domain
// it tries, in order: the account with that address; an alias of that
// address (expanded recursively; targets may be local or remote); the
// address without its +tag (account, then alias); the domain's catch-all
// alias "@domain". An address in no local domain gives ErrNotLocal.
func (r *Resolver) Resolve(ctx context.Context, addr mail.Address) (Route, error) {
	w := r.walker(ctx)
	found, err := w.resolve(addr, 0, true)
	if err != nil {
		return Route{}, err
	}
	if !found || w.route.Empty() {
		if w.loop {
			return Route{}, fmt.Errorf("%s: %w", addr.Key(), ErrAliasLoop)
		}
		return Route{}, fmt.Errorf("%s: %w", addr.Key(), ErrUnknownRecipient)
	}
	return w.route, nil
}

// ResolveSubmission is Resolve for an authenticated sender, who may send
// anywhere: an address in no local domain routes to the outbound queue as
// rcpt, the recipient as the client gave it.
func (r *Resolver) ResolveSubmission(ctx context.Context, addr mail.Address, rcpt string) (Route, error) {
	route, err := r.Resolve(ctx, addr)
	if errors.Is(err, ErrNotLocal) {
		return Route{Remote: []string{rcpt}}, nil
	}
	return route, err
}

// MaySendAs reports whether the account may use addr as its envelope
// sender or From: its primary address, that address with a +tag, or an
// alias whose expansion reaches the account. A catch-all does not count:
// it would let a user send as every unassigned address of the domain.
func (r *Resolver) MaySendAs(ctx context.Context, acct store.Account, addr mail.Address) (bool, error) {
	key := addr.Key()
	if key == acct.Address || addr.StripPlus().Key() == acct.Address {
		return true, nil
	}
	w := r.walker(ctx)
	if _, err := w.resolve(addr, 0, false); err != nil {
		if errors.Is(err, ErrNotLocal) || errors.Is(err, ErrAliasLoop) {
			return false, nil
		}
		return false, err
	}
	return w.route.hasAccount(acct.ID), nil
}

// Identities lists the addresses acct may send as: its primary address
// first, then every alias that reaches it, sorted.
func (r *Resolver) Identities(ctx context.Context, acct store.Account) ([]string, error) {
	aliases, err := r.dir.Aliases(ctx)
	if err != nil {
		return nil, err
	}
	out := []string{acct.Address}
	for _, a := range aliases {
		if strings.HasPrefix(a.Address, "@") {
			continue // catch-all: see MaySendAs
		}
		addr, err := mail.ParseAddress(a.Address)
		if err != nil {
			continue
		}
		ok, err := r.MaySendAs(ctx, acct, addr)
		if err != nil {
			return nil, err
		}
		if ok && addr.Key() != acct.Address {
			out = append(out, addr.Key())
		}
	}
	if len(out) > 1 {
		slices.Sort(out[1:])
	}
	return out, nil
}

// walker is the state of one resolution.
type walker struct {
	ctx    context.Context
	r      *Resolver
	route  Route
	seen   map[string]bool // addresses and catch-alls already expanded
	local  map[string]bool // cache of HasDomain answers
	remote map[string]bool // keys of route.Remote
	loop   bool            // an expansion came back to an address already seen
}

func (r *Resolver) walker(ctx context.Context) *walker {
	return &walker{ctx: ctx, r: r, seen: map[string]bool{}, local: map[string]bool{}, remote: map[string]bool{}}
}

func (w *walker) isLocal(domain string) (bool, error) {
	if v, ok := w.local[domain]; ok {
		return v, nil
	}
	v, err := w.r.dir.HasDomain(w.ctx, domain)
	if err != nil {
		return false, err
	}
	w.local[domain] = v
	return v, nil
}

// resolve adds addr's targets to the route and reports whether addr led
// anywhere. depth is the alias nesting so far.
func (w *walker) resolve(addr mail.Address, depth int, catchAll bool) (bool, error) {
	if depth > w.r.maxDepth {
		return false, fmt.Errorf("%s: %w", addr.Key(), ErrAliasLoop)
	}
	key := addr.Key()
	if w.seen[key] {
		w.loop = true
		return false, nil
	}
	w.seen[key] = true
	local, err := w.isLocal(addr.Domain)
	if err != nil {
		return false, err
	}
	if !local {
		if depth == 0 {
			return false, fmt.Errorf("%s: %w", key, ErrNotLocal)
		}
		w.addRemote(addr.String())
		return true, nil
	}
	// An address that exists as an account or alias is settled there,
	// even when its alias expands to nothing (a loop): falling through to
	// the catch-all would hide the misconfiguration.
	if exists, found, err := w.exact(key, depth); exists || err != nil {
		return found, err
	}
	if stripped := addr.StripPlus(); stripped.Local != addr.Local {
		skey := stripped.Key()
		if !w.seen[skey] {
			w.seen[skey] = true
			if exists, found, err := w.exact(skey, depth); exists || err != nil {
				return found, err
			}
		}
	}
	if !catchAll && depth == 0 {
		return false, nil
	}
	ca := "@" + addr.Domain
	if w.seen[ca] {
		return false, nil
	}
	w.seen[ca] = true
	_, found, err := w.alias(ca, depth)
	return found, err
}

// exact resolves an address key as an account, then as an alias. exists
// says whether either was there; found whether it led anywhere.
func (w *walker) exact(key string, depth int) (exists, found bool, err error) {
	acct, err := w.r.dir.AccountByAddress(w.ctx, key)
	switch {
	case err == nil:
		w.addLocal(acct)
		return true, true, nil
	case !errors.Is(err, store.ErrNotFound):
		return false, false, err
	}
	return w.alias(key, depth)
}

// alias expands the alias named key, if it exists.
func (w *walker) alias(key string, depth int) (exists, found bool, err error) {
	a, err := w.r.dir.Alias(w.ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return false, false, nil
	}
	if err != nil {
		return false, false, err
	}
	for _, t := range a.Targets {
		ta, err := mail.ParseAddress(strings.TrimSpace(t))
		if err != nil {
			continue // a bad target in the directory must not block the others
		}
		ok, err := w.resolve(ta, depth+1, true)
		if err != nil {
			return true, false, err
		}
		found = found || ok
		if len(w.route.Local)+len(w.route.Remote) > maxRouteTargets {
			return true, false, fmt.Errorf("%s expands to more than %d targets: %w", key, maxRouteTargets, ErrAliasLoop)
		}
	}
	return true, found, nil
}

func (w *walker) addLocal(a store.Account) {
	if !w.route.hasAccount(a.ID) {
		w.route.Local = append(w.route.Local, LocalTarget{Account: a.ID, Address: a.Address})
	}
}

func (w *walker) addRemote(addr string) {
	k := strings.ToLower(addr)
	if !w.remote[k] {
		w.remote[k] = true
		w.route.Remote = append(w.route.Remote, addr)
	}
}

func (r Route) hasAccount(id store.AccountID) bool {
	for _, t := range r.Local {
		if t.Account == id {
			return true
		}
	}
	return false
}
