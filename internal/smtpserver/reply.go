package smtpserver

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"freehold/internal/auth"
	"freehold/internal/delivery"
	"freehold/internal/store"
)

// reply is one SMTP reply (RFC 5321 §4.2). status is the enhanced status
// code (RFC 3463), empty where RFC 2034 §3 leaves it out (the greeting and
// EHLO). text may hold several lines separated by "\n". detail is for the
// logs only: the client sees generic text, the log says why.
type reply struct {
	code   int
	status string
	text   string
	detail string
}

func (r reply) failed() bool { return r.code >= 400 }

// format renders the reply in wire form, appending to b. It runs for
// every reply, so it walks the text in place rather than splitting it.
func (r reply) format(b []byte) []byte {
	text := r.text
	for {
		line, rest, more := strings.Cut(text, "\n")
		b = strconv.AppendInt(b, int64(r.code), 10)
		if more {
			b = append(b, '-')
		} else {
			b = append(b, ' ')
		}
		if r.status != "" {
			b = append(b, r.status...)
			b = append(b, ' ')
		}
		b = append(b, line...)
		b = append(b, '\r', '\n')
		if !more {
			return b
		}
		text = rest
	}
}

func (r reply) withDetail(format string, err error) reply {
	if err != nil {
		r.detail = format + ": " + err.Error()
	} else {
		r.detail = format
	}
	return r
}

// Replies used in several places.
var (
	replyOK          = reply{code: 250, status: "2.0.0", text: "Ok"}
	replyBadSequence = reply{code: 503, status: "5.5.1", text: "Bad sequence of commands"}
	replySyntax      = reply{code: 501, status: "5.5.4", text: "Syntax error in parameters or arguments"}
	replyUnknownCmd  = reply{code: 500, status: "5.5.1", text: "Command unrecognized"}
	replyLineTooLong = reply{code: 500, status: "5.5.2", text: "Line too long"}
	replyBadParam    = reply{code: 555, status: "5.5.4", text: "Parameter not recognized or not implemented"}
	replyTempFail    = reply{code: 451, status: "4.3.0", text: "Temporary local problem, try again later"}
	replyTooBig      = reply{code: 552, status: "5.3.4", text: "Message too big"}
	replyAuthNeeded  = reply{code: 530, status: "5.7.0", text: "Authentication required"}
	replyTLSNeeded   = reply{code: 530, status: "5.7.0", text: "Must issue a STARTTLS command first"}
	replyUTF8Needed  = reply{code: 553, status: "5.6.7", text: "Non-ASCII address requires SMTPUTF8"}
	replyBadAddress  = reply{code: 553, status: "5.1.3", text: "Bad address syntax"}
	replyBareLF      = reply{code: 550, status: "5.6.0", text: "Message refused: bare CR or LF in data (RFC 5321 2.3.8)"}
	replyAuthFailed  = reply{code: 535, status: "5.7.8", text: "Authentication credentials invalid"}
	replyAuthTemp    = reply{code: 454, status: "4.7.0", text: "Temporary authentication failure"}
	replyMailboxFull = reply{code: 452, status: "4.2.2", text: "Mailbox full"}
)

// recipientError maps a resolution failure to the RCPT reply.
func recipientError(err error) reply {
	switch {
	case errors.Is(err, delivery.ErrUnknownRecipient):
		return reply{code: 550, status: "5.1.1", text: "No such user here"}.withDetail("resolve", err)
	case errors.Is(err, delivery.ErrNotLocal):
		// Never an open relay (RFC 5321 §3.6.2): only authenticated
		// submission reaches remote domains, and it does not get here.
		return reply{code: 554, status: "5.7.1", text: "Relay access denied"}.withDetail("resolve", err)
	case errors.Is(err, delivery.ErrAliasLoop):
		return reply{code: 550, status: "5.4.6", text: "Routing loop detected"}.withDetail("resolve", err)
	}
	return replyTempFail.withDetail("resolve", err)
}

// deliveryError maps a Deliverer failure to the final reply of DATA or
// BDAT. Quota is temporary (RFC 3463 X.2.2); a shutdown interrupting the
// store is 421 (the connection closes and the client retries).
func deliveryError(err error) reply {
	switch {
	case errors.Is(err, store.ErrQuotaExceeded):
		return replyMailboxFull.withDetail("deliver", err)
	case errors.Is(err, context.Canceled):
		return reply{code: 421, status: "4.3.2", text: "Service shutting down, try again later"}.withDetail("deliver", err)
	}
	return replyTempFail.withDetail("deliver", err)
}

// authError maps an Authenticator failure: wrong credentials are 535, a
// failing directory is 454 (RFC 4954 §6).
func authError(err error) reply {
	if errors.Is(err, auth.ErrFailed) {
		return replyAuthFailed.withDetail("login", err)
	}
	return replyAuthTemp.withDetail("login", err)
}
