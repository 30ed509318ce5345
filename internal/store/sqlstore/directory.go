package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"freehold/internal/mail"
	"freehold/internal/store"
)

// AddDomain implements store.Directory.
func (s *Store) AddDomain(ctx context.Context, name string) error {
	d, err := mail.ParseDomain(name)
	if err != nil {
		return fmt.Errorf("%w: %v", store.ErrInvalid, err)
	}
	return s.write(ctx, func(w *wtx) error {
		_, err := w.exec("INSERT INTO domains (name, created) VALUES (?, ?)", d, nanos(w.now))
		return s.uniqueErr(err, "domain "+d)
	})
}

// RemoveDomain implements store.Directory. Aliases of the domain are left
// in place; they stop mattering once mail for the domain is refused.
func (s *Store) RemoveDomain(ctx context.Context, name string) error {
	d, err := mail.ParseDomain(name)
	if err != nil {
		return notFound("domain %q", name)
	}
	return s.write(ctx, func(w *wtx) error {
		var n int64
		if err := w.queryRow("SELECT COUNT(*) FROM accounts WHERE domain = ?", d).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return invalid("domain %s has %d accounts", d, n)
		}
		k, err := w.execN("DELETE FROM domains WHERE name = ?", d)
		if err == nil && k == 0 {
			err = notFound("domain %s", d)
		}
		return err
	})
}

// Domains implements store.Directory.
func (s *Store) Domains(ctx context.Context) ([]store.Domain, error) {
	rows, err := s.read().query(ctx, "SELECT name, created FROM domains ORDER BY name")
	return collect(nil, rows, err, func(sc scanner) (store.Domain, error) {
		var d store.Domain
		var created int64
		err := sc.Scan(&d.Name, &created)
		d.Created = fromNanos(created)
		return d, err
	})
}

