package store

import "errors"

// Errors returned by every Store implementation. Callers test them with
// errors.Is; implementations wrap them with detail.
var (
	ErrNotFound      = errors.New("not found")
	ErrExists        = errors.New("already exists")
	ErrQuotaExceeded = errors.New("quota exceeded")
	// ErrInvalid is returned for a request the store refuses on its merits,
	// such as deleting INBOX or naming a mailbox with an empty component.
	ErrInvalid = errors.New("invalid request")
	// ErrChangesTooOld is returned when a client asks for changes since a
	// ModSeq older than the oldest entry still kept in the change log; the
	// client must resynchronise from scratch.
	ErrChangesTooOld = errors.New("changes no longer available")
	ErrClosed        = errors.New("store closed")
)
