package app

import (
	"context"
	"fmt"
	"time"

	"freehold/internal/delivery"
	"freehold/internal/dnsutil"
	"freehold/internal/maillog"
	"freehold/internal/msgauth"
	"freehold/internal/msgauth/dkimkeys"
	"freehold/internal/queue"
	"freehold/internal/smtpclient"
	"freehold/internal/smtpclient/mtasts"
	"freehold/internal/store"
)

// outbound is everything that sends mail out or judges mail coming in.
type outbound struct {
	resolver *dnsutil.Resolver
	signer   *msgauth.Signer
	verifier *msgauth.Verifier
	runner   *queue.Runner
	keys     *dkimkeys.Manager
}

// outboundStore is what the outbound side needs of the store.
type outboundStore interface {
	store.Store
	store.QueueDelivery
	store.DKIMKeys
	store.MTASTSCache
}

func (a *App) buildOutbound(d *delivery.Deliverer, r *delivery.Resolver, mlog *maillog.Logger) (*outbound, error) {
	st, ok := a.store.(outboundStore)
	if !ok {
		return nil, fmt.Errorf("the store does not implement the outbound queue")
	}
	res, err := dnsutil.New(dnsutil.Options{Server: a.cfg.DNS.Resolver})
	if err != nil {
		return nil, fmt.Errorf("dns resolver: %w", err)
	}
	client := smtpclient.New(smtpclient.Options{
		Resolver: res, Hostname: a.cfg.Hostname,
		MTASTS: mtasts.New(mtasts.Options{Resolver: res, Cache: st, Logger: a.log.With("svc", "mta-sts")}),
	})
	backoff := make([]time.Duration, len(a.cfg.Queue.Retries))
	for i, d := range a.cfg.Queue.Retries {
		backoff[i] = d.D()
	}
	runner := queue.New(queue.Options{
		Store: st, Blobs: a.blobs, Client: client, Local: delivery.NewQueueLocal(d, r),
		Hostname: a.cfg.Hostname, Backoff: backoff, MaxAge: a.cfg.Queue.Expire.D(),
		PerDomain: a.cfg.Queue.PerDomain, Logger: a.log.With("svc", "queue"), MailLog: mlog,
	})
	return &outbound{
		resolver: res,
		signer:   msgauth.NewSigner(dkimkeys.NewKeyring(st, time.Minute)),
		verifier: msgauth.NewVerifier(msgauth.VerifierOptions{Resolver: res, Hostname: a.cfg.Hostname, Logger: a.log.With("svc", "msgauth")}),
		runner:   runner,
		keys:     &dkimkeys.Manager{Keys: st},
	}, nil
}

// activateLoop switches signing to rotated DKIM keys once DNS publishes
// them, checking every domain hourly.
func (a *App) activateLoop(ctx context.Context, o *outbound) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ds, err := a.store.Domains(ctx)
		if err != nil {
			continue
		}
		for _, d := range ds {
			if on, err := o.keys.ActivatePublished(ctx, o.resolver, d.Name); err != nil {
				a.log.Warn("dkim activation", "domain", d.Name, "err", err)
			} else if on {
				a.log.Info("dkim: new keys active", "domain", d.Name)
			}
		}
	}
}
