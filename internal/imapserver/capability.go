package imapserver

import (
	"context"
	"strconv"
	"strings"
)

// capabilities lists what the server offers in the connection's present
// state. Every extension listed is implemented and tested.
func (c *conn) capabilities() string {
	caps := []string{"IMAP4rev1", "IMAP4rev2"}
	if c.state == stateNotAuth {
		if c.tlsConn == nil && c.srv.opts.TLSConfig != nil {
			caps = append(caps, "STARTTLS")
		}
		if c.canAuth() {
			caps = append(caps, "AUTH=PLAIN", "SASL-IR")
		} else {
			caps = append(caps, "LOGINDISABLED")
		}
	}
	caps = append(caps,
		"LITERAL+", "ENABLE", "ID", "IDLE", "NAMESPACE", "UNSELECT",
		"UIDPLUS", "MOVE", "CONDSTORE", "QRESYNC",
		"SPECIAL-USE", "CREATE-SPECIAL-USE", "LIST-EXTENDED", "LIST-STATUS", "CHILDREN",
		"ESEARCH", "SEARCHRES", "SORT", "THREAD=REFERENCES", "THREAD=ORDEREDSUBJECT",
		"QUOTA", "QUOTA=RES-STORAGE",
		"BINARY", "APPENDLIMIT="+strconv.FormatInt(c.srv.opts.MaxAppendSize, 10),
		"STATUS=SIZE",
	)
	if c.deflate == nil && c.state != stateNotAuth {
		caps = append(caps, "COMPRESS=DEFLATE")
	}
	return strings.Join(caps, " ")
}

// canAuth reports whether plaintext credentials may be sent now: over
// TLS, from loopback, or when the operator allowed it.
func (c *conn) canAuth() bool {
	return c.tlsConn != nil || c.loopback || c.srv.opts.AllowInsecureAuth
}

// Command: CAPABILITY, RFC 9051 §6.1.1.
func cmdCapability(ctx context.Context, c *conn, k *cmd) error {
	if err := c.endArgs(); err != nil {
		return err
	}
	c.enc.Raw("* CAPABILITY ").Raw(c.capabilities()).CRLF()
	return nil
}

// Command: NOOP, RFC 9051 §6.1.2 (and CHECK, RFC 3501 §6.4.1, which
// IMAP4rev2 folds into NOOP). Updates are reported by the command loop.
func cmdNoop(ctx context.Context, c *conn, k *cmd) error {
	return c.endArgs()
}

// Command: LOGOUT, RFC 9051 §6.1.3.
func cmdLogout(ctx context.Context, c *conn, k *cmd) error {
	if err := c.endArgs(); err != nil {
		return err
	}
	c.enc.Raw("* BYE Logging out").CRLF()
	c.state = stateLogout
	return nil
}

// Command: ENABLE, RFC 9051 §6.3.1 and RFC 5161.
func cmdEnable(ctx context.Context, c *conn, k *cmd) error {
	var names []string
	for c.dec.SP() {
		var a string
		if !c.dec.ExpectAtom(&a) {
			return c.dec.Err()
		}
		names = append(names, a)
	}
	if len(names) == 0 {
		return bad("", "ENABLE needs capability names")
	}
	if err := c.endArgs(); err != nil {
		return err
	}
	var done []string
	for _, n := range names {
		switch strings.ToUpper(n) {
		case "IMAP4REV2":
			if !c.enabled.rev2 {
				c.enabled.rev2 = true
				c.enc.UTF8 = true
				done = append(done, "IMAP4rev2")
			}
		case "CONDSTORE":
			if !c.enabled.condstore {
				c.enabled.condstore = true
				done = append(done, "CONDSTORE")
			}
		case "QRESYNC":
			if !c.enabled.qresync {
				c.enabled.qresync = true
				c.enabled.condstore = true
				done = append(done, "QRESYNC")
			}
		}
	}
	c.enc.Raw("* ENABLED")
	for _, d := range done {
		c.enc.SP().Raw(d)
	}
	c.enc.CRLF()
	return nil
}

// Command: ID, RFC 2971. The client's parameters are logged, and the
// server names itself without a version.
func cmdID(ctx context.Context, c *conn, k *cmd) error {
	if !c.dec.ExpectSP() {
		return c.dec.Err()
	}
	var params []any
	if !c.dec.List(func() bool {
		var key, val string
		var isNil bool
		if !c.dec.ExpectString(&key) || !c.dec.ExpectSP() || !c.dec.ExpectNString(&val, &isNil) {
			return false
		}
		if len(params) < 60 {
			params = append(params, strings.ToLower(key), val)
		}
		return true
	}) {
		if c.dec.Err() != nil {
			return c.dec.Err()
		}
		var a string
		if !c.dec.ExpectAtom(&a) || !strings.EqualFold(a, "NIL") {
			return bad("", "ID expects a list or NIL")
		}
	}
	if err := c.endArgs(); err != nil {
		return err
	}
	if len(params) > 0 {
		c.log.Debug("client id", params...)
	}
	c.enc.Raw(`* ID ("name" "Freehold" "vendor" "Freehold")`).CRLF()
	return nil
}
