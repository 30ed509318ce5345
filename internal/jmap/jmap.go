// Package jmap implements JMAP (RFC 8620) with Mail and Submission
// (RFC 8621) over Freehold's store, and four Freehold capabilities:
//
//   - urn:freehold:params:jmap:labels: Label/get, Label/changes, Label/set.
//     A Label is {id, name, color, keyword}; emails carry labels as
//     keywords, so IMAP clients see them too. keyword is derived from the
//     name when not given, cannot be a system keyword, and is immutable.
//   - urn:freehold:params:jmap:settings: Settings/get and Settings/set on
//     the singleton {id: "singleton", undoSendSeconds} (0-30, default 10):
//     how long an EmailSubmission stays pending, and cancellable with
//     undoStatus "canceled", before it is sent.
//   - urn:freehold:params:jmap:html: no methods; its capability object's
//     htmlUrl is the template of GET /jmap/html/{accountId}/{emailId}
//     ?remote=0|1, the email's HTML sanitised for a sandboxed iframe.
//   - urn:freehold:params:jmap:held: HeldMessage/get and HeldMessage/set
//     (destroy only): the account's messages held in the outbound queue
//     by SMTP FUTURERELEASE, which have no EmailSubmission (see
//     submission_held.go).
//
// The package serves the authenticated JMAP resources under /jmap/; who the
// user is comes from the caller (internal/web), which authenticates the
// request and protects cookie-authenticated requests from cross-site use.
//
// VacationResponse (RFC 8621 §8) is stored here and answered by
// Server.AutoReply, which delivery calls for each message it stores for a
// local account from elsewhere; the responses leave through the Submitter
// like any submission (RFC 3834 rules, see vacation.go).
//
// Every type's state string is the account's highest ModSeq: mail, the
// JMAP-only objects and submissions share the store's change log, so a
// change made over IMAP shows in /changes and push, and the other way
// round.
//
// Ids are opaque strings made of a one-letter type prefix and the store's
// integer id ("M12" a mailbox, "E7" an email, "T7" a thread). Every lookup
// is scoped to the authenticated account, so another account's id is
// indistinguishable from an id that does not exist.
package jmap

import (
	"log/slog"
	"net/http"
	"sync"
	"time"

	"freehold/internal/blob"
	"freehold/internal/store"
)

// Capability URNs.
const (
	CapCore     = "urn:ietf:params:jmap:core"
	CapMail     = "urn:ietf:params:jmap:mail"
	CapSubmit   = "urn:ietf:params:jmap:submission"
	CapVacation = "urn:ietf:params:jmap:vacationresponse"
	// CapLabels is Freehold's label definitions (Label/get, Label/set).
	CapLabels = "urn:freehold:params:jmap:labels"
	// CapSettings is Freehold's per-user settings (Settings/get, Settings/set).
	CapSettings = "urn:freehold:params:jmap:settings"
	// CapHTML advertises the sanitised HTML view of an email: its
	// capability object has htmlUrl, a template with {accountId},
	// {emailId} and {remote} ("0" or "1"). It has no methods.
	CapHTML = "urn:freehold:params:jmap:html"
	// CapHeld is Freehold's list of messages held by FUTURERELEASE that
	// are not EmailSubmissions (HeldMessage/get, HeldMessage/set).
	CapHeld = "urn:freehold:params:jmap:held"
)

// Limits are the core capability limits (RFC 8620 §2). Zero fields take
// the defaults set in withDefaults.
type Limits struct {
	MaxSizeUpload         int64
	MaxConcurrentUpload   int
	MaxSizeRequest        int64
	MaxConcurrentRequests int
	MaxCallsInRequest     int
	MaxObjectsInGet       int
	MaxObjectsInSet       int
}

// withDefaults returns l with its zero (or negative) fields set to the
// defaults.
func (l Limits) withDefaults() Limits {
	d := Limits{
		MaxSizeUpload:         50 << 20,
		MaxConcurrentUpload:   4,
		MaxSizeRequest:        10 << 20,
		MaxConcurrentRequests: 8,
		MaxCallsInRequest:     64,
		MaxObjectsInGet:       1000,
		MaxObjectsInSet:       1000,
	}
	if l.MaxSizeUpload > 0 {
		d.MaxSizeUpload = l.MaxSizeUpload
	}
	if l.MaxConcurrentUpload > 0 {
		d.MaxConcurrentUpload = l.MaxConcurrentUpload
	}
	if l.MaxSizeRequest > 0 {
		d.MaxSizeRequest = l.MaxSizeRequest
	}
	if l.MaxConcurrentRequests > 0 {
		d.MaxConcurrentRequests = l.MaxConcurrentRequests
	}
	if l.MaxCallsInRequest > 0 {
		d.MaxCallsInRequest = l.MaxCallsInRequest
	}
	if l.MaxObjectsInGet > 0 {
		d.MaxObjectsInGet = l.MaxObjectsInGet
	}
	if l.MaxObjectsInSet > 0 {
		d.MaxObjectsInSet = l.MaxObjectsInSet
	}
	return d
}

