package smtpserver

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-sasl"

	"freehold/internal/auth"
	"freehold/internal/maillog"
	"freehold/internal/store"
)

// errAuthFailed is what the SASL mechanisms return for bad credentials
// when the Authenticator's error is already recorded.
var errAuthFailed = errors.New("authentication failed")

// cmdAUTH implements AUTH (RFC 4954 §4) with PLAIN (RFC 4616) and LOGIN.
// It is offered only on submission and only over TLS (RFC 4954 §4, RFC
// 8314): before STARTTLS it answers 530 (RFC 3207 §4).
func (c *conn) cmdAUTH(arg string) reply {
	if c.srv.opts.Mode != ModeSubmission {
		return reply{code: 502, status: "5.5.1", text: "AUTH not available"}
	}
	if c.tlsState == nil {
		return replyTLSNeeded
	}
	if c.account != nil {
		return reply{code: 503, status: "5.5.1", text: "Already authenticated"}
	}
	mech, ir, hasIR := strings.Cut(strings.TrimSpace(arg), " ")
	mech = strings.ToUpper(mech)
	var initial []byte
	if hasIR {
		var err error
		if initial, err = decodeSASL(ir); err != nil {
			return reply{code: 501, status: "5.5.2", text: "Invalid base64 data"}
		}
	}
	var (
		user     string
		acct     store.Account
		loginErr error
	)
	login := func(username, password string) error {
		user = username
		acct, loginErr = c.srv.opts.Authenticator.Login(c.ctx, username, password)
		if loginErr != nil {
			return errAuthFailed
		}
		return nil
	}
	var srv sasl.Server
	switch mech {
	case "PLAIN":
		srv = sasl.NewPlainServer(func(identity, username, password string) error {
			if identity != "" && identity != username {
				// No proxy authorisation: a user acts only as itself.
				user = username
				loginErr = fmt.Errorf("%w: authorization identity %q differs", auth.ErrFailed, identity)
				return errAuthFailed
			}
			return login(username, password)
		})
	case "LOGIN":
		srv = &loginServer{login: login}
	case "":
		return replySyntax
	default:
		return reply{code: 504, status: "5.5.4", text: "Unrecognized authentication mechanism"}
	}
	if r, ok := c.saslExchange(srv, initial); !ok {
		if loginErr != nil || r.code == 535 {
			c.authFailed(mech, user, loginErr)
			if loginErr != nil {
				return authError(loginErr)
			}
		}
		return r
	}
	c.account = &acct
	c.log = c.log.With("account", acct.Address)
	c.log.Info("authenticated", "mech", mech)
	return reply{code: 235, status: "2.7.0", text: "Authentication successful"}
}

// saslExchange runs challenges and responses until the mechanism is done.
func (c *conn) saslExchange(srv sasl.Server, resp []byte) (reply, bool) {
	for {
		challenge, done, err := srv.Next(resp)
		if err != nil {
			return replyAuthFailed.withDetail("sasl", err), false
		}
		if done {
			return reply{}, true
		}
		c.write(reply{code: 334, text: base64.StdEncoding.EncodeToString(challenge)})
		if !c.flush() {
			return reply{}, false
		}
		line, tooLong, err := c.readLine()
		if err != nil {
			c.readFailed(err, "AUTH response")
			c.quit = true
			return reply{}, false
		}
		if tooLong {
			return replyLineTooLong, false
		}
		if string(line) == "*" {
			// RFC 4954 §4: the client cancelled.
			return reply{code: 501, status: "5.0.0", text: "Authentication cancelled"}, false
		}
		if resp, err = decodeSASL(string(line)); err != nil {
			return reply{code: 501, status: "5.5.2", text: "Invalid base64 data"}, false
		}
	}
}

// decodeSASL decodes a client response; "=" is the empty response
// (RFC 4954 §4).
func decodeSASL(s string) ([]byte, error) {
	if s == "=" {
		return []byte{}, nil
	}
	return base64.StdEncoding.DecodeString(s)
}

// authFailed records a failed login in the mail-event log.
func (c *conn) authFailed(mech, user string, err error) {
	reason := "bad credentials"
	if err != nil {
		reason = err.Error()
	}
	c.log.Info("authentication failed", "mech", mech, "user", user)
	c.srv.mlog.AuthFailed(c.ctx, maillog.AuthFailed{
		Protocol: "smtp", Conn: c.id, Remote: c.remote.String(),
		Mechanism: mech, User: user, Reason: reason,
	})
}

// loginServer is the LOGIN mechanism (draft-murchison-sasl-login): the
// server asks "Username:" then "Password:". An initial response, which
// some clients send, is taken as the user name.
type loginServer struct {
	login    func(username, password string) error
	username *string
	done     bool
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	switch {
	case l.done:
		return nil, false, sasl.ErrUnexpectedClientResponse
	case l.username == nil && resp == nil:
		return []byte("Username:"), false, nil
	case l.username == nil:
		u := string(resp)
		l.username = &u
		return []byte("Password:"), false, nil
	}
	l.done = true
	if err := l.login(*l.username, string(resp)); err != nil {
		return nil, false, err
	}
	return nil, true, nil
}
