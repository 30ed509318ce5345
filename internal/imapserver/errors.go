package imapserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"freehold/internal/auth"
	"freehold/internal/imapserver/imapwire"
	"freehold/internal/store"
)

// status is the kind of a tagged reply.
type status string

const (
	statusOK  status = "OK"
	statusNO  status = "NO"
	statusBAD status = "BAD"
)

// replyError is an error a handler returns to answer its command with NO
// or BAD. Text is what the client sees; Err, if any, is logged.
type replyError struct {
	Status status
	Code   string // response code without brackets, or ""
	Text   string
	Err    error
}

func (e *replyError) Error() string {
	s := fmt.Sprintf("%s [%s] %s", e.Status, e.Code, e.Text)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *replyError) Unwrap() error { return e.Err }

// no and bad build reply errors.
func no(code, text string) error  { return &replyError{Status: statusNO, Code: code, Text: text} }
func bad(code, text string) error { return &replyError{Status: statusBAD, Code: code, Text: text} }

// errClose ends the connection after the reply (or without one when the
// transport failed).
var errClose = errors.New("connection closing")

// errShutdown is returned by reads interrupted by Server.Shutdown.
var errShutdown = errors.New("server shutting down")

// isNetErr reports whether err comes from the transport, in which case
// nothing more can be said to the client.
func isNetErr(err error) bool {
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.As(err, &ne) ||
		errors.Is(err, errShutdown)
}

// toReply maps any error a handler returned to the reply the client
// sees. This is the only place where store, auth and syntax errors become
// protocol replies; logDetail reports whether the error is worth logging
// (the client only ever sees generic text).
func toReply(err error) (r *replyError, logDetail bool) {
	var re *replyError
	if errors.As(err, &re) {
		return re, re.Err != nil
	}
	var se *imapwire.SyntaxError
	if errors.As(err, &se) {
		return &replyError{Status: statusBAD, Text: "Syntax error: " + se.Msg}, false
	}
	var le *imapwire.LiteralError
	if errors.As(err, &le) {
		return &replyError{Status: statusBAD, Code: "TOOBIG", Text: "Literal too big"}, false
	}
	switch {
	case errors.Is(err, auth.ErrFailed):
		return &replyError{Status: statusNO, Code: "AUTHENTICATIONFAILED", Text: "Authentication failed"}, true
	case errors.Is(err, store.ErrNotFound):
		return &replyError{Status: statusNO, Code: "NONEXISTENT", Text: "No such mailbox or message"}, false
	case errors.Is(err, store.ErrExists):
		return &replyError{Status: statusNO, Code: "ALREADYEXISTS", Text: "Already exists"}, false
	case errors.Is(err, store.ErrQuotaExceeded):
		return &replyError{Status: statusNO, Code: "OVERQUOTA", Text: "Quota exceeded"}, false
	case errors.Is(err, store.ErrInvalid):
		return &replyError{Status: statusNO, Code: "CANNOT", Text: "Operation not permitted"}, true
	case errors.Is(err, context.Canceled), errors.Is(err, store.ErrClosed):
		return &replyError{Status: statusNO, Code: "UNAVAILABLE", Text: "Server unavailable"}, true
	}
	return &replyError{Status: statusNO, Code: "SERVERBUG", Text: "Internal error", Err: err}, true
}
