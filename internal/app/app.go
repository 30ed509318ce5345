// Package app wires Freehold together: it is the only package that knows
// every implementation. It builds the store, the blob store, the delivery
// pipeline and every protocol server from the configuration, listens, and
// shuts everything down in order.
package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"freehold/internal/auth"
	"freehold/internal/blob"
	"freehold/internal/config"
	"freehold/internal/delivery"
	"freehold/internal/imapserver"
	"freehold/internal/jmap"
	"freehold/internal/maillog"
	"freehold/internal/smtpserver"
	"freehold/internal/store"
	"freehold/internal/tlsutil"
)

// shutdownGrace is how long in-flight sessions get to finish after SIGTERM
// before they are told 421/BYE and closed.
const shutdownGrace = 20 * time.Second

// server is what every protocol server offers (STYLE.md §1; net/http's
// Server has the same shape).
type server interface {
	Serve(ln net.Listener) error
	Shutdown(ctx context.Context) error
}

// listener is one configured address and the server behind it.
type listener struct {
	name string
	addr string
	srv  server
}

// App is a configured, not yet running Freehold.
type App struct {
	cfg     config.Config
	log     *slog.Logger
	store   store.Store
	blobs   blob.Store
	tls     *tls.Config
	servers []listener
	// closers run after the servers stopped, before the store closes.
	closers []func()
	// background holds long-running workers (the outbound queue) started
	// by Run and stopped before the store closes.
	background []func(ctx context.Context)
}

// New builds every component. Nothing listens until Run.
func New(ctx context.Context, cfg config.Config, log *slog.Logger) (*App, error) {
	tlsCfg, err := tlsutil.Load(cfg.Path(cfg.TLS.CertFile), cfg.Path(cfg.TLS.KeyFile))
	if err != nil {
		return nil, err
	}
	st, blobs, err := OpenStorage(ctx, cfg)
	if err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, log: log, store: st, blobs: blobs, tls: tlsCfg}
	a.background = append(a.background, func(ctx context.Context) { pruneLoop(ctx, st, log) })
	if err := a.build(); err != nil {
		st.Close()
		return nil, err
	}
	return a, nil
}

// build constructs the servers for every non-empty listen address, the
// outbound queue and the web front.
func (a *App) build() error {
	cfg := a.cfg
	mlog := maillog.New(a.log.With("log", "mail"))
	authn := auth.NewAuthenticator(a.store)
	resolver := delivery.NewResolver(a.store, delivery.ResolverOptions{})
	deliverer, err := delivery.NewDeliverer(delivery.DelivererOptions{
		Target: a.store, Blobs: a.blobs, Hostname: cfg.Hostname, MailLog: mlog,
	})
	if err != nil {
		return err
	}
	out, err := a.buildOutbound(deliverer, resolver, mlog)
	if err != nil {
		return err
	}
	a.background = append(a.background,
		func(ctx context.Context) { out.runner.Run(ctx) },
		func(ctx context.Context) { a.activateLoop(ctx, out) },
	)
	// Every path that may queue mail wakes the runner, so that mail goes
	// out now rather than at the runner's next poll.
	kicking := &kickingDeliverer{d: deliverer, kick: out.runner.Kick, log: a.log}
	submitter := &jmapSubmitter{resolver: resolver, deliverer: deliverer, signer: out.signer,
		kick: out.runner.Kick, hostname: cfg.Hostname}
	handler, ws, err := a.buildWeb(authn, submitter)
	if err != nil {
		return err
	}
	kicking.vacation = ws.JMAP()
	a.closers = append(a.closers, kicking.wait)
	a.background = append(a.background, func(ctx context.Context) { ws.Run(ctx) })

	smtp := func(mode smtpserver.Mode, implicit bool) (server, error) {
		o := smtpserver.Options{
			Mode: mode, Hostname: cfg.Hostname, TLSConfig: a.tls, ImplicitTLS: implicit,
			MaxMessageBytes: cfg.SMTP.MaxMessageBytes, MaxRecipients: cfg.SMTP.MaxRecipients,
			MaxErrors: cfg.SMTP.MaxErrors, IdleTimeout: cfg.SMTP.IdleTimeout.D(),
			Resolver: resolver, Deliverer: kicking, Authenticator: authn, Usage: a.store,
			MaxHold: cfg.Queue.MaxHold.D(),
			Logger:  a.log.With("svc", "smtp-"+mode.String()), MailLog: mlog,
		}
		if mode == smtpserver.ModeMX {
			o.Verifier = out.verifier
		} else {
			o.Signer = out.signer
		}
		return smtpserver.New(o)
	}
	imap := func(implicit bool) server {
		return imapserver.New(imapserver.Options{
			TLSConfig: a.tls, ImplicitTLS: implicit, AllowInsecureAuth: cfg.IMAP.AllowInsecureAuth,
			Store: a.store, Blobs: a.blobs, Auth: authn, Logger: a.log.With("svc", "imap"),
			MaxAppendSize: cfg.IMAP.MaxAppendBytes, AutologoutTimeout: cfg.IMAP.Autologout.D(),
			Hostname: cfg.Hostname,
		})
	}
	add := func(name, addr string, mk func() (server, error)) error {
		if addr == "" {
			return nil
		}
		srv, err := mk()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		a.servers = append(a.servers, listener{name: name, addr: addr, srv: srv})
		return nil
	}
	return errors.Join(
		add("smtp", cfg.Listen.SMTP, func() (server, error) { return smtp(smtpserver.ModeMX, false) }),
		add("submission", cfg.Listen.Submission, func() (server, error) { return smtp(smtpserver.ModeSubmission, false) }),
		add("submissions", cfg.Listen.Submissions, func() (server, error) { return smtp(smtpserver.ModeSubmission, true) }),
		add("imap", cfg.Listen.IMAP, func() (server, error) { return imap(false), nil }),
		add("imaps", cfg.Listen.IMAPS, func() (server, error) { return imap(true), nil }),
		add("http", cfg.Listen.HTTP, func() (server, error) { return newHTTPServer(handler, a.tls, false), nil }),
		add("https", cfg.Listen.HTTPS, func() (server, error) { return newHTTPServer(handler, a.tls, true), nil }),
	)
}

