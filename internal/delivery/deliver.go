package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"freehold/internal/blob"
	"freehold/internal/maillog"
	"freehold/internal/message"
	"freehold/internal/store"
)

// Store is what the Deliverer writes to.
type Store interface {
	Deliver(ctx context.Context, d store.Delivery) ([]store.Delivered, error)
	Enqueue(ctx context.Context, m store.OutboundMessage) (store.QueueID, error)
}

// Envelope is an accepted SMTP transaction.
type Envelope struct {
	// From is the reverse-path as received, "" for the null path <>.
	From       string
	Recipients []Recipient
	// Account is the authenticated sender (submission); zero for mail
	// received from the internet.
	Account store.AccountID
	Trace   Trace
	// DSN parameters of MAIL (RFC 3461 §4.3, §4.4), kept for the queue.
	DSNRet   string
	DSNEnvID string
}

// Recipient is one accepted RCPT and where it resolved to.
type Recipient struct {
	Address string // as given in RCPT TO
	Route   Route
	Notify  string // RFC 3461 NOTIFY, as given
	ORcpt   string // RFC 3461 ORCPT, as given
}

// Result says where a delivered message went.
type Result struct {
	Blob      string // id of the stored form of local copies
	Delivered []store.Delivered
	Queue     store.QueueID // 0 when nothing was queued, or not known
	Remote    []string      // remote recipients queued
	MessageID string        // the Message-ID header field, if any
}

// DelivererOptions configures a Deliverer.
type DelivererOptions struct {
	// Target receives deliveries and queue entries.
	Target Store
	Blobs  blob.Store
	// Hostname names this server in Received fields.
	Hostname string
	MailLog  *maillog.Logger
	// Clock is the time source; time.Now when nil.
	Clock func() time.Time
}

// Deliverer stores accepted messages. It is safe for concurrent use.
type Deliverer struct {
	target   Store
	blobs    blob.Store
	hostname string
	mlog     *maillog.Logger
	now      func() time.Time
}

