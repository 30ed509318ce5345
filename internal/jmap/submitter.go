package jmap

import (
	"context"

	"freehold/internal/store"
)

// Submitter hands a released EmailSubmission to Freehold's delivery: it
// delivers to local recipients at once and queues remote ones (through
// store.Deliver with Outbound, or store.Enqueue), and returns once that is
// durable. internal/app implements it over the delivery pipeline.
//
// The JMAP server keeps a submission in the database until its time has
// come (the user's undo delay, or a send-later time), so Submit is only
// called for messages to send now, and cancelling happens before it.
type Submitter interface {
	Submit(ctx context.Context, r SubmitRequest) (SubmitResult, error)
}

// SubmitRequest is one message to send.
type SubmitRequest struct {
	Account store.AccountID
	// Key identifies the submission. A submission whose release was cut
	// short by a crash is submitted again with the same Key, so that an
	// implementation can recognise the duplicate.
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
	// HOLDUNTIL were already honoured by the submission's hold.
	Params map[string]string
}

// SubmitResult is what delivery made of a SubmitRequest.
type SubmitResult struct {
	// QueueID is the outbound queue entry for remote recipients, if any.
	QueueID store.QueueID
	// Rcpts has one entry per recipient that was refused (address →
	// SMTP-style reply); absent recipients were accepted.
	Refused map[string]string
}