// kickingDeliverer wakes the queue runner after a delivery that queued
// something, and hands each local delivery to the vacation responder.
type kickingDeliverer struct {
	d        *delivery.Deliverer
	kick     func()
	vacation autoReplier
	log      *slog.Logger
	replies  sync.WaitGroup // vacation responses in flight
}

// autoReplier sends vacation responses (jmap.Server).
type autoReplier interface {
	AutoReply(ctx context.Context, r jmap.AutoReplyRequest) (bool, error)
}

// vacationTimeout bounds one vacation response.
const vacationTimeout = 30 * time.Second

func (k *kickingDeliverer) Deliver(ctx context.Context, env delivery.Envelope, raw []byte) (delivery.Result, error) {
	res, err := k.d.Deliver(ctx, env, raw)
	if err != nil {
		return res, err
	}
	if len(res.Queued) > 0 {
		k.kick()
	}
	if k.vacation != nil && len(res.Delivered) > 0 {
		// Vacation responses are answered after the message is stored
		// and without holding up the 250: raw is copied, since the
		// caller reuses it.
		reqs := autoReplies(env, res, raw)
		k.replies.Add(1)
		go func() {
			defer k.replies.Done()
			for _, r := range reqs {
				rctx, cancel := context.WithTimeout(context.Background(), vacationTimeout)
				if _, err := k.vacation.AutoReply(rctx, r); err != nil {
					k.log.Warn("vacation response", "account", r.Account, "err", err)
				}
				cancel()
			}
		}()
	}
	return res, nil
}

// autoReplies lists one vacation request per account that got the
// message, with the address it was sent to.
func autoReplies(env delivery.Envelope, res delivery.Result, raw []byte) []jmap.AutoReplyRequest {
	delivered := map[store.AccountID]bool{}
	for _, d := range res.Delivered {
		delivered[d.Account] = true
	}
	cp := append([]byte(nil), raw...)
	var out []jmap.AutoReplyRequest
	for _, r := range env.Recipients {
		for _, l := range r.Route.Local {
			if delivered[l.Account] {
				delete(delivered, l.Account)
				out = append(out, jmap.AutoReplyRequest{Account: l.Account, MailFrom: env.From, Rcpt: r.Address, Raw: cp})
			}
		}
	}
	return out
}

// wait lets vacation responses in flight finish before the store closes.
func (k *kickingDeliverer) wait() { k.replies.Wait() }

// Run listens on every configured address and serves until ctx is
// cancelled, then shuts down: listeners close, sessions get shutdownGrace
// to finish, background workers stop, and the store closes after its last
// commit. It returns the first listen error, if any.
func (a *App) Run(ctx context.Context) error {
	defer a.store.Close()
	var lns []net.Listener
	for _, l := range a.servers {
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			for _, o := range lns {
				o.Close()
			}
			return fmt.Errorf("listen %s on %s: %w", l.name, l.addr, err)
		}
		lns = append(lns, ln)
	}
	var wg sync.WaitGroup
	for i, l := range a.servers {
		wg.Add(1)
		go func(l listener, ln net.Listener) {
			defer wg.Done()
			a.log.Info("listening", "svc", l.name, "addr", ln.Addr().String())
			if err := l.srv.Serve(ln); err != nil && !isClosed(err) {
				a.log.Error("server stopped", "svc", l.name, "err", err)
			}
		}(l, lns[i])
	}
	bgCtx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	var bg sync.WaitGroup
	for _, run := range a.background {
		bg.Add(1)
		go func() { defer bg.Done(); run(bgCtx) }()
	}
	a.log.Info("freehold started", "hostname", a.cfg.Hostname, "data_dir", a.cfg.DataDir)

	<-ctx.Done()
	a.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	var swg sync.WaitGroup
	for _, l := range a.servers {
		swg.Add(1)
		go func(l listener) {
			defer swg.Done()
			if err := l.srv.Shutdown(sctx); err != nil {
				a.log.Warn("shutdown", "svc", l.name, "err", err)
			}
		}(l)
	}
	swg.Wait()
	wg.Wait()
	for _, c := range a.closers {
		c()
	}
	stopBackground()
	bg.Wait()
	a.log.Info("stopped")
	return nil
}

func isClosed(err error) bool {
	return errors.Is(err, net.ErrClosed) || errors.Is(err, smtpserver.ErrServerClosed) || errors.Is(err, imapserver.ErrServerClosed)
}
