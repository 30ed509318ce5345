package sqlstore

import "database/sql"

// scanner is what a scan function reads one row from: *sql.Row, *sql.Rows
// or a scanFunc.
type scanner interface{ Scan(dest ...any) error }

// scanFunc adapts a function to scanner.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// collect appends to out what scan makes of every row of rows, and closes
// rows. err is the query's error, so that a query call can be passed
// whole: collect(out, r.query(...), scanX).
func collect[T any](out []T, rows *sql.Rows, err error, scan func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return out, err
	}
	defer rows.Close()
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
