package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"

	"freehold/internal/mail"
	"freehold/internal/store"
)

// ErrFailed is returned for a wrong user name or password. Callers answer
// every failure with the same generic reply so that a client cannot tell
// an unknown user from a wrong password.
var ErrFailed = errors.New("authentication failed")

// Authenticator checks logins against the directory. It keeps a small cache
// of recent successful verifications, keyed by a hash of the stored hash
// and the password, so that a client that logs in many times (a phone
// opening several IMAP connections) does not pay the argon2id cost each time;
// a password change changes the stored hash and so misses the cache.
type Authenticator struct {
	dir store.Directory

	mu    sync.Mutex // guards cache
	cache map[[32]byte]struct{}
}

// cacheSize bounds the success cache; it is cleared when full.
const cacheSize = 4096

// NewAuthenticator returns an Authenticator over dir.
func NewAuthenticator(dir store.Directory) *Authenticator {
	return &Authenticator{dir: dir, cache: make(map[[32]byte]struct{})}
}

// Login authenticates username (an account's address, case-insensitive)
// with password and returns the account.
func (a *Authenticator) Login(ctx context.Context, username, password string) (store.Account, error) {
	addr, err := mail.ParseAddress(username)
	if err != nil {
		return store.Account{}, fmt.Errorf("%w: %v", ErrFailed, err)
	}
	acct, err := a.dir.AccountByAddress(ctx, addr.Key())
	if errors.Is(err, store.ErrNotFound) {
		return store.Account{}, fmt.Errorf("%w: no account %s", ErrFailed, addr.Key())
	}
	if err != nil {
		return store.Account{}, err
	}
	key := sha256.Sum256([]byte(acct.PasswordHash + "\x00" + password))
	a.mu.Lock()
	_, hit := a.cache[key]
	a.mu.Unlock()
	if hit {
		return acct, nil
	}
	ok, err := Verify(acct.PasswordHash, password)
	if err != nil {
		return store.Account{}, fmt.Errorf("account %s: %w", acct.Address, err)
	}
	if !ok {
		return store.Account{}, fmt.Errorf("%w: wrong password for %s", ErrFailed, acct.Address)
	}
	a.mu.Lock()
	if len(a.cache) >= cacheSize {
		clear(a.cache)
	}
	a.cache[key] = struct{}{}
	a.mu.Unlock()
	return acct, nil
}
