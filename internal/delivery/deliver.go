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
	"freehold/internal/mail"
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
	// DSNEnvID is the decoded ENVID text.
	DSNRet   string
	DSNEnvID string
	// AuthResults is the Authentication-Results header field (RFC 8601)
	// of the inbound checks, CRLF-terminated; empty when none ran. It is
	// placed right below our Received field (see Deliver).
	AuthResults string
	// Quarantine sends local copies to each account's Junk mailbox and
	// marks them $junk (DMARC p=quarantine, RFC 7489 §6.3).
	Quarantine bool
	// HoldUntil, when set, holds the whole message in the outbound queue
	// until then (FUTURERELEASE, RFC 4865), local recipients included.
	HoldUntil time.Time
}

// Recipient is one accepted RCPT and where it resolved to.
type Recipient struct {
	Address string // as given in RCPT TO
	Route   Route
	Notify  string // RFC 3461 NOTIFY, upper case, like "SUCCESS,FAILURE"
	ORcpt   string // RFC 3461 ORCPT as on the wire: addr-type ";" xtext
}

// Result says where a delivered message went.
type Result struct {
	Blob      string // id of the stored form of local copies
	Delivered []store.Delivered
	Queue     store.QueueID // 0 when nothing was queued, or not known
	// Queued lists the recipients put in the outbound queue: the remote
	// ones, or every recipient of a held message.
	Queued    []string
	Hold      time.Time // the release time of a held message
	MessageID string    // the Message-ID header field, if any
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
// once, whatever the number of accounts: Return-Path, a Received field
// (RFC 5321 §4.4) and the Authentication-Results field of the inbound
// checks are prepended, in that order. The Received field names the
// recipient ("for") only when the transaction has exactly one, so that one
// recipient never learns the others. The queued form has no Return-Path
// (RFC 5321 §4.4: only the final delivery adds it). raw is not retained
// after Deliver returns.
//
// Authentication-Results goes below our own Received field and above
// every field the message arrived with: it is a trace field of this hop
// (RFC 8601 §4), so it sits above all earlier trace fields, and readers
// that stop at the first Received of our host still find it next to it.
//
// A held message (env.HoldUntil set) is not delivered now: it is queued
// whole, local recipients included under their account's address, and
// the queue delivers it at release (see QueueLocal).
//
// An error wrapping store.ErrQuotaExceeded means an account had no room;
// nothing was stored for anyone (store.Delivery is atomic).
func (d *Deliverer) Deliver(ctx context.Context, env Envelope, raw []byte) (Result, error) {
	if env.Trace.Time.IsZero() {
		env.Trace.Time = d.now()
	}
	forRcpt := ""
	if len(env.Recipients) == 1 {
		forRcpt = env.Recipients[0].Address
	}
	trace := env.Trace.header(d.hostname, forRcpt)
	if ar := env.AuthResults; ar != "" {
		trace = append(trace, ar...)
		if !strings.HasSuffix(ar, "\r\n") {
			trace = append(trace, "\r\n"...)
		}
	}
	if !env.HoldUntil.IsZero() {
		return d.hold(ctx, env, trace, raw)
	}
	targets, locals := localTargets(env.Recipients)
	if env.Quarantine {
		d.quarantine(ctx, targets)
	}
	res, err := d.commit(ctx, commit{
		from: env.From, account: env.Account, at: env.Trace.Time, trace: trace, raw: raw,
		targets: targets, remote: remoteRecipients(env.Recipients), dsnRet: env.DSNRet, dsnEnvID: env.DSNEnvID,
	})
	if err != nil {
		return Result{}, err
	}
	d.logResult(ctx, env.Trace.ID, env.From, res, locals, targets)
	return res, nil
}

// commit is what one store transaction writes.
type commit struct {
	from     string
	account  store.AccountID
	at       time.Time
	trace    []byte // prepended to raw in both stored forms
	raw      []byte
	targets  []store.DeliveryTarget
	remote   []store.OutboundRecipient
	dsnRet   string
	dsnEnvID string
}

// commit writes the blobs of c and stores the local copies and the queue
// entry in one store transaction.
func (d *Deliverer) commit(ctx context.Context, c commit) (Result, error) {
	if len(c.targets) == 0 && len(c.remote) == 0 {
		return Result{}, errors.New("delivery: no recipients")
	}
	res := Result{Queued: addresses(c.remote)}
	var delivery store.Delivery
	if len(c.targets) > 0 {
		envl, preview, att := message.Summarize(c.raw)
		res.MessageID = envl.MessageID
		rp := returnPath(c.from)
		id, n, err := d.stage(ctx, &delivery, []byte(rp), c.trace, c.raw)
		if err != nil {
			return Result{}, fmt.Errorf("store blob: %w", err)
		}
		res.Blob = id
		delivery.Message = store.NewMessage{
			BlobID: id, Size: n, ReceivedAt: c.at,
			Envelope: envl, Preview: preview, HasAttachment: att,
		}
		delivery.Targets = c.targets
	}
	if len(c.remote) > 0 {
		var id blob.ID
		var n int64
		var err error
		if len(c.targets) > 0 {
			// Stored with the local copies, in their transaction.
			id, n, err = d.stage(ctx, &delivery, c.trace, c.raw)
		} else {
			id, n, err = d.blobs.Put(ctx, io.MultiReader(bytes.NewReader(c.trace), bytes.NewReader(c.raw)))
		}
		if err != nil {
			return Result{}, fmt.Errorf("store outbound blob: %w", err)
		}
		delivery.Outbound = &store.OutboundMessage{
			Account: c.account, MailFrom: c.from, BlobID: id, Size: n,
			Created: c.at, DSNRet: c.dsnRet, DSNEnvID: c.dsnEnvID,
			Recipients: c.remote,
		}
	}
	if len(c.targets) > 0 {
		del, err := d.target.Deliver(ctx, delivery)
		if err != nil {
			return Result{}, err
		}
		// When Outbound was set the store enqueued it in the same
		// transaction; it does not return the queue id, so Queue stays 0.
		res.Delivered = del
		return res, nil
	}
	qid, err := d.target.Enqueue(ctx, *delivery.Outbound)
	if err != nil {
		return Result{}, err
	}
	res.Queue = qid
	return res, nil
}

// stage stores the blob made of parts for the delivery: as one of its
// Blobs, written in its transaction, when the blob store keeps small
// blobs in the database (blob.Inliner) and this one is small; else
// durable before the delivery is (PutEncoded, or Put).
func (d *Deliverer) stage(ctx context.Context, delivery *store.Delivery, parts ...[]byte) (blob.ID, int64, error) {
	raw := bytes.Join(parts, nil)
	in, ok := d.blobs.(blob.Inliner)
	if !ok {
		return d.blobs.Put(ctx, bytes.NewReader(raw))
	}
	id, data, inline := in.Encode(raw)
	if inline {
		delivery.Blobs = append(delivery.Blobs, store.BlobRow{ID: id, Data: data})
		return id, int64(len(raw)), nil
	}
	return id, int64(len(raw)), in.PutEncoded(ctx, id, data)
}

// hold queues a FUTURERELEASE message for all its recipients, local and
// remote, so that nobody receives it before its time.
func (d *Deliverer) hold(ctx context.Context, env Envelope, trace, raw []byte) (Result, error) {
	rcpts := heldRecipients(env.Recipients)
	if len(rcpts) == 0 {
		return Result{}, errors.New("delivery: no recipients")
	}
	id, n, err := d.blobs.Put(ctx, io.MultiReader(bytes.NewReader(trace), bytes.NewReader(raw)))
	if err != nil {
		return Result{}, fmt.Errorf("store held blob: %w", err)
	}
	qid, err := d.target.Enqueue(ctx, store.OutboundMessage{
		Account: env.Account, MailFrom: env.From, BlobID: id, Size: n,
		Created: env.Trace.Time, HoldUntil: env.HoldUntil,
		DSNRet: env.DSNRet, DSNEnvID: env.DSNEnvID, Recipients: rcpts,
	})
	if err != nil {
		return Result{}, err
	}
	res := Result{Queue: qid, Queued: addresses(rcpts), Hold: env.HoldUntil,
		MessageID: message.HeaderEnvelope(raw).MessageID}
	d.mlog.Queued(ctx, maillog.Queued{Conn: env.Trace.ID, From: env.From, To: res.Queued,
		Queue: int64(qid), Blob: id, Hold: env.HoldUntil})
	return res, nil
}

// mailboxLister is implemented by stores that can list an account's
// mailboxes (store.Mail), so that quarantined mail finds the \Junk
// mailbox whatever its name.
type mailboxLister interface {
	Mailboxes(ctx context.Context, acct store.AccountID) ([]store.Mailbox, error)
}

// quarantine points every target at its account's Junk mailbox: the one
// with the \Junk special use (RFC 6154), else the default name "Junk".
// A store that cannot say, or fails to, gets the default name; the store
// falls back to INBOX when no such mailbox exists, which still beats
// losing the message.
func (d *Deliverer) quarantine(ctx context.Context, targets []store.DeliveryTarget) {
	ml, _ := d.target.(mailboxLister)
	for i := range targets {
		t := &targets[i]
		t.Mailbox = junkMailbox
		t.Keywords = append(t.Keywords, store.KeywordJunk)
		if ml == nil {
			continue
		}
		mbs, err := ml.Mailboxes(ctx, t.Account)
		if err != nil {
			continue
		}
		for _, mb := range mbs {
			if mb.SpecialUse == store.UseJunk {
				t.Mailbox = mb.Name
				break
			}
		}
	}
}

// junkMailbox is the name of the Junk mailbox store.DefaultMailboxes
// creates.
const junkMailbox = "Junk"

// logResult writes one delivered line per copy and one queued line.
func (d *Deliverer) logResult(ctx context.Context, conn, from string, res Result, locals map[store.AccountID]string, targets []store.DeliveryTarget) {
	box := map[store.AccountID]string{}
	for _, t := range targets {
		box[t.Account] = t.Mailbox
	}
	for _, c := range res.Delivered {
		d.mlog.Delivered(ctx, maillog.Delivered{
			Conn: conn, From: from, Account: locals[c.Account],
			Mailbox: box[c.Account], UID: uint32(c.UID), Blob: res.Blob,
		})
	}
	if len(res.Queued) > 0 {
		d.mlog.Queued(ctx, maillog.Queued{Conn: conn, From: from, To: res.Queued, Queue: int64(res.Queue)})
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
	var s outboundSet
	s.addRemote(rcpts)
	return s.out
}

// heldRecipients lists every recipient of a held message once: each
// local account under its primary address, then the remote addresses,
// in the order first seen.
func heldRecipients(rcpts []Recipient) []store.OutboundRecipient {
	var s outboundSet
	for _, r := range rcpts {
		for _, t := range r.Route.Local {
			s.add(r, t.Address)
		}
	}
	s.addRemote(rcpts)
	return s.out
}

// outboundSet collects queue recipients, each address once
// (case-insensitively), in the order first added.
type outboundSet struct {
	out  []store.OutboundRecipient
	seen map[string]bool
}

// add adds target a of recipient r unless its address is already in.
func (s *outboundSet) add(r Recipient, a string) {
	k := strings.ToLower(a)
	if s.seen[k] {
		return
	}
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	s.seen[k] = true
	s.out = append(s.out, store.OutboundRecipient{Address: a, Notify: r.Notify, ORcpt: orcpt(r, a)})
}

// addRemote adds the remote targets of all recipients.
func (s *outboundSet) addRemote(rcpts []Recipient) {
	for _, r := range rcpts {
		for _, a := range r.Route.Remote {
			s.add(r, a)
		}
	}
}

// orcpt is the ORCPT of target a of recipient r: the one the client
// gave, else the RCPT address when a differs from it (an alias), so that
// a DSN names the address the sender used (RFC 3461 §4.2).
func orcpt(r Recipient, a string) string {
	if r.ORcpt != "" || strings.EqualFold(a, r.Address) {
		return r.ORcpt
	}
	return mail.OriginalRecipient(r.Address)
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
