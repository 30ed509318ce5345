package jmap

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Request-level error types (RFC 8620 §3.6.1). They are answered with an
// RFC 7807 problem details object.
const (
	probUnknownCapability = "urn:ietf:params:jmap:error:unknownCapability"
	probNotJSON           = "urn:ietf:params:jmap:error:notJSON"
	probNotRequest        = "urn:ietf:params:jmap:error:notRequest"
	probLimit             = "urn:ietf:params:jmap:error:limit"
)

// problem is an RFC 7807 problem details object.
type problem struct {
	Type   string `json:"type"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Limit names the limit that was exceeded, for probLimit (RFC 8620
	// §3.6.1) and for oversized uploads.
	Limit string `json:"limit,omitempty"`
	// MaxSize is the advertised limit in octets for an oversized upload.
	MaxSize int64 `json:"maxSize,omitempty"`
}

// writeProblem answers a request-level error.
func writeProblem(w http.ResponseWriter, p problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// WriteProblem answers a request-level error with a problem of type
// about:blank, for the HTTP endpoints served beside the API.
func WriteProblem(w http.ResponseWriter, status int, detail string) {
	writeProblem(w, problem{Type: "about:blank", Status: status, Detail: detail})
}

// Method-level error types (RFC 8620 §3.6.2, §5 and RFC 8621).
const (
	errServerUnavailable      = "serverUnavailable"
	errServerFail             = "serverFail"
	errServerPartialFail      = "serverPartialFail"
	errUnknownMethod          = "unknownMethod"
	errInvalidArguments       = "invalidArguments"
	errInvalidResultReference = "invalidResultReference"
	errForbidden              = "forbidden"
	errAccountNotFound        = "accountNotFound"
	errAccountNotSupported    = "accountNotSupportedByMethod"
	errAccountReadOnly        = "accountReadOnly"
	errRequestTooLarge        = "requestTooLarge"
	errStateMismatch          = "stateMismatch"
	errCannotCalculateChanges = "cannotCalculateChanges"
	errAnchorNotFound         = "anchorNotFound"
	errUnsupportedSort        = "unsupportedSort"
	errUnsupportedFilter      = "unsupportedFilter"
	errTooManyChanges         = "tooManyChanges"
	errFromAccountNotFound    = "fromAccountNotFound"
)

// MethodError is a method-level error: the method's response becomes
// ["error", {"type": ..., "description": ...}, callId].
type MethodError struct {
	Type        string `json:"type"`
	Description string `json:"description,omitempty"`
}

func (e *MethodError) Error() string { return e.Type + ": " + e.Description }

func methodErr(typ, format string, args ...any) *MethodError {
	return &MethodError{Type: typ, Description: fmt.Sprintf(format, args...)}
}

func invalidArgs(format string, args ...any) *MethodError {
	return methodErr(errInvalidArguments, format, args...)
}

// SetError is a per-object error of a /set, /copy or /import (RFC 8620
// §5.3). Properties lists the offending properties for invalidProperties.
type SetError struct {
	Type        string   `json:"type"`
	Description string   `json:"description,omitempty"`
	Properties  []string `json:"properties,omitempty"`
	// ExistingID is set for alreadyExists (RFC 8620 §5.4, RFC 8621 §4.8).
	ExistingID string `json:"existingId,omitempty"`
	// MaxSize is set for tooLarge where a limit applies.
	MaxSize int64 `json:"maxSize,omitempty"`
	// NotFound lists blob ids for blobNotFound (RFC 8621 §4.8).
	NotFound []string `json:"notFound,omitempty"`
	// InvalidRecipients lists addresses for invalidRecipients (RFC 8621 §7.5).
	InvalidRecipients []string `json:"invalidRecipients,omitempty"`
}

func (e *SetError) Error() string { return e.Type + ": " + e.Description }

// SetError types.
const (
	setForbidden         = "forbidden"
	setOverQuota         = "overQuota"
	setTooLarge          = "tooLarge"
	setRateLimit         = "rateLimit"
	setNotFound          = "notFound"
	setInvalidPatch      = "invalidPatch"
	setWillDestroy       = "willDestroy"
	setInvalidProperties = "invalidProperties"
	setSingleton         = "singleton"
	setAlreadyExists     = "alreadyExists"
	setMailboxHasChild   = "mailboxHasChild"
	setMailboxHasEmail   = "mailboxHasEmail"
	setBlobNotFound      = "blobNotFound"
	setTooManyKeywords   = "tooManyKeywords"
	setTooManyMailboxes  = "tooManyMailboxes"
	setInvalidEmail      = "invalidEmail"
	setTooManyRecipients = "tooManyRecipients"
	setNoRecipients      = "noRecipients"
	setInvalidRecipients = "invalidRecipients"
	setForbiddenMailFrom = "forbiddenMailFrom"
	setForbiddenFrom     = "forbiddenFrom"
	setForbiddenToSend   = "forbiddenToSend"
	setCannotUnsend      = "cannotUnsend"
	setEmailNotFound     = "emailNotFound"
	setInvalidIdentity   = "invalidIdentity"
)

func invalidProps(desc string, props ...string) *SetError {
	return &SetError{Type: setInvalidProperties, Description: desc, Properties: props}
}
