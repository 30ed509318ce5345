package jmap

import (
	"net/http"

	"freehold/internal/store"
)

// serveHTML handles GET /jmap/html/{accountId}/{emailId}: see html_body.go.
func (s *Server) serveHTML(w http.ResponseWriter, r *http.Request, acct store.Account) {
	http.NotFound(w, r)
}
