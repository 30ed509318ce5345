// Package web is Freehold's HTTP front: it mounts the JMAP server at
// /jmap/ (authenticating each request), the login and logout endpoints
// with their session cookies, the health endpoints and the webmail SPA.
//
// Authentication: a browser logs in with POST /login and then carries an
// HttpOnly, SameSite=Strict session cookie whose token is kept (hashed) in
// the database, so any node recognises it. Other clients send HTTP Basic
// credentials (the account's address and password) or a Bearer token (a
// session token obtained from /login with "bearer": true).
//
// Cross-site protection for cookie-authenticated requests: every request
// that is not a GET or HEAD must carry "X-Freehold: 1" (a header no other
// site can make a browser send without a CORS preflight, which this server
// never answers) or come, by Sec-Fetch-Site or Origin, from this origin;
// GET requests are refused when Sec-Fetch-Site says they come from another
// site.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"freehold/internal/auth"
	"freehold/internal/blob"
	"freehold/internal/jmap"
)

// Options configures the web front.
type Options struct {
	// Store is the store, with its JMAP extension.
	Store jmap.Store
	Blobs blob.Store
	Auth  *auth.Authenticator
	// Logger receives request errors and login failures.
	Logger *slog.Logger
	// SPA serves everything that is not an API (internal/webui). Nil
	// answers 404 there.
	SPA http.Handler
	// Hostname names this server in generated Message-IDs.
	Hostname string
	// SecureCookies marks the session cookie Secure (and names it with the
	// __Host- prefix). Set it whenever the site is reached over HTTPS,
	// directly or through a TLS proxy.
	SecureCookies bool
	// Clock is the time source; nil means time.Now.
	Clock func() time.Time
	// Submit sends, or holds in the queue, what EmailSubmission/set
	// creates; nil refuses sending.
	Submit jmap.Submitter
	// SessionLifetime is how long an unused web session lasts (default 14
	// days); each use extends it.
	SessionLifetime time.Duration
	// Limits are the JMAP core limits (zero fields take defaults).
	Limits jmap.Limits
	// MaxDelayedSend is the longest send-later accepted (default 30 days).
	MaxDelayedSend time.Duration
	// Ready reports whether this node can serve (GET /readyz); nil checks
	// that the store answers.
	Ready func(ctx context.Context) error
}

// Server is the HTTP handler of the web front.
type Server struct {
	o        Options
	log      *slog.Logger
	now      func() time.Time
	jmap     *jmap.Server
	mux      *http.ServeMux
	lifetime time.Duration
}

// New builds the web front. Run must be called for submissions stored
// before the queue held them to be sent, and expired sessions removed.
func New(o Options) *Server {
	s := &Server{o: o, log: o.Logger, now: o.Clock, lifetime: o.SessionLifetime}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.lifetime <= 0 {
		s.lifetime = 14 * 24 * time.Hour
	}
	s.jmap = jmap.New(jmap.Options{Store: o.Store, Blobs: o.Blobs, Logger: s.log, Submitter: o.Submit,
		Hostname: o.Hostname, Clock: s.now, Limits: o.Limits, MaxDelayedSend: o.MaxDelayedSend, HTTPS: o.SecureCookies})
	mux := http.NewServeMux()
	api := s.jmap.Handler(s.authenticate)
	mux.Handle("/jmap/", api)
	// RFC 8620 §2.2: the well-known URL leads to the session resource. It
	// answers with the session itself rather than redirecting: a client
	// discovering the server saves a round trip, which on a phone's
	// network is the cost of one more request before the first screen.
	mux.Handle("GET /.well-known/jmap", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r2 := r.Clone(r.Context())
		r2.URL.Path, r2.URL.RawPath = "/jmap/session", ""
		api.ServeHTTP(w, r2)
	}))
	mux.HandleFunc("POST /login", s.serveLogin)
	mux.HandleFunc("POST /logout", s.serveLogout)
	mux.HandleFunc("GET /healthz", s.serveHealth)
	mux.HandleFunc("GET /readyz", s.serveReady)
	if o.SPA != nil {
		mux.Handle("/", o.SPA)
	}
	s.mux = mux
	return s
}

// JMAP returns the JMAP server.
func (s *Server) JMAP() *jmap.Server { return s.jmap }

// Run hands EmailSubmissions stored before they were held in the outbound
// queue to the queue, once, then prunes expired sessions until ctx ends.
func (s *Server) Run(ctx context.Context) error {
	if n, err := s.jmap.HandOverUnqueued(ctx); err != nil {
		s.log.Warn("handing submissions to the queue", "err", err)
	} else if n > 0 {
		s.log.Info("submissions handed to the queue", "count", n)
	}
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if _, err := s.o.Store.PruneWebSessions(ctx, s.now()); err != nil && ctx.Err() == nil {
			s.log.Warn("pruning web sessions", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// ServeHTTP implements http.Handler. A panic in a handler is logged with
// its stack and answered with 500; it never takes the server down.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error("http handler panic", "path", r.URL.Path, "remote", r.RemoteAddr, "panic", p,
				"stack", string(debug.Stack()))
			http.Error(w, "internal error", http.StatusInternalServerError)
		}
	}()
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	if h.Get("Referrer-Policy") == "" {
		h.Set("Referrer-Policy", "same-origin")
	}
	s.mux.ServeHTTP(w, r)
}

// serveHealth answers GET /healthz: the process is alive.
func (s *Server) serveHealth(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok\n"))
}

// serveReady answers GET /readyz: the node can serve requests.
func (s *Server) serveReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	var err error
	if s.o.Ready != nil {
		err = s.o.Ready(ctx)
	} else {
		_, err = s.o.Store.Domains(ctx)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err != nil {
		s.log.Warn("not ready", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("not ready\n"))
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}
