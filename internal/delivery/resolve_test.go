package delivery

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"freehold/internal/mail"
	"freehold/internal/store"
)

// memDir is a directory held in maps, for resolver tests.
type memDir struct {
	domains  map[string]bool
	accounts map[string]store.Account
	aliases  map[string][]string
}

func newMemDir(domains ...string) *memDir {
	d := &memDir{domains: map[string]bool{}, accounts: map[string]store.Account{}, aliases: map[string][]string{}}
	for _, x := range domains {
		d.domains[x] = true
	}
	return d
}

func (d *memDir) account(addr string) store.Account {
	a := store.Account{ID: store.AccountID(len(d.accounts) + 1), Address: addr}
	d.accounts[addr] = a
	return a
}

func (d *memDir) HasDomain(_ context.Context, n string) (bool, error) {
	return d.domains[n], nil
}

func (d *memDir) AccountByAddress(_ context.Context, a string) (store.Account, error) {
	if acct, ok := d.accounts[a]; ok {
		return acct, nil
	}
	return store.Account{}, store.ErrNotFound
}

func (d *memDir) Alias(_ context.Context, a string) (store.Alias, error) {
	if t, ok := d.aliases[a]; ok {
		return store.Alias{Address: a, Targets: t}, nil
	}
	return store.Alias{}, store.ErrNotFound
}

func (d *memDir) Aliases(context.Context) ([]store.Alias, error) {
	var out []store.Alias
	for a, t := range d.aliases {
		out = append(out, store.Alias{Address: a, Targets: t})
	}
	return out, nil
}

func addr(t *testing.T, s string) mail.Address {
	t.Helper()
	a, err := mail.ParseAddress(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// describe renders a route as "local:a,b remote:x" for comparison.
func describe(r Route) string {
	var l []string
	for _, t := range r.Local {
		l = append(l, t.Address)
	}
	return "local:" + strings.Join(l, ",") + " remote:" + strings.Join(r.Remote, ",")
}

func TestResolve(t *testing.T) {
	d := newMemDir("example.org", "example.net")
	d.account("alice@example.org")
	d.account("bob@example.org")
	d.account("carol@example.net")
	d.aliases["team@example.org"] = []string{"alice@example.org", "Bob@Example.org", "sales@example.org", "ext@remote.example"}
	d.aliases["sales@example.org"] = []string{"carol@example.net", "alice@example.org"}
	d.aliases["loop1@example.org"] = []string{"loop2@example.org"}
	d.aliases["loop2@example.org"] = []string{"loop1@example.org"}
	d.aliases["half@example.org"] = []string{"half@example.org", "bob@example.org"}
	d.aliases["ghost@example.org"] = []string{"nobody@example.org"}
	d.aliases["@example.net"] = []string{"carol@example.net"}
	d.aliases["list+x@example.org"] = []string{"bob@example.org"}
	r := NewResolver(d, ResolverOptions{})
	ctx := context.Background()

	cases := []struct {
		in   string
		want string
		err  error
	}{
		{"alice@example.org", "local:alice@example.org remote:", nil},
		{"ALICE@EXAMPLE.ORG", "local:alice@example.org remote:", nil},
		{"alice+lists@example.org", "local:alice@example.org remote:", nil},
		{"team@example.org", "local:alice@example.org,bob@example.org,carol@example.net remote:ext@remote.example", nil},
		{"team+x@example.org", "local:alice@example.org,bob@example.org,carol@example.net remote:ext@remote.example", nil},
		{"list+x@example.org", "local:bob@example.org remote:", nil},
		{"nobody@example.org", "", ErrUnknownRecipient},
		{"ghost@example.org", "", ErrUnknownRecipient},
		{"loop1@example.org", "", ErrAliasLoop},
		{"half@example.org", "local:bob@example.org remote:", nil},
		{"anything@example.net", "local:carol@example.net remote:", nil},
		{"someone@elsewhere.example", "", ErrNotLocal},
	}
	for _, c := range cases {
		got, err := r.Resolve(ctx, addr(t, c.in))
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("%s: err %v, want %v", c.in, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if describe(got) != c.want {
			t.Errorf("%s: got %s, want %s", c.in, describe(got), c.want)
		}
	}
}

func TestResolveDepthLimit(t *testing.T) {
	d := newMemDir("example.org")
	d.account("end@example.org")
	for i := 0; i < 5; i++ {
		d.aliases["a"+string(rune('0'+i))+"@example.org"] = []string{"a" + string(rune('1'+i)) + "@example.org"}
	}
	d.aliases["a5@example.org"] = []string{"end@example.org"}
	ctx := context.Background()
	if _, err := NewResolver(d, ResolverOptions{MaxAliasDepth: 3}).Resolve(ctx, addr(t, "a0@example.org")); !errors.Is(err, ErrAliasLoop) {
		t.Errorf("depth 6 chain with limit 3: %v", err)
	}
	got, err := NewResolver(d, ResolverOptions{}).Resolve(ctx, addr(t, "a0@example.org"))
	if err != nil || describe(got) != "local:end@example.org remote:" {
		t.Errorf("depth 6 chain with default limit: %s %v", describe(got), err)
	}
}

func TestMaySendAs(t *testing.T) {
	d := newMemDir("example.org")
	alice := d.account("alice@example.org")
	d.account("bob@example.org")
	d.aliases["team@example.org"] = []string{"bob@example.org", "alice@example.org"}
	d.aliases["info@example.org"] = []string{"team@example.org"}
	d.aliases["bobs@example.org"] = []string{"bob@example.org"}
	d.aliases["@example.org"] = []string{"alice@example.org"}
	r := NewResolver(d, ResolverOptions{})
	ctx := context.Background()
	for in, want := range map[string]bool{
		"alice@example.org":       true,
		"Alice+x@example.org":     true,
		"team@example.org":        true,
		"info@example.org":        true,
		"bob@example.org":         false,
		"bobs@example.org":        false,
		"random@example.org":      false, // catch-all does not grant send-as
		"alice@elsewhere.example": false,
	} {
		got, err := r.MaySendAs(ctx, alice, addr(t, in))
		if err != nil || got != want {
			t.Errorf("MaySendAs(%s) = %v, %v; want %v", in, got, err, want)
		}
	}
	ids, err := r.Identities(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, []string{"alice@example.org", "info@example.org", "team@example.org"}) {
		t.Errorf("identities %v", ids)
	}
}

func TestResolveSubmission(t *testing.T) {
	dir := newMemDir("example.org")
	alice := dir.account("alice@example.org")
	r := NewResolver(dir, ResolverOptions{})
	ctx := context.Background()
	remote, _ := mail.ParseAddress("Bob@Remote.example")
	route, err := r.ResolveSubmission(ctx, remote, "Bob@Remote.example")
	if err != nil || len(route.Local) != 0 || len(route.Remote) != 1 || route.Remote[0] != "Bob@Remote.example" {
		t.Errorf("remote: %+v, %v", route, err)
	}
	local, _ := mail.ParseAddress("alice@example.org")
	route, err = r.ResolveSubmission(ctx, local, "alice@example.org")
	if err != nil || len(route.Local) != 1 || route.Local[0].Account != alice.ID {
		t.Errorf("local: %+v, %v", route, err)
	}
	nobody, _ := mail.ParseAddress("nobody@example.org")
	if _, err := r.ResolveSubmission(ctx, nobody, "nobody@example.org"); !errors.Is(err, ErrUnknownRecipient) {
		t.Errorf("unknown local user: %v", err)
	}
}
