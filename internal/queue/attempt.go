package queue

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
	"freehold/internal/smtpclient"
	"freehold/internal/store"
)

// ErrPermanent marks a local delivery failure that must not be retried.
var ErrPermanent = errors.New("permanent failure")

// recordTries bounds how often an outcome is offered to the store when
// the store fails; after that the lease expires and the work is redone.
const recordTries = 5

// attempt delivers one work item and records its outcome. It never
// panics out: a panic is logged and the lease left to expire.
func (r *Runner) attempt(ctx context.Context, w store.QueueWork) {
	defer func() {
		if p := recover(); p != nil {
			r.opts.Logger.Error("queue: panic in delivery attempt", "queue", w.Message.ID, "panic", p)
		}
	}()
	// Finish (and record) well before the lease expires, so that no other
	// runner can claim the work while this attempt may still send it.
	margin := min(r.opts.Lease/5, time.Minute)
	actx, cancel := context.WithDeadline(ctx, w.Until.Add(-margin))
	defer cancel()

	out := r.deliver(actx, w)
	// The outcome is recorded even when the attempt was cut off by a
	// shutdown: only the store's own failure leaves it to the lease.
	ctx, cancelRecord := context.WithTimeout(context.WithoutCancel(ctx), margin)
	defer cancelRecord()
	now := r.opts.Now()
	results, failed := r.outcomes(ctx, w, out, now)
	var bounce *store.OutboundMessage
	if len(failed) > 0 {
		var err error
		bounce, err = r.bounce(ctx, w, failed, now)
		if err != nil {
			// Without its bounce the failure is not recorded: the work is
			// retried once the lease expires, and the DSN with it.
			r.opts.Logger.Error("queue: building DSN failed", "queue", w.Message.ID, "err", err)
			return
		}
	}
	r.record(ctx, store.QueueAttempt{ID: w.Message.ID, Lease: w.Lease, Results: results, Bounce: bounce}, w.Until)
}

// deliver runs the attempt: locally for our own domains, else remotely.
func (r *Runner) deliver(ctx context.Context, w store.QueueWork) smtpclient.Result {
	m := w.Message
	if r.opts.Local != nil && r.opts.Local.Handles(ctx, w.Domain) {
		return r.deliverLocal(ctx, w)
	}
	if r.opts.Client == nil {
		res := smtpclient.Result{Rcpts: make([]smtpclient.RcptResult, len(m.Recipients))}
		for i := range res.Rcpts {
			res.Rcpts[i] = smtpclient.RcptResult{Outcome: smtpclient.Temporary, Status: "4.3.5", Detail: "no outbound client configured"}
		}
		return res
	}
	env := smtpclient.Envelope{
		MailFrom: m.MailFrom, Size: m.Size, Ret: m.DSNRet, EnvID: m.DSNEnvID,
		Open: func() (io.ReadCloser, error) { return r.opts.Blobs.Open(ctx, m.BlobID) },
	}
	for _, rc := range m.Recipients {
		env.Rcpts = append(env.Rcpts, smtpclient.Rcpt{Address: rc.Address, Notify: rc.Notify, ORcpt: rc.ORcpt})
	}
	return r.opts.Client.Deliver(ctx, w.Domain, env)
}

func (r *Runner) deliverLocal(ctx context.Context, w store.QueueWork) smtpclient.Result {
	m := w.Message
	res := smtpclient.Result{Host: "local", Rcpts: make([]smtpclient.RcptResult, len(m.Recipients))}
	raw, err := blob.ReadAll(ctx, r.opts.Blobs, m.BlobID)
	if err != nil {
		for i := range res.Rcpts {
			res.Rcpts[i] = smtpclient.RcptResult{Outcome: smtpclient.Temporary, Status: "4.3.0", Detail: "reading the message: " + err.Error()}
		}
		return res
	}
	lm := LocalMessage{MailFrom: m.MailFrom, Raw: raw}
	for _, rc := range m.Recipients {
		lm.Rcpts = append(lm.Rcpts, rc.Address)
	}
	errs := r.opts.Local.DeliverLocal(ctx, lm)
	for i := range res.Rcpts {
		var err error
		if i < len(errs) {
			err = errs[i]
		} else {
			err = errors.New("no result from local delivery")
		}
		switch {
		case err == nil:
			res.Rcpts[i] = smtpclient.RcptResult{Outcome: smtpclient.Delivered, Status: "2.0.0", Detail: "delivered locally"}
		case errors.Is(err, ErrPermanent):
			res.Rcpts[i] = smtpclient.RcptResult{Outcome: smtpclient.Permanent, Status: "5.1.1", Detail: "local delivery: " + err.Error()}
		default:
			res.Rcpts[i] = smtpclient.RcptResult{Outcome: smtpclient.Temporary, Status: "4.2.0", Detail: "local delivery: " + err.Error()}
		}
	}
	return res
}

// failure is one recipient to report in a DSN.
type failure struct {
	rcpt   store.OutboundRecipient
	result smtpclient.RcptResult
	host   string
}

