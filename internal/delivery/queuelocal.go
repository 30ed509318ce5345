package delivery

import (
	"context"
	"errors"
	"fmt"

	"freehold/internal/mail"
	"freehold/internal/queue"
	"freehold/internal/store"
)

// RouteResolver is what QueueLocal resolves recipients with; *Resolver
// implements it.
type RouteResolver interface {
	Resolve(ctx context.Context, addr mail.Address) (Route, error)
	IsLocalDomain(ctx context.Context, domain string) (bool, error)
}

// QueueLocal is the outbound queue's way into local mailboxes
// (queue.Local): the queue hands it the work whose domain is ours — the
// local recipients of a held (FUTURERELEASE) message at its release, and
// DSNs to local senders. It stores them as Deliver does, through the
// same store transaction, without adding a Received field: the message
// already carries the one this server added when it accepted it.
type QueueLocal struct {
	d *Deliverer
	r RouteResolver
}

// NewQueueLocal returns a QueueLocal storing through d and resolving
// recipients with r.
func NewQueueLocal(d *Deliverer, r RouteResolver) *QueueLocal {
	return &QueueLocal{d: d, r: r}
}

var _ queue.Local = (*QueueLocal)(nil)

// Handles implements queue.Local. A directory error answers false: the
// queue then treats the domain as remote and delivers through its MX,
// which is this server.
func (q *QueueLocal) Handles(ctx context.Context, domain string) bool {
	ok, err := q.r.IsLocalDomain(ctx, domain)
	return err == nil && ok
}

// DeliverLocal implements queue.Local. Each recipient is resolved again
// (an account may have been deleted, an alias changed since the message
// was queued); remote targets of an alias are queued in the same store
// transaction as the local copies. The result has one entry per
// recipient: nil when delivered, an error wrapping queue.ErrPermanent
// when it never can be (unknown recipient, alias loop), another error
// when the queue should retry (quota, store failure).
//
// A recipient that reaches several accounts (an alias) fails as a whole
// when one of its accounts fails, and is retried for all of them: a
// duplicate in one mailbox is better than a copy lost in another.
func (q *QueueLocal) DeliverLocal(ctx context.Context, m queue.LocalMessage) []error {
	errs := make([]error, len(m.Rcpts))
	var targets []store.DeliveryTarget
	owners := map[store.AccountID][]int{} // account → indexes in m.Rcpts
	locals := map[store.AccountID]string{}
	var remote []Recipient
	for i, a := range m.Rcpts {
		route, err := q.resolve(ctx, a)
		if err != nil {
			errs[i] = err
			continue
		}
		for _, t := range route.Local {
			if _, ok := owners[t.Account]; !ok {
				targets = append(targets, store.DeliveryTarget{Account: t.Account})
				locals[t.Account] = t.Address
			}
			owners[t.Account] = append(owners[t.Account], i)
		}
		if len(route.Remote) > 0 {
			remote = append(remote, Recipient{Address: a, Route: Route{Remote: route.Remote}})
		}
	}
	c := commit{from: m.MailFrom, at: q.d.now(), raw: m.Raw, remote: remoteRecipients(remote)}
	// Each round either stores everything left or drops the account that
	// failed, so it ends after at most len(targets)+1 rounds.
	for {
		c.targets = targets
		if len(c.targets) == 0 && len(c.remote) == 0 {
			return errs
		}
		res, err := q.d.commit(ctx, c)
		if err == nil {
			q.d.logResult(ctx, "", m.MailFrom, res, locals, targets)
			return errs
		}
		var de *store.DeliveryError
		if !errors.As(err, &de) || owners[de.Account] == nil {
			for i := range errs {
				if errs[i] == nil {
					errs[i] = err
				}
			}
			return errs
		}
		for _, i := range owners[de.Account] {
			errs[i] = localError(de.Err)
		}
		targets = dropAccount(targets, de.Account)
	}
}

// resolve finds where a queued local recipient goes, classifying
// failures for the queue.
func (q *QueueLocal) resolve(ctx context.Context, a string) (Route, error) {
	addr, err := mail.ParseAddress(a)
	if err != nil {
		return Route{}, fmt.Errorf("%w: %v", queue.ErrPermanent, err)
	}
	route, err := q.r.Resolve(ctx, addr)
	switch {
	case errors.Is(err, ErrUnknownRecipient), errors.Is(err, ErrAliasLoop), errors.Is(err, ErrNotLocal):
		return Route{}, fmt.Errorf("%w: %v", queue.ErrPermanent, err)
	case err != nil:
		return Route{}, err
	}
	return route, nil
}

// localError classifies a store failure for one account: an account
// that is gone is permanent, a full one (or anything else) temporary.
func localError(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %v", queue.ErrPermanent, err)
	}
	return err
}

func dropAccount(ts []store.DeliveryTarget, acct store.AccountID) []store.DeliveryTarget {
	out := ts[:0:0]
	for _, t := range ts {
		if t.Account != acct {
			out = append(out, t)
		}
	}
	return out
}