// NewDeliverer returns a Deliverer.
func NewDeliverer(o DelivererOptions) (*Deliverer, error) {
	if o.Target == nil || o.Blobs == nil || o.Hostname == "" {
		return nil, errors.New("delivery: Target, Blobs and Hostname are required")
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	return &Deliverer{target: o.Target, blobs: o.Blobs, hostname: o.Hostname, mlog: o.MailLog, now: o.Clock}, nil
}

// Deliver stores raw for every local account its recipients resolved to,
// and queues it for their remote addresses, returning only after all of it
// is durable. The stored form of local copies is written to the blob store
// once, whatever the number of accounts: Return-Path and a Received field
// are prepended (RFC 5321 §4.4), and the Received field names the
// recipient ("for") only when the transaction has exactly one, so that one
// recipient never learns the others. The queued form has no Return-Path
// (RFC 5321 §4.4: only the final delivery adds it). raw is not retained
// after Deliver returns.
//
// An error wrapping store.ErrQuotaExceeded means an account had no room;
// nothing was stored for anyone (store.Delivery is atomic).
func (d *Deliverer) Deliver(ctx context.Context, env Envelope, raw []byte) (Result, error) {
	if env.Trace.Time.IsZero() {
		env.Trace.Time = d.now()
	}
	targets, locals := localTargets(env.Recipients)
	remote := remoteRecipients(env.Recipients)
	if len(targets) == 0 && len(remote) == 0 {
		return Result{}, errors.New("delivery: no recipients")
	}
	forRcpt := ""
	if len(env.Recipients) == 1 {
		forRcpt = env.Recipients[0].Address
	}
	received := env.Trace.header(d.hostname, forRcpt)
	res := Result{Remote: addresses(remote)}

	var delivery store.Delivery
	if len(targets) > 0 {
		envl, preview, att := message.Summarize(raw)
		res.MessageID = envl.MessageID
		rp := returnPath(env.From)
		id, n, err := d.blobs.Put(ctx, io.MultiReader(strings.NewReader(rp), bytes.NewReader(received), bytes.NewReader(raw)))
		if err != nil {
			return Result{}, fmt.Errorf("store blob: %w", err)
		}
		res.Blob = id
		delivery.Message = store.NewMessage{
			BlobID: id, Size: n, ReceivedAt: env.Trace.Time,
			Envelope: envl, Preview: preview, HasAttachment: att,
		}
		delivery.Targets = targets
	}
	if len(remote) > 0 {
		id, n, err := d.blobs.Put(ctx, io.MultiReader(bytes.NewReader(received), bytes.NewReader(raw)))
		if err != nil {
			return Result{}, fmt.Errorf("store outbound blob: %w", err)
		}
		delivery.Outbound = &store.OutboundMessage{
			Account: env.Account, MailFrom: env.From, BlobID: id, Size: n,
			Created: env.Trace.Time, DSNRet: env.DSNRet, DSNEnvID: env.DSNEnvID,
			Recipients: remote,
		}
	}

	if len(targets) > 0 {
		del, err := d.target.Deliver(ctx, delivery)
		if err != nil {
			return Result{}, err
		}
		// When Outbound was set the store enqueued it in the same
		// transaction; it does not return the queue id, so Queue stays 0.
		res.Delivered = del
	} else {
		qid, err := d.target.Enqueue(ctx, *delivery.Outbound)
		if err != nil {
			return Result{}, err
		}
		res.Queue = qid
	}
	d.logResult(ctx, env, res, locals)
	return res, nil
}

// logResult writes one delivered line per copy and one queued line.
func (d *Deliverer) logResult(ctx context.Context, env Envelope, res Result, locals map[store.AccountID]string) {
	for _, c := range res.Delivered {
		d.mlog.Delivered(ctx, maillog.Delivered{
			Conn: env.Trace.ID, From: env.From, Account: locals[c.Account],
			UID: uint32(c.UID), Blob: res.Blob,
		})
	}
	if len(res.Remote) > 0 {
		d.mlog.Queued(ctx, maillog.Queued{Conn: env.Trace.ID, From: env.From, To: res.Remote, Queue: int64(res.Queue)})
	}
}

// localTargets merges the local targets of all recipients, each account
// once, in the order first seen.
func localTargets(rcpts []Recipient) ([]store.DeliveryTarget, map[store.AccountID]string) {
	var out []store.DeliveryTarget
	seen := map[store.AccountID]string{}
	for _, r := range rcpts {
		for _, t := range r.Route.Local {
			if _, ok := seen[t.Account]; ok {
				continue
			}
			seen[t.Account] = t.Address
			out = append(out, store.DeliveryTarget{Account: t.Account})
		}
	}
	return out, seen
}

// remoteRecipients merges the remote targets of all recipients, each
// address once. A remote target reached through an alias records the
// address the sender used as its original recipient (RFC 3461 ORCPT).
func remoteRecipients(rcpts []Recipient) []store.OutboundRecipient {
	var out []store.OutboundRecipient
	seen := map[string]bool{}
	for _, r := range rcpts {
		for _, a := range r.Route.Remote {
			k := strings.ToLower(a)
			if seen[k] {
				continue
			}
			seen[k] = true
			or := r.ORcpt
			if or == "" && !strings.EqualFold(a, r.Address) {
				or = "rfc822;" + r.Address
			}
			out = append(out, store.OutboundRecipient{Address: a, Notify: r.Notify, ORcpt: or})
		}
	}
	return out
}

func addresses(rs []store.OutboundRecipient) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Address)
	}
	return out
}

// returnPath is the Return-Path field of a final delivery (RFC 5321 §4.4,
// RFC 5322 §3.6.7).
func returnPath(from string) string {
	return "Return-Path: <" + headerSafe(from) + ">\r\n"
}
