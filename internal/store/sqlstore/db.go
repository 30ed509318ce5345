package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// db wraps one *sql.DB: it rebinds placeholders and, where the driver does
// not do it itself (SQLite), keeps prepared statements so that the hot
// queries are compiled once per connection.
type db struct {
	sql   *sql.DB
	rb    *rebinder
	cache bool

	mu    sync.Mutex // guards stmts and wanted
	stmts map[string]*sql.Stmt
	// wanted are queries that a transaction had to prepare for itself;
	// prepareWanted adds them to stmts once no transaction holds the
	// connection, so that later transactions reuse them.
	wanted map[string]struct{}
}

func newDB(d *sql.DB, rb *rebinder, cache bool) *db {
	return &db{sql: d, rb: rb, cache: cache, stmts: make(map[string]*sql.Stmt), wanted: make(map[string]struct{})}
}

// cached returns the prepared statement for q if there is one.
func (d *db) cached(q string) *sql.Stmt {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stmts[q]
}

// want notes that q was prepared inside a transaction.
func (d *db) want(q string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.wanted != nil {
		d.wanted[q] = struct{}{}
	}
}

// prepareWanted prepares the queries noted by want. The caller holds no
// transaction on the pool: with SQLite's single writer connection,
// preparing needs that connection.
func (d *db) prepareWanted(ctx context.Context) {
	d.mu.Lock()
	qs := make([]string, 0, len(d.wanted))
	for q := range d.wanted {
		qs = append(qs, q)
	}
	clear(d.wanted)
	d.mu.Unlock()
	for _, q := range qs {
		// A query that fails to prepare here failed in its transaction
		// too; it is simply prepared there again next time.
		_, _ = d.stmt(ctx, q)
	}
}

// stmt returns the prepared statement for q (already rebound).
func (d *db) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if st, ok := d.stmts[q]; ok {
		return st, nil
	}
	st, err := d.sql.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	d.stmts[q] = st
	return st, nil
}

func (d *db) close() error {
	d.mu.Lock()
	for _, st := range d.stmts {
		st.Close()
	}
	d.stmts, d.wanted = nil, nil
	d.mu.Unlock()
	return d.sql.Close()
}

// runner runs queries on a db, inside tx when tx is not nil.
//
// Outside a transaction, statements come from the db's cache. Inside one,
// a statement of the db's cache is bound to the transaction (its
// connection's compiled form is reused); one not in the cache yet is
// prepared on the transaction, and noted so that the committer adds it to
// the cache between transactions: preparing it on the db inside the
// transaction would need a second connection while the transaction holds
// one, which deadlocks the single SQLite writer. stmts caches either for
// the transaction's lifetime.
type runner struct {
	d     *db
	tx    *sql.Tx
	stmts map[string]*sql.Stmt // per-transaction cache; nil means none
}

func (r runner) prepared(ctx context.Context, q string) (*sql.Stmt, string, error) {
	q = r.d.rb.rebind(q)
	if !r.d.cache {
		return nil, q, nil
	}
	if r.tx == nil {
		st, err := r.d.stmt(ctx, q)
		return st, q, err
	}
	if r.stmts == nil {
		return nil, q, nil
	}
	if st, ok := r.stmts[q]; ok {
		return st, q, nil
	}
	if parent := r.d.cached(q); parent != nil {
		st := r.tx.StmtContext(ctx, parent)
		r.stmts[q] = st
		return st, q, nil
	}
	st, err := r.tx.PrepareContext(ctx, q)
	if err != nil {
		return nil, q, err
	}
	r.stmts[q] = st
	r.d.want(q)
	return st, q, nil
}

func (r runner) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, q, err := r.prepared(ctx, q)
	switch {
	case err != nil:
		return nil, err
	case st != nil:
		return st.QueryContext(ctx, args...)
	case r.tx != nil:
		return r.tx.QueryContext(ctx, q, args...)
	default:
		return r.d.sql.QueryContext(ctx, q, args...)
	}
}

// row is a *sql.Row that can also carry a preparation error.
type row struct {
	r   *sql.Row
	err error
}

func (r row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	return r.r.Scan(dest...)
}

func (r runner) queryRow(ctx context.Context, q string, args ...any) row {
	st, q, err := r.prepared(ctx, q)
	switch {
	case err != nil:
		return row{err: err}
	case st != nil:
		return row{r: st.QueryRowContext(ctx, args...)}
	case r.tx != nil:
		return row{r: r.tx.QueryRowContext(ctx, q, args...)}
	default:
		return row{r: r.d.sql.QueryRowContext(ctx, q, args...)}
	}
}

func (r runner) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	st, q, err := r.prepared(ctx, q)
	switch {
	case err != nil:
		return nil, err
	case st != nil:
		return st.ExecContext(ctx, args...)
	case r.tx != nil:
		return r.tx.ExecContext(ctx, q, args...)
	default:
		return r.d.sql.ExecContext(ctx, q, args...)
	}
}

// execN runs an UPDATE or DELETE and returns the number of rows affected.
func (r runner) execN(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := r.exec(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