// HasDomain implements store.Directory.
func (s *Store) HasDomain(ctx context.Context, name string) (bool, error) {
	d, err := mail.ParseDomain(name)
	if err != nil {
		return false, nil
	}
	var one int
	err = s.read().queryRow(ctx, "SELECT 1 FROM domains WHERE name = ?", d).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// canonicalAddress returns the lookup form of an account or alias address.
func canonicalAddress(s string) (mail.Address, error) {
	a, err := mail.ParseAddress(strings.TrimSpace(s))
	if err != nil {
		return mail.Address{}, fmt.Errorf("%w: %v", store.ErrInvalid, err)
	}
	return mail.Address{Local: strings.ToLower(a.Local), Domain: a.Domain}, nil
}

// CreateAccount implements store.Directory.
func (s *Store) CreateAccount(ctx context.Context, na store.NewAccount) (store.Account, error) {
	addr, err := canonicalAddress(na.Address)
	if err != nil {
		return store.Account{}, err
	}
	if na.QuotaBytes < 0 {
		return store.Account{}, invalid("negative quota")
	}
	var a store.Account
	err = s.write(ctx, func(w *wtx) error {
		var one int
		err := w.queryRow("SELECT 1 FROM domains WHERE name = ?", addr.Domain).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return invalid("domain %s is not served", addr.Domain)
		} else if err != nil {
			return err
		}
		a = store.Account{Address: addr.Key(), PasswordHash: na.PasswordHash, QuotaBytes: na.QuotaBytes, Created: w.now}
		err = w.queryRow(`INSERT INTO accounts (address, domain, password_hash, quota_bytes, created)
			VALUES (?, ?, ?, ?, ?) RETURNING id`,
			a.Address, addr.Domain, a.PasswordHash, a.QuotaBytes, nanos(w.now)).Scan(&a.ID)
		if err != nil {
			return s.uniqueErr(err, "account "+a.Address)
		}
		for _, m := range store.DefaultMailboxes {
			if _, err := w.createMailbox(a.ID, m.Name, m.SpecialUse); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return store.Account{}, err
	}
	return a, nil
}

const accountCols = "id, address, password_hash, quota_bytes, created, msg_count, msg_bytes"

func scanAccount(sc scanner) (store.AccountUsage, error) {
	var u store.AccountUsage
	var created int64
	err := sc.Scan(&u.ID, &u.Address, &u.PasswordHash, &u.QuotaBytes, &created, &u.Messages, &u.Bytes)
	u.Created = fromNanos(created)
	return u, err
}

// Account implements store.Directory.
func (s *Store) Account(ctx context.Context, id store.AccountID) (store.Account, error) {
	u, err := s.AccountUsage(ctx, id)
	return u.Account, err
}

// AccountUsage implements store.Directory. Usage comes from counters
// that every message insert and delete keeps in step, in its transaction.
func (s *Store) AccountUsage(ctx context.Context, id store.AccountID) (store.AccountUsage, error) {
	u, err := scanAccount(s.read().queryRow(ctx, "SELECT "+accountCols+" FROM accounts WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return u, notFound("account %d", id)
	}
	return u, err
}

// AccountByAddress implements store.Directory.
func (s *Store) AccountByAddress(ctx context.Context, address string) (store.Account, error) {
	addr, err := canonicalAddress(address)
	if err != nil {
		return store.Account{}, notFound("account %q", address)
	}
	u, err := scanAccount(s.read().queryRow(ctx, "SELECT "+accountCols+" FROM accounts WHERE address = ?", addr.Key()))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Account{}, notFound("account %s", addr.Key())
	}
	return u.Account, err
}

// Accounts implements store.Directory.
func (s *Store) Accounts(ctx context.Context) ([]store.AccountUsage, error) {
	rows, err := s.read().query(ctx, "SELECT "+accountCols+" FROM accounts ORDER BY id")
	return collect(nil, rows, err, scanAccount)
}

// SetPassword implements store.Directory.
func (s *Store) SetPassword(ctx context.Context, id store.AccountID, hash string) error {
	return s.updateAccount(ctx, id, "UPDATE accounts SET password_hash = ? WHERE id = ?", hash)
}

// SetQuota implements store.Directory.
func (s *Store) SetQuota(ctx context.Context, id store.AccountID, bytes int64) error {
	if bytes < 0 {
		return invalid("negative quota")
	}
	return s.updateAccount(ctx, id, "UPDATE accounts SET quota_bytes = ? WHERE id = ?", bytes)
}

func (s *Store) updateAccount(ctx context.Context, id store.AccountID, q string, v any) error {
	return s.write(ctx, func(w *wtx) error {
		n, err := w.execN(q, v, id)
		if err == nil && n == 0 {
			err = notFound("account %d", id)
		}
		return err
	})
}

// DeleteAccount implements store.Directory. The database cascades the
// delete to mailboxes, messages, threads and the change log.
func (s *Store) DeleteAccount(ctx context.Context, id store.AccountID) error {
	return s.write(ctx, func(w *wtx) error {
		n, err := w.execN("DELETE FROM accounts WHERE id = ?", id)
		if err == nil && n == 0 {
			err = notFound("account %d", id)
		}
		return err
	})
}

// canonicalAlias accepts local@domain or @domain (catch-all).
func canonicalAlias(s string) (string, error) {
	s = strings.TrimSpace(s)
	if d, ok := strings.CutPrefix(s, "@"); ok {
		dom, err := mail.ParseDomain(d)
		if err != nil {
			return "", fmt.Errorf("%w: %v", store.ErrInvalid, err)
		}
		return "@" + dom, nil
	}
	a, err := canonicalAddress(s)
	if err != nil {
		return "", err
	}
	return a.Key(), nil
}

// SetAlias implements store.Directory.
func (s *Store) SetAlias(ctx context.Context, a store.Alias) error {
	addr, err := canonicalAlias(a.Address)
	if err != nil {
		return err
	}
	if len(a.Targets) == 0 {
		return invalid("alias %s has no target", addr)
	}
	return s.write(ctx, func(w *wtx) error {
		_, err := w.exec(`INSERT INTO aliases (address, targets) VALUES (?, ?)
			ON CONFLICT (address) DO UPDATE SET targets = excluded.targets`, addr, jsonText(a.Targets))
		return err
	})
}

// RemoveAlias implements store.Directory.
func (s *Store) RemoveAlias(ctx context.Context, address string) error {
	addr, err := canonicalAlias(address)
	if err != nil {
		return notFound("alias %q", address)
	}
	return s.write(ctx, func(w *wtx) error {
		n, err := w.execN("DELETE FROM aliases WHERE address = ?", addr)
		if err == nil && n == 0 {
			err = notFound("alias %s", addr)
		}
		return err
	})
}

// Alias implements store.Directory.
func (s *Store) Alias(ctx context.Context, address string) (store.Alias, error) {
	addr, err := canonicalAlias(address)
	if err != nil {
		return store.Alias{}, notFound("alias %q", address)
	}
	var targets string
	err = s.read().queryRow(ctx, "SELECT targets FROM aliases WHERE address = ?", addr).Scan(&targets)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Alias{}, notFound("alias %s", addr)
	}
	if err != nil {
		return store.Alias{}, err
	}
	t, err := decodeStrings(targets)
	return store.Alias{Address: addr, Targets: t}, err
}

// Aliases implements store.Directory.
func (s *Store) Aliases(ctx context.Context) ([]store.Alias, error) {
	rows, err := s.read().query(ctx, "SELECT address, targets FROM aliases ORDER BY address")
	return collect(nil, rows, err, func(sc scanner) (store.Alias, error) {
		var a store.Alias
		var targets string
		if err := sc.Scan(&a.Address, &targets); err != nil {
			return a, err
		}
		a.Targets, err = decodeStrings(targets)
		return a, err
	})
}
