package jmap

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"

	"freehold/internal/store"
)

// capabilityNames is the set of capabilities a request may use.
func capabilityNames() map[string]bool {
	return map[string]bool{CapCore: true, CapMail: true, CapSubmit: true,
		CapVacation: true, CapLabels: true, CapSettings: true, CapHTML: true, CapHeld: true}
}

// sortProperties are the Email/query sort properties supported
// (RFC 8621 §4.4.2), advertised in emailQuerySortOptions.
var sortProperties = []string{"receivedAt", "sentAt", "size", "from", "to", "subject",
	"hasKeyword", "allInThreadHaveKeyword", "someInThreadHaveKeyword"}

// maxMailboxNameSize is maxSizeMailboxName in octets (RFC 8621 §1.3.1).
const maxMailboxNameSize = 255

// sessionObject is the JMAP Session resource (RFC 8620 §2).
type sessionObject struct {
	Capabilities    map[string]any    `json:"capabilities"`
	Accounts        map[string]any    `json:"accounts"`
	PrimaryAccounts map[string]string `json:"primaryAccounts"`
	Username        string            `json:"username"`
	APIURL          string            `json:"apiUrl"`
	DownloadURL     string            `json:"downloadUrl"`
	UploadURL       string            `json:"uploadUrl"`
	EventSourceURL  string            `json:"eventSourceUrl"`
	State           string            `json:"state"`
}

func (s *Server) session(acct store.Account, base string) sessionObject {
	l := s.limits
	core := map[string]any{
		"maxSizeUpload":         l.MaxSizeUpload,
		"maxConcurrentUpload":   l.MaxConcurrentUpload,
		"maxSizeRequest":        l.MaxSizeRequest,
		"maxConcurrentRequests": l.MaxConcurrentRequests,
		"maxCallsInRequest":     l.MaxCallsInRequest,
		"maxObjectsInGet":       l.MaxObjectsInGet,
		"maxObjectsInSet":       l.MaxObjectsInSet,
		"collationAlgorithms":   []string{"i;ascii-casemap", "i;unicode-casemap"},
	}
	mailAcct := map[string]any{
		"maxMailboxesPerEmail":       nil,
		"maxMailboxDepth":            nil,
		"maxSizeMailboxName":         maxMailboxNameSize,
		"maxSizeAttachmentsPerEmail": l.MaxSizeUpload,
		"emailQuerySortOptions":      sortProperties,
		"mayCreateTopLevelMailbox":   true,
	}
	submitAcct := map[string]any{
		"maxDelayedSend": int64(s.maxDelay.Seconds()),
		"submissionExtensions": map[string][]string{
			"FUTURERELEASE": {strconv.FormatInt(int64(s.maxDelay.Seconds()), 10)},
		},
	}
	empty := map[string]any{}
	id := accountIDString(acct.ID)
	return sessionObject{
		Capabilities: map[string]any{CapCore: core, CapMail: empty, CapSubmit: empty,
			CapVacation: empty, CapLabels: empty, CapSettings: empty, CapHeld: empty,
			CapHTML: map[string]any{"htmlUrl": base + "/jmap/html/{accountId}/{emailId}?remote={remote}"}},
		Accounts: map[string]any{id: map[string]any{
			"name":       acct.Address,
			"isPersonal": true,
			"isReadOnly": false,
			"accountCapabilities": map[string]any{CapMail: mailAcct, CapSubmit: submitAcct,
				CapVacation: empty, CapLabels: empty, CapSettings: empty, CapHeld: empty},
		}},
		PrimaryAccounts: map[string]string{CapMail: id, CapSubmit: id, CapVacation: id,
			CapLabels: id, CapSettings: id, CapHeld: id},
		Username:       acct.Address,
		APIURL:         base + "/jmap/api",
		DownloadURL:    base + "/jmap/download/{accountId}/{blobId}/{name}?accept={type}",
		UploadURL:      base + "/jmap/upload/{accountId}/",
		EventSourceURL: base + "/jmap/eventsource?types={types}&closeafter={closeafter}&ping={ping}",
		State:          sessionState(acct),
	}
}

// sessionState changes when anything in the Session object would: the
// account and the server's configuration are fixed, so a hash of the
// account identity is enough.
func sessionState(acct store.Account) string {
	h := sha256.Sum256([]byte(strconv.FormatInt(int64(acct.ID), 10) + "\x00" + acct.Address))
	return hex.EncodeToString(h[:8])
}

// baseURL is the absolute URL prefix the client reached us at.
func (s *Server) baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || s.https {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// serveSession answers GET /jmap/session (RFC 8620 §2).
func (s *Server) serveSession(w http.ResponseWriter, r *http.Request, acct store.Account) {
	w.Header().Set("Cache-Control", "no-cache, no-store, must-revalidate")
	s.writeJSON(w, r, s.session(acct, s.baseURL(r)))
}
