package jmap

import (
	"context"
	"time"

	"freehold/internal/store"
)

// Submitter hands an EmailSubmission's message to Freehold's delivery and
// returns once that is durable. internal/app implements it over the
// delivery pipeline.
//
// With HoldUntil set (the user's undo delay, or a send-later time), the
// whole message is queued held until then, local recipients included,
// exactly like an SMTP FUTURERELEASE message: the queue releases it, and
// cancelling removes the held entry (store.QueueDelivery.QueueCancel).
// Without, it delivers to local recipients at once and queues remote ones.
type Submitter interface {
	Submit(ctx context.Context, r SubmitRequest) (SubmitResult, error)
}

// SubmitRequest is one message to send.
type SubmitRequest struct {
	Account store.AccountID
	// Key identifies the submission in traces and logs. A submission
	// whose hand-over was cut short by a crash is submitted again with
	// the same Key, so that an implementation can recognise the duplicate.
	Key string
	// MailFrom is the envelope sender, already checked as the user's, or
	// "" for the null reverse-path of a vacation response (RFC 3834 §3.3).
	MailFrom string
	Rcpts    []string // envelope recipients
	// Raw is the whole message, without its Bcc header. An implementation
	// that DKIM-signs it sends the signature fields followed by Raw:
	// msgauth.Signer.Sign returns only the fields to prepend (nil when
	// the domain has no key).
	Raw []byte
	// Params are the MAIL FROM parameters the client asked for
	// (RFC 8621 §7 envelope), such as ENVID or RET; HOLDFOR and
	// HOLDUNTIL are not among them: they became HoldUntil.
	Params map[string]string
	// HoldUntil, when set, holds the message in the outbound queue until
	// then (FUTURERELEASE, RFC 4865); zero sends it now.
	HoldUntil time.Time
}

// SubmitResult is what delivery made of a SubmitRequest.
type SubmitResult struct {
	// QueueID is the outbound queue entry: the held message, or the one
	// for remote recipients if known (0 when nothing was queued).
	QueueID store.QueueID
	// Rcpts has one entry per recipient that was refused (address →
	// SMTP-style reply); absent recipients were accepted.
	Refused map[string]string
}
