package mtasts

import (
	"context"
	"net"
	"net/http"
	"strings"
	"time"
)

// WellKnownPath is where a policy is served (RFC 8461 §3.3).
const WellKnownPath = "/.well-known/mta-sts.txt"

// DefaultMaxAge is the max_age of the policies we publish: one week, as
// RFC 8461 §3.2 suggests for a stable deployment.
const DefaultMaxAge = 7 * 24 * time.Hour

// OwnPolicy is the policy of a domain whose mail we receive on the MX
// hosts mx, in mode.
func OwnPolicy(mode Mode, mx ...string) Policy {
	return Policy{Mode: mode, MX: mx, MaxAge: DefaultMaxAge}
}

// Handler serves our domains' policies at
// https://mta-sts.<domain>/.well-known/mta-sts.txt. The app mounts it for
// requests whose host starts with "mta-sts.".
type Handler struct {
	// PolicyFor returns the policy of one of our domains, false for a
	// domain that is not ours.
	PolicyFor func(ctx context.Context, domain string) (Policy, bool)
}

// ServeHTTP implements http.Handler.
func (h Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != WellKnownPath {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	host := r.Host
	if hp, _, err := net.SplitHostPort(host); err == nil {
		host = hp
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	domain, ok := strings.CutPrefix(host, "mta-sts.")
	if !ok || domain == "" {
		http.NotFound(w, r)
		return
	}
	p, ok := h.PolicyFor(r.Context(), domain)
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Cache-Control", "max-age=300")
	if r.Method == http.MethodHead {
		return
	}
	w.Write([]byte(p.String()))
}
