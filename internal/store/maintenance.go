package store

import (
	"context"
	"fmt"
	"time"
)

// ChangeLogRetention is how long change log entries are kept at least:
// a client that has not synchronised for longer must resynchronise fully.
const ChangeLogRetention = 7 * 24 * time.Hour

// Maintenance is implemented by stores that an administrator or a
// background job maintains. The SQL backends implement it; callers obtain
// it with a type assertion on a Store.
type Maintenance interface {
	// PruneChanges removes change log entries recorded before before and
	// returns how many were removed. Entries of one ModSeq are removed
	// together, so the log never holds half of a change. A later
	// MailboxChanges or Changes asking for a ModSeq that was pruned fails
	// with ErrChangesTooOld.
	PruneChanges(ctx context.Context, before time.Time) (int64, error)
	// SchemaVersion reports the number of the last applied migration.
	SchemaVersion(ctx context.Context) (int, error)
	// Migrate applies up migrations, or rolls back with down migrations,
	// until the schema is at version target.
	Migrate(ctx context.Context, target int) error
}

// DeliveryError reports which target of a Deliver made it fail. Deliver is
// atomic: when one target fails (unknown account, quota exceeded), nothing
// is stored for any target. Err wraps one of the package's errors, so
// errors.Is(err, ErrQuotaExceeded) works on the whole error; SMTP uses
// Account to refuse only that recipient and retry the others.
type DeliveryError struct {
	Account AccountID
	Err     error
}

func (e *DeliveryError) Error() string {
	return fmt.Sprintf("deliver to account %d: %v", e.Account, e.Err)
}

func (e *DeliveryError) Unwrap() error { return e.Err }
