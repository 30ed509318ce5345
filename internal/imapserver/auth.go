package imapserver

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"freehold/internal/auth"
)

// Command: STARTTLS, RFC 9051 §6.2.1.
func cmdStartTLS(ctx context.Context, c *conn, k *cmd) error {
	if err := c.endArgs(); err != nil {
		return err
	}
	if c.tlsConn != nil || c.srv.opts.TLSConfig == nil {
		return bad("", "TLS not available")
	}
	if c.br.Buffered() > 0 {
		// Commands sent before the handshake would be taken as coming
		// from inside TLS (CVE-2011-0411 class): refuse.
		return bad("", "Data sent after STARTTLS")
	}
	c.tagged(k.tag, statusOK, "", "Begin TLS negotiation now")
	if err := c.flush(); err != nil {
		return err
	}
	if err := c.startTLS(ctx); err != nil {
		c.log.Debug("STARTTLS handshake failed", "err", err)
		return errClose
	}
	k.replied = true
	return nil
}

// Command: LOGIN, RFC 9051 §6.2.3.
func cmdLogin(ctx context.Context, c *conn, k *cmd) error {
	var user, pass string
	if !c.dec.ExpectSP() || !c.dec.ExpectAString(&user) || !c.dec.ExpectSP() || !c.dec.ExpectAString(&pass) {
		return c.dec.Err()
	}
	if err := c.endArgs(); err != nil {
		return err
	}
	return c.login(ctx, k, "", user, pass)
}

func (c *conn) login(ctx context.Context, k *cmd, authz, user, pass string) error {
	if !c.canAuth() {
		return no("PRIVACYREQUIRED", "Use TLS before sending a password")
	}
	if authz != "" && !strings.EqualFold(authz, user) {
		return no("AUTHORIZATIONFAILED", "Cannot act as another user")
	}
	acct, err := c.srv.opts.Auth.Login(ctx, user, pass)
	if err != nil {
		c.log.Info("login failed", "user", user, "err", err)
		if isAuthFailure(err) {
			return no("AUTHENTICATIONFAILED", "Authentication failed")
		}
		return fmt.Errorf("login: %w", err)
	}
	c.authenticated(acct)
	k.code = "CAPABILITY " + c.capabilities()
	k.text = "Logged in"
	return nil
}

func isAuthFailure(err error) bool { return errors.Is(err, auth.ErrFailed) }

// Command: AUTHENTICATE, RFC 9051 §6.2.2, with SASL-IR (RFC 4959). Only
// PLAIN (RFC 4616) is offered: passwords are verified against stored
// argon2id hashes, so challenge-response mechanisms cannot work.
func cmdAuthenticate(ctx context.Context, c *conn, k *cmd) error {
	var mech, ir string
	if !c.dec.ExpectSP() || !c.dec.ExpectAtom(&mech) {
		return c.dec.Err()
	}
	hasIR := false
	if c.dec.SP() {
		if !c.dec.ExpectAtom(&ir) {
			return c.dec.Err()
		}
		hasIR = true
	}
	if err := c.endArgs(); err != nil {
		return err
	}
	if !strings.EqualFold(mech, "PLAIN") {
		return no("", "Unsupported mechanism")
	}
	if !c.canAuth() {
		return no("PRIVACYREQUIRED", "Use TLS before sending a password")
	}
	if !hasIR {
		c.enc.Raw("+ ").CRLF()
		if err := c.flush(); err != nil {
			return err
		}
		line, ok := c.dec.ReadLine(8192)
		if !ok {
			return c.dec.Err()
		}
		ir = line
	}
	if ir == "*" {
		return bad("", "Authentication cancelled")
	}
	var raw []byte
	if ir != "=" {
		var err error
		raw, err = base64.StdEncoding.DecodeString(ir)
		if err != nil {
			return bad("", "Invalid base64")
		}
	}
	parts := bytes.Split(raw, []byte{0})
	if len(parts) != 3 {
		return bad("", "Invalid PLAIN response")
	}
	return c.login(ctx, k, string(parts[0]), string(parts[1]), string(parts[2]))
}
