package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"freehold/internal/auth"
	"freehold/internal/autoconfig"
	"freehold/internal/jmap"
	"freehold/internal/smtpclient/mtasts"
	"freehold/internal/web"
	"freehold/internal/webui"
)

// buildWeb returns the HTTP handler: the MTA-STS policy for requests to
// mta-sts.<our domain>, and the web front (webmail, JMAP) for the rest.
func (a *App) buildWeb(authn *auth.Authenticator, submit jmap.Submitter) (http.Handler, *web.Server, error) {
	st, ok := a.store.(jmap.Store)
	if !ok {
		return nil, nil, fmt.Errorf("the store does not implement JMAP")
	}
	ws := web.New(web.Options{
		Store: st, Blobs: a.blobs, Auth: authn, Logger: a.log.With("svc", "web"),
		SPA: webui.Handler(), Hostname: a.cfg.Hostname,
		// Session cookies are Secure when the web is served over HTTPS
		// only; with a plain HTTP listener (loopback, or behind a TLS
		// proxy) they could not be sent back over it.
		SecureCookies: a.cfg.Listen.HTTP == "",
		Submit:        submit,
	})
	// isLocal answers for the MTA-STS policy and autoconfiguration: both
	// speak only for our own domains, and treat a store error as "not ours".
	isLocal := func(ctx context.Context, domain string) bool {
		ok, err := a.store.HasDomain(ctx, domain)
		return err == nil && ok
	}
	policy := mtasts.Handler{PolicyFor: func(ctx context.Context, domain string) (mtasts.Policy, bool) {
		if !isLocal(ctx, domain) {
			return mtasts.Policy{}, false
		}
		return mtasts.OwnPolicy(mtasts.ModeTesting, a.cfg.Hostname), true
	}}
	ac := autoconfig.New(autoconfig.Options{
		Hostname:        a.cfg.Hostname,
		IMAPSPort:       port(a.cfg.Listen.IMAPS, 993),
		SubmissionsPort: port(a.cfg.Listen.Submissions, 465),
		IsLocal:         isLocal,
	})
	mux := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(strings.ToLower(r.Host), "mta-sts."):
			policy.ServeHTTP(w, r)
		case autoconfig.Handles(r.URL.Path):
			ac.ServeHTTP(w, r)
		default:
			ws.ServeHTTP(w, r)
		}
	})
	return mux, ws, nil
}

// port returns the port of a host:port listen address, or def.
func port(addr string, def int) int {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return def
	}
	n, err := strconv.Atoi(p)
	if err != nil || n == 0 {
		return def
	}
	return n
}

// httpServer adapts net/http to the server shape, with optional TLS.
type httpServer struct {
	srv *http.Server
	tls bool
}

func newHTTPServer(h http.Handler, tlsCfg *tls.Config, implicitTLS bool) *httpServer {
	s := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 20 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	if implicitTLS {
		c := tlsCfg.Clone()
		c.NextProtos = []string{"h2", "http/1.1"}
		s.TLSConfig = c
	}
	return &httpServer{srv: s, tls: implicitTLS}
}

func (h *httpServer) Serve(ln net.Listener) error {
	var err error
	if h.tls {
		err = h.srv.ServeTLS(ln, "", "")
	} else {
		err = h.srv.Serve(ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func (h *httpServer) Shutdown(ctx context.Context) error { return h.srv.Shutdown(ctx) }
