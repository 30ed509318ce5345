package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"freehold/internal/auth"
	"freehold/internal/mail"
	"freehold/internal/msgauth/dkimkeys"
	"freehold/internal/store"
)

// AddDomain adds a domain Freehold receives mail for, and generates its
// DKIM keys (Ed25519 and RSA-2048) so that its mail is signed at once.
func AddDomain(ctx context.Context, st store.Store, domain string) error {
	if err := st.AddDomain(ctx, domain); err != nil {
		return err
	}
	keys, ok := st.(store.DKIMKeys)
	if !ok {
		return nil
	}
	if _, err := (&dkimkeys.Manager{Keys: keys}).Generate(ctx, domain); err != nil {
		return fmt.Errorf("domain %s added, but its DKIM keys were not: %w", domain, err)
	}
	return nil
}

// CreateAccount hashes the password and creates the account with its
// default mailboxes. The address's domain must be local.
func CreateAccount(ctx context.Context, st store.Store, address, password string, quota int64) (store.Account, error) {
	addr, err := mail.ParseAddress(address)
	if err != nil {
		return store.Account{}, err
	}
	if strings.Contains(addr.Local, "+") {
		return store.Account{}, fmt.Errorf("%s: '+' is reserved for sub-addresses (alice+tag@)", addr)
	}
	ok, err := st.HasDomain(ctx, addr.Domain)
	if err != nil {
		return store.Account{}, err
	}
	if !ok {
		return store.Account{}, fmt.Errorf("domain %s is not local; add it first", addr.Domain)
	}
	h, err := auth.Hash(password, auth.DefaultParams)
	if err != nil {
		return store.Account{}, err
	}
	return st.CreateAccount(ctx, store.NewAccount{Address: addr.Key(), PasswordHash: h, QuotaBytes: quota})
}

// AliasKey canonicalises an alias address: local@domain or @domain.
func AliasKey(s string) (string, error) {
	if strings.HasPrefix(s, "@") {
		d, err := mail.ParseDomain(s[1:])
		if err != nil {
			return "", err
		}
		return "@" + d, nil
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return "", err
	}
	return a.Key(), nil
}

// AddAlias adds targets to an alias, creating it if needed. The alias's
// domain must be local; targets may be local or remote addresses.
func AddAlias(ctx context.Context, st store.Store, address string, targets []string) (store.Alias, error) {
	key, err := AliasKey(address)
	if err != nil {
		return store.Alias{}, err
	}
	dom := key[strings.LastIndexByte(key, '@')+1:]
	ok, err := st.HasDomain(ctx, dom)
	if err != nil {
		return store.Alias{}, err
	}
	if !ok {
		return store.Alias{}, fmt.Errorf("domain %s is not local; add it first", dom)
	}
	a, err := st.Alias(ctx, key)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Alias{}, err
	}
	a.Address = key
	seen := map[string]bool{}
	for _, t := range a.Targets {
		seen[t] = true
	}
	for _, t := range targets {
		ta, err := mail.ParseAddress(t)
		if err != nil {
			return store.Alias{}, fmt.Errorf("target %q: %w", t, err)
		}
		if k := ta.Key(); !seen[k] {
			seen[k] = true
			a.Targets = append(a.Targets, k)
		}
	}
	if err := st.SetAlias(ctx, a); err != nil {
		return store.Alias{}, err
	}
	return a, nil
}
