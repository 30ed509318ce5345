package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"freehold/internal/delivery"
	"freehold/internal/jmap"
	"freehold/internal/mail"
	"freehold/internal/msgauth"
	"freehold/internal/store"
)

// signer DKIM-signs submitted mail (msgauth.Signer).
type signer interface {
	Sign(ctx context.Context, raw []byte) ([]byte, error)
}

// jmapSubmitter sends what JMAP EmailSubmission submits the way SMTP
// submission does: DKIM-signed at submission, local recipients delivered
// at once, remote ones queued durably, the queue woken; or, with a hold
// (undo delay, send-later), the whole message held in the queue like a
// FUTURERELEASE message.
type jmapSubmitter struct {
	resolver  *delivery.Resolver
	deliverer *delivery.Deliverer
	signer    signer
	kick      func()
	hostname  string
}

var _ jmap.Submitter = (*jmapSubmitter)(nil)

// Submit implements jmap.Submitter. A recipient that does not resolve (an
// unknown local user) is refused alone; the others are delivered.
func (s *jmapSubmitter) Submit(ctx context.Context, r jmap.SubmitRequest) (jmap.SubmitResult, error) {
	res := jmap.SubmitResult{Refused: map[string]string{}}
	env := delivery.Envelope{
		From:     r.MailFrom,
		Account:  r.Account,
		DSNRet:   r.Params["RET"],
		DSNEnvID: r.Params["ENVID"],
		Trace:    delivery.Trace{ID: "jmap-" + r.Key, Protocol: "HTTP", Time: time.Now(), Helo: s.hostname},
	}
	if r.HoldUntil.After(env.Trace.Time) {
		env.HoldUntil = r.HoldUntil
	}
	for _, rc := range r.Rcpts {
		addr, err := mail.ParseAddress(rc)
		if err != nil {
			res.Refused[rc] = "501 5.1.3 bad recipient address"
			continue
		}
		route, err := s.resolver.ResolveSubmission(ctx, addr, rc)
		switch {
		case errors.Is(err, delivery.ErrUnknownRecipient), errors.Is(err, delivery.ErrAliasLoop):
			res.Refused[rc] = "550 5.1.1 no such user here"
			continue
		case err != nil:
			return res, err
		}
		env.Recipients = append(env.Recipients, delivery.Recipient{Address: rc, Route: route})
	}
	if len(env.Recipients) == 0 {
		return res, nil
	}
	raw := r.Raw
	if s.signer != nil {
		// Sign returns the DKIM-Signature fields to put in front of the
		// message; a message whose From names no single domain goes out
		// unsigned, as on SMTP submission.
		sig, err := s.signer.Sign(ctx, raw)
		if err != nil && !errors.Is(err, msgauth.ErrNoFrom) {
			return res, fmt.Errorf("signing: %w", err)
		}
		if len(sig) > 0 {
			raw = append(sig, r.Raw...)
		}
	}
	out, err := s.deliverer.Deliver(ctx, env, raw)
	if errors.Is(err, store.ErrQuotaExceeded) {
		for _, rc := range env.Recipients {
			res.Refused[rc.Address] = "452 4.2.2 mailbox full"
		}
		return res, nil
	}
	if err != nil {
		return res, err
	}
	res.QueueID = out.Queue
	if len(out.Queued) > 0 && s.kick != nil {
		s.kick()
	}
	return res, nil
}
