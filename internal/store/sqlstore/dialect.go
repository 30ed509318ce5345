package sqlstore

import (
	"strconv"
	"strings"
	"sync"
)

// Dialect is what differs between the SQL engines sqlstore runs on. The
// engine packages (sqlite, postgres) build one and pass it to New; sqlstore
// itself imports no driver.
type Dialect struct {
	// Name selects the migrations directory migrations/<Name>.
	Name string
	// Numbered rewrites the "?" placeholders of sqlstore's queries to
	// $1, $2, ... (PostgreSQL).
	Numbered bool
	// IsUniqueViolation reports whether err is a unique constraint
	// violation; sqlstore maps it to store.ErrExists.
	IsUniqueViolation func(error) bool
	// IsRetryable reports whether a request that failed with err can be
	// run again (deadlock or serialization failure between nodes). Nil
	// means never.
	IsRetryable func(error) bool
	// Notify makes every write transaction announce the accounts it
	// changed with pg_notify on NotifyChannel, for the other nodes.
	Notify bool
	// Direct runs each write in its own transaction, in the caller's
	// goroutine, instead of through the group committer. For PostgreSQL,
	// which already flushes the WAL of concurrent commits together, and
	// whose row locks would make batches of many accounts deadlock with
	// other nodes' batches.
	Direct bool
	// LockAccount, if set, is a query taking an account id that locks
	// the account's row until commit (SELECT ... FOR UPDATE).
	LockAccount string
	// MigrationLock, if set, is executed first in the migration
	// transaction, to keep nodes starting together from migrating twice.
	MigrationLock string
}

// NotifyChannel is the PostgreSQL channel that announces committed
// changes, with payload "accountid:modseq".
const NotifyChannel = "freehold_changes"

// rebinder rewrites placeholders once per distinct query and caches the
// result; queries are compile-time constants or built from a bounded set of
// shapes, so the cache stays small.
type rebinder struct {
	numbered bool
	cache    sync.Map // string -> string
}

func (r *rebinder) rebind(q string) string {
	if !r.numbered {
		return q
	}
	if v, ok := r.cache.Load(q); ok {
		return v.(string)
	}
	out := numberPlaceholders(q)
	r.cache.Store(q, out)
	return out
}

// numberPlaceholders rewrites ? placeholders as $1, $2, … (PostgreSQL).
// sqlstore's queries never contain '?' inside a string literal.
func numberPlaceholders(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}
