package queue

import (
	"context"
	"fmt"
	"time"

	"freehold/internal/store"
)

// Admin is what `freehold queue list|show|retry|remove` and a user's
// "scheduled" list call. Kick, when set, wakes the local runner after a
// retry.
type Admin struct {
	Store Store
	Kick  func()
}

// List returns every queued message, oldest first, with its recipients'
// states (pending, attempts, next attempt, last error).
func (a *Admin) List(ctx context.Context) ([]store.OutboundMessage, error) {
	return a.Store.QueueList(ctx)
}

// Show returns one queued message; store.ErrNotFound if it left the queue.
func (a *Admin) Show(ctx context.Context, id store.QueueID) (store.OutboundMessage, error) {
	return a.Store.QueueGet(ctx, id)
}

// Retry makes a message's pending recipients due now, releasing it if it
// was held.
func (a *Admin) Retry(ctx context.Context, id store.QueueID) error {
	if err := a.Store.QueueRetry(ctx, id); err != nil {
		return err
	}
	if a.Kick != nil {
		a.Kick()
	}
	return nil
}

// Remove deletes a message from the queue without a DSN. An attempt in
// progress finishes, but its outcome is dropped.
func (a *Admin) Remove(ctx context.Context, id store.QueueID) error {
	return a.Store.QueueRemove(ctx, id)
}

// Held lists an account's scheduled messages (FUTURERELEASE, "send
// later"), soonest first; acct 0 lists everyone's.
func (a *Admin) Held(ctx context.Context, acct store.AccountID) ([]store.OutboundMessage, error) {
	return a.Store.QueueHeld(ctx, acct)
}

// Cancel removes a scheduled message of acct (0: any account) before its
// release; store.ErrNotFound once it is released or gone.
func (a *Admin) Cancel(ctx context.Context, id store.QueueID, acct store.AccountID) error {
	return a.Store.QueueCancel(ctx, id, acct)
}

// MaxHold is the longest FUTURERELEASE hold we accept: the value to
// announce in EHLO (RFC 4865 §3: "FUTURERELEASE max-interval max-time").
const MaxHold = 60 * 24 * time.Hour

// HoldUntil validates a FUTURERELEASE request (RFC 4865 §3): HOLDFOR
// seconds or a HOLDUNTIL time, and returns the release time. A time in
// the past releases at once (§4.1 allows that or a refusal).
func HoldUntil(now time.Time, holdFor time.Duration, holdUntil time.Time) (time.Time, error) {
	var t time.Time
	switch {
	case holdFor != 0 && !holdUntil.IsZero():
		return time.Time{}, fmt.Errorf("queue: both HOLDFOR and HOLDUNTIL given")
	case holdFor < 0:
		return time.Time{}, fmt.Errorf("queue: negative HOLDFOR")
	case holdFor > 0:
		t = now.Add(holdFor)
	default:
		t = holdUntil
	}
	if t.Sub(now) > MaxHold {
		return time.Time{}, fmt.Errorf("queue: release more than %s ahead", MaxHold)
	}
	if !t.After(now) {
		return time.Time{}, nil
	}
	return t, nil
}
