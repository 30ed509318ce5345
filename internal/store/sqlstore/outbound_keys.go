package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"freehold/internal/store"
)

var (
	_ store.DKIMKeys    = (*Store)(nil)
	_ store.MTASTSCache = (*Store)(nil)
)

// DKIMKeyAdd implements store.DKIMKeys.
func (s *Store) DKIMKeyAdd(ctx context.Context, k store.DKIMKey) error {
	return s.write(ctx, func(w *wtx) error {
		created, changed := k.Created, k.Changed
		if created.IsZero() {
			created = w.now
		}
		if changed.IsZero() {
			changed = created
		}
		_, err := w.exec(`INSERT INTO dkim_keys (domain, selector, algorithm, private_key, state, created, changed)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			strings.ToLower(k.Domain), k.Selector, k.Algorithm, k.PrivateKey, int64(k.State), nanos(created), nanos(changed))
		return s.uniqueErr(err, "dkim key "+k.Selector+" of "+k.Domain)
	})
}

// DKIMKeyList implements store.DKIMKeys.
func (s *Store) DKIMKeyList(ctx context.Context, domain string) ([]store.DKIMKey, error) {
	domain = strings.ToLower(domain)
	rows, err := s.read().query(ctx, `SELECT domain, selector, algorithm, private_key, state, created, changed
		FROM dkim_keys WHERE domain = ? OR ? = '' ORDER BY domain, created, selector`, domain, domain)
	return collect(nil, rows, err, func(sc scanner) (store.DKIMKey, error) {
		var k store.DKIMKey
		var state, created, changed int64
		err := sc.Scan(&k.Domain, &k.Selector, &k.Algorithm, &k.PrivateKey, &state, &created, &changed)
		k.State, k.Created, k.Changed = store.DKIMKeyState(state), fromNanos(created), fromNanos(changed)
		return k, err
	})
}

// DKIMKeySetState implements store.DKIMKeys.
func (s *Store) DKIMKeySetState(ctx context.Context, domain, selector string, state store.DKIMKeyState) error {
	return s.write(ctx, func(w *wtx) error {
		n, err := w.execN("UPDATE dkim_keys SET state = ?, changed = ? WHERE domain = ? AND selector = ?",
			int64(state), nanos(w.now), strings.ToLower(domain), selector)
		if err == nil && n == 0 {
			err = notFound("dkim key %s of %s", selector, domain)
		}
		return err
	})
}

// DKIMKeyDelete implements store.DKIMKeys.
func (s *Store) DKIMKeyDelete(ctx context.Context, domain, selector string) error {
	return s.write(ctx, func(w *wtx) error {
		n, err := w.execN("DELETE FROM dkim_keys WHERE domain = ? AND selector = ?", strings.ToLower(domain), selector)
		if err == nil && n == 0 {
			err = notFound("dkim key %s of %s", selector, domain)
		}
		return err
	})
}

// MTASTSGet implements store.MTASTSCache.
func (s *Store) MTASTSGet(ctx context.Context, domain string) (store.MTASTSPolicy, error) {
	var p store.MTASTSPolicy
	var fetched, expires int64
	err := s.read().queryRow(ctx, "SELECT domain, policy_id, policy, fetched, expires FROM mtasts_policies WHERE domain = ?",
		strings.ToLower(domain)).Scan(&p.Domain, &p.ID, &p.Policy, &fetched, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return p, notFound("mta-sts policy of %s", domain)
	}
	p.Fetched, p.Expires = fromNanos(fetched), fromNanos(expires)
	return p, err
}

// MTASTSPut implements store.MTASTSCache.
func (s *Store) MTASTSPut(ctx context.Context, p store.MTASTSPolicy) error {
	return s.write(ctx, func(w *wtx) error {
		d := strings.ToLower(p.Domain)
		if _, err := w.exec("DELETE FROM mtasts_policies WHERE domain = ?", d); err != nil {
			return err
		}
		_, err := w.exec("INSERT INTO mtasts_policies (domain, policy_id, policy, fetched, expires) VALUES (?, ?, ?, ?, ?)",
			d, p.ID, p.Policy, nanos(p.Fetched), nanos(p.Expires))
		return err
	})
}