// Store is what the JMAP server needs from the store: the common
// contract plus the JMAP extension (internal/store/jmap.go).
type Store interface {
	store.Store
	store.JMAP
}

// Options configures a Server.
type Options struct {
	Store  Store
	Blobs  blob.Store
	Logger *slog.Logger
	// Submitter sends, or holds in the queue, what EmailSubmission/set
	// creates. Nil disables EmailSubmission/set creation (forbiddenToSend).
	Submitter Submitter
	// Hostname names this server in generated Message-IDs.
	Hostname string
	// Clock returns the current time; nil means time.Now.
	Clock  func() time.Time
	Limits Limits
	// MaxDelayedSend is the longest sendAt/HOLDFOR accepted (RFC 8621
	// §7 maxDelayedSend); zero means 30 days.
	MaxDelayedSend time.Duration
	// HTTPS says clients reach this server over HTTPS even when the
	// request arrives in clear text (from a TLS proxy): the session's
	// URLs then use https.
	HTTPS bool
}

// Server serves JMAP for authenticated accounts.
type Server struct {
	st        Store
	blobs     blob.Store
	log       *slog.Logger
	submitter Submitter
	hostname  string
	now       func() time.Time
	limits    Limits
	maxDelay  time.Duration
	https     bool
	methods   map[string]method
	gzip      gzipPool // compressors for JSON responses

	mu      sync.Mutex // guards the following
	apiBusy map[store.AccountID]int
	counts  map[store.MailboxID]*mailboxIndex // Mailbox counts, see counts.go
	indexed int                               // entries held in counts
	upBusy  map[store.AccountID]int
}

// New returns a Server. Call HandOverUnqueued once at start.
func New(o Options) *Server {
	s := &Server{
		st:        o.Store,
		blobs:     o.Blobs,
		log:       o.Logger,
		submitter: o.Submitter,
		hostname:  o.Hostname,
		now:       o.Clock,
		limits:    o.Limits.withDefaults(),
		maxDelay:  o.MaxDelayedSend,
		https:     o.HTTPS,
		apiBusy:   make(map[store.AccountID]int),
		counts:    make(map[store.MailboxID]*mailboxIndex),
		upBusy:    make(map[store.AccountID]int),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.maxDelay <= 0 {
		s.maxDelay = 30 * 24 * time.Hour
	}
	if s.hostname == "" {
		s.hostname = "localhost"
	}
	s.methods = s.methodTable()
	return s
}

// Authenticate identifies the account a request acts for. It writes the
// failure response itself (401 with a challenge, 403 for a cross-site
// request) and returns false when the request must not proceed.
type Authenticate func(w http.ResponseWriter, r *http.Request) (store.Account, bool)

// Handler returns the handler of the JMAP resources, to be mounted at
// /jmap/: session, api, upload, download, eventsource and html.
func (s *Server) Handler(auth Authenticate) http.Handler {
	mux := http.NewServeMux()
	wrap := func(h func(http.ResponseWriter, *http.Request, store.Account)) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			acct, ok := auth(w, r)
			if !ok {
				return
			}
			h(w, r, acct)
		})
	}
	mux.Handle("GET /jmap/session", wrap(s.serveSession))
	mux.Handle("POST /jmap/api", wrap(s.serveAPI))
	mux.Handle("POST /jmap/api/", wrap(s.serveAPI))
	mux.Handle("POST /jmap/upload/{accountId}/", wrap(s.serveUpload))
	mux.Handle("GET /jmap/download/{accountId}/{blobId}/{name}", wrap(s.serveDownload))
	mux.Handle("GET /jmap/eventsource", wrap(s.serveEventSource))
	mux.Handle("GET /jmap/html/{accountId}/{emailId}", wrap(s.serveHTML))
	return mux
}

// acquire takes one of n slots of busy for acct; it reports false when all
// are taken. release gives it back.
func (s *Server) acquire(busy map[store.AccountID]int, acct store.AccountID, n int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if busy[acct] >= n {
		return false
	}
	busy[acct]++
	return true
}

func (s *Server) release(busy map[store.AccountID]int, acct store.AccountID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if busy[acct] <= 1 {
		delete(busy, acct)
	} else {
		busy[acct]--
	}
}