// outcomes turns the attempt's results into the store's, applying the
// backoff and the maximum age, and logs each in the mail-event log.
func (r *Runner) outcomes(ctx context.Context, w store.QueueWork, out smtpclient.Result, now time.Time) ([]store.RecipientResult, []failure) {
	m := w.Message
	expired := !m.Created.IsZero() && now.Sub(m.Created) >= r.opts.MaxAge
	var results []store.RecipientResult
	var failed []failure
	for i, rc := range m.Recipients {
		res := smtpclient.RcptResult{Outcome: smtpclient.Temporary, Status: "4.3.0", Detail: "no result"}
		if i < len(out.Rcpts) {
			res = out.Rcpts[i]
		}
		ev := maillog.Attempt{Queue: int64(m.ID), From: m.MailFrom, To: rc.Address, Host: out.Host,
			Attempt: rc.Attempts, Code: res.Reply.Code, Reason: res.Detail}
		rr := store.RecipientResult{Index: w.Index[i], LastError: res.Detail}
		switch {
		case res.Outcome == smtpclient.Delivered:
			rr.Status, rr.LastError = store.RcptDelivered, ""
			r.opts.MailLog.Sent(ctx, ev)
		case res.Outcome == smtpclient.Permanent:
			rr.Status = store.RcptFailed
			failed = append(failed, failure{rcpt: rc, result: res, host: out.Host})
			r.opts.MailLog.Bounced(ctx, ev)
		case expired:
			// RFC 5321 §4.5.4.1: give up after the retry period, saying
			// why the last attempt failed.
			res.Detail = fmt.Sprintf("delivery time expired after %s; last attempt: %s", r.opts.MaxAge, res.Detail)
			res.Status = "4.4.7"
			res.Outcome = smtpclient.Permanent
			rr.Status, rr.LastError = store.RcptFailed, res.Detail
			ev.Reason = res.Detail
			failed = append(failed, failure{rcpt: rc, result: res, host: out.Host})
			r.opts.MailLog.Bounced(ctx, ev)
		default:
			rr.Status = store.RcptPending
			rr.NextAttempt = now.Add(r.backoff(rc.Attempts))
			ev.Next = rr.NextAttempt
			r.opts.MailLog.Deferred(ctx, ev)
		}
		results = append(results, rr)
	}
	return results, failed
}

// backoff is the wait after the n-th attempt (1-based).
func (r *Runner) backoff(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	if n > len(r.opts.Backoff) {
		n = len(r.opts.Backoff)
	}
	return r.opts.Backoff[n-1]
}

// record stores the outcome, retrying while the store fails and the lease
// holds. A lost lease means another runner took the work over: this
// outcome is dropped, and that runner's counts.
func (r *Runner) record(ctx context.Context, a store.QueueAttempt, until time.Time) {
	for try := 1; ; try++ {
		err := r.opts.Store.QueueRecord(ctx, a)
		if err == nil {
			return
		}
		if errors.Is(err, store.ErrNotFound) {
			r.opts.Logger.Warn("queue: outcome dropped, lease lost or message removed", "queue", a.ID, "err", err)
			return
		}
		if try >= recordTries || r.opts.Now().After(until) {
			r.opts.Logger.Error("queue: recording outcome failed; the attempt will be redone", "queue", a.ID, "err", err)
			return
		}
		time.Sleep(time.Duration(try) * 200 * time.Millisecond)
	}
}

// bounce builds and stores the DSN for failed recipients, or returns nil
// when none is due: the message is itself a bounce (null reverse path),
// or no failed recipient asked for one.
func (r *Runner) bounce(ctx context.Context, w store.QueueWork, failed []failure, now time.Time) (*store.OutboundMessage, error) {
	m := w.Message
	if m.MailFrom == "" {
		return nil, nil // never bounce a bounce
	}
	var report []failure
	for _, f := range failed {
		if notifyFailure(f.rcpt.Notify) {
			report = append(report, f)
		}
	}
	if len(report) == 0 {
		return nil, nil
	}
	orig, err := r.original(ctx, m)
	if err != nil {
		return nil, err
	}
	raw := buildDSN(dsnInput{
		hostname: r.opts.Hostname, sender: m.MailFrom, envID: m.DSNEnvID, arrival: m.Created,
		now: now, failures: report, original: orig, headersOnly: headersOnly(m),
	})
	id, size, err := r.opts.Blobs.Put(ctx, bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	return &store.OutboundMessage{
		MailFrom: "", BlobID: id, Size: size, Created: now,
		Recipients: []store.OutboundRecipient{{Address: m.MailFrom}},
	}, nil
}

// notifyFailure reports whether a NOTIFY parameter (RFC 3461 §4.1) asks
// for failure reports; none given means yes.
func notifyFailure(notify string) bool {
	if notify == "" {
		return true
	}
	for _, n := range strings.Split(strings.ToUpper(notify), ",") {
		if strings.TrimSpace(n) == "FAILURE" {
			return true
		}
	}
	return false
}

// maxFullReturn is the largest message returned whole in a DSN when the
// sender did not choose (RET absent).
const maxFullReturn = 256 * 1024

func headersOnly(m store.OutboundMessage) bool {
	switch m.DSNRet {
	case "HDRS":
		return true
	case "FULL":
		return false
	}
	return m.Size > maxFullReturn
}

// original reads the message to return (its header only, when that is
// all the DSN carries).
func (r *Runner) original(ctx context.Context, m store.OutboundMessage) ([]byte, error) {
	rc, err := r.opts.Blobs.Open(ctx, m.BlobID)
	if err != nil {
		return nil, fmt.Errorf("queue: reading message %s: %w", m.BlobID, err)
	}
	defer rc.Close()
	if !headersOnly(m) {
		return io.ReadAll(rc)
	}
	b, err := io.ReadAll(io.LimitReader(rc, 1<<20))
	if err != nil {
		return nil, err
	}
	header, _ := message.SplitHeader(b)
	return header, nil
}
