package smtpserver

import (
	"strconv"
	"strings"
)

// state is where a connection is in the SMTP dialogue.
type state uint8

const (
	stGreet state = 1 << iota // before EHLO/HELO (at connect and after STARTTLS)
	stReady                   // greeted, no transaction
	stMail                    // MAIL accepted, no recipient yet
	stRcpt                    // at least one recipient accepted
	stBDAT                    // BDAT chunks being received

	stAny = stGreet | stReady | stMail | stRcpt | stBDAT
)

func (s state) has(t state) bool { return s&t != 0 }

func (c *conn) state() state {
	switch {
	case c.helo == "":
		return stGreet
	case c.tx == nil:
		return stReady
	case c.tx.bdat:
		return stBDAT
	case len(c.tx.rcpts) > 0:
		return stRcpt
	}
	return stMail
}

// command is one entry of the command table: its handler and the states
// in which it is allowed (elsewhere it gets 503, RFC 5321 §4.3.2).
type command struct {
	fn     func(c *conn, arg string) reply
	states state
}

// commands is the command table. It is never modified.
var commands = map[string]command{
	"EHLO":     {(*conn).cmdEHLO, stAny},
	"HELO":     {(*conn).cmdHELO, stAny},
	"MAIL":     {(*conn).cmdMAIL, stReady},
	"RCPT":     {(*conn).cmdRCPT, stMail | stRcpt},
	"DATA":     {(*conn).cmdDATA, stMail | stRcpt},
	"BDAT":     {(*conn).cmdBDAT, stAny}, // checks its state itself: the chunk must be read first
	"RSET":     {(*conn).cmdRSET, stAny},
	"NOOP":     {(*conn).cmdNOOP, stAny},
	"QUIT":     {(*conn).cmdQUIT, stAny},
	"VRFY":     {(*conn).cmdVRFY, stAny &^ stBDAT},
	"EXPN":     {(*conn).cmdEXPN, stAny &^ stBDAT},
	"HELP":     {(*conn).cmdHELP, stAny},
	"STARTTLS": {(*conn).cmdSTARTTLS, stReady},
	"AUTH":     {(*conn).cmdAUTH, stReady},
}

// sequenceError explains a command sent in the wrong state.
func (c *conn) sequenceError(verb string) reply {
	r := replyBadSequence
	switch st := c.state(); {
	case st == stGreet:
		r.text = "Send EHLO first"
	case verb == "MAIL" && st != stReady:
		r.text = "Nested MAIL command"
	case (verb == "RCPT" || verb == "DATA") && st == stReady:
		r.text = "Need MAIL command first"
	case st == stBDAT:
		r.text = "Only BDAT or RSET allowed during a BDAT transfer"
	case verb == "STARTTLS" || verb == "AUTH":
		r.text = verb + " not allowed during a mail transaction"
	}
	return r
}

// cmdEHLO implements EHLO (RFC 5321 §4.1.1.1) and lists the extensions
// this server supports in this mode and state.
func (c *conn) cmdEHLO(arg string) reply {
	if !c.greet(arg) {
		return reply{code: 501, status: "5.5.4", text: "Syntax: EHLO hostname"}
	}
	c.ehlo = true
	o := &c.srv.opts
	lines := []string{
		o.Hostname + " Hello " + sanitizeHelo(c.helo),
		"PIPELINING", // RFC 2920
		"SIZE " + strconv.FormatInt(o.MaxMessageBytes, 10), // RFC 1870
		"8BITMIME",            // RFC 6152
		"SMTPUTF8",            // RFC 6531
		"ENHANCEDSTATUSCODES", // RFC 2034
		"CHUNKING",            // RFC 3030
		"LIMITS RCPTMAX=" + strconv.Itoa(o.MaxRecipients), // RFC 9422
		"DSN", // RFC 3461
	}
	if c.futureRelease() {
		lines = append(lines, futureReleaseKeyword(c.srv.now(), o.MaxHold)) // RFC 4865
	}
	if o.TLSConfig != nil && c.tlsState == nil {
		lines = append(lines, "STARTTLS") // RFC 3207
	}
	if o.Mode == ModeSubmission && c.tlsState != nil && c.account == nil {
		lines = append(lines, "AUTH PLAIN LOGIN") // RFC 4954; only over TLS
	}
	return reply{code: 250, text: strings.Join(lines, "\n")}
}

// cmdHELO implements HELO (RFC 5321 §4.1.1.1): no extensions.
func (c *conn) cmdHELO(arg string) reply {
	if !c.greet(arg) {
		return reply{code: 501, status: "5.5.4", text: "Syntax: HELO hostname"}
	}
	c.ehlo = false
	return reply{code: 250, text: c.srv.opts.Hostname + " Hello " + sanitizeHelo(c.helo)}
}

// greet records the client's name; EHLO/HELO also reset any transaction
// (RFC 5321 §4.1.4).
func (c *conn) greet(arg string) bool {
	name, _, _ := strings.Cut(strings.TrimSpace(arg), " ")
	if name == "" {
		return false
	}
	c.resetTx()
	c.helo = name
	return true
}

// sanitizeHelo keeps a client-supplied name printable in our replies.
func sanitizeHelo(s string) string {
	if len(s) > 255 {
		s = s[:255]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x21 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// cmdRSET implements RSET (RFC 5321 §4.1.1.5).
func (c *conn) cmdRSET(arg string) reply {
	c.resetTx()
	return replyOK
}

// cmdNOOP implements NOOP (RFC 5321 §4.1.1.9); its argument is ignored.
func (c *conn) cmdNOOP(string) reply { return replyOK }

// cmdQUIT implements QUIT (RFC 5321 §4.1.1.10).
func (c *conn) cmdQUIT(string) reply {
	c.resetTx()
	c.quit = true
	return reply{code: 221, status: "2.0.0", text: c.srv.opts.Hostname + " closing connection"}
}

// cmdVRFY implements VRFY (RFC 5321 §4.1.1.6, §7.3): it never confirms an
// address, so it cannot be used to harvest them.
func (c *conn) cmdVRFY(arg string) reply {
	if strings.TrimSpace(arg) == "" {
		return replySyntax
	}
	return reply{code: 252, status: "2.5.0", text: "Cannot VRFY user, but will accept message and attempt delivery"}
}

// cmdEXPN implements EXPN (RFC 5321 §4.1.1.7, §7.3) by declining it:
// expanding lists would disclose their members.
func (c *conn) cmdEXPN(string) reply {
	return reply{code: 502, status: "5.5.1", text: "EXPN not available"}
}

// cmdHELP implements HELP (RFC 5321 §4.1.1.8).
func (c *conn) cmdHELP(string) reply {
	return reply{code: 214, status: "2.0.0", text: "See RFC 5321"}
}

// cmdSTARTTLS implements STARTTLS (RFC 3207 §4). After the handshake the
// session starts over: the client must send EHLO again (§4.2).
func (c *conn) cmdSTARTTLS(arg string) reply {
	if c.srv.opts.TLSConfig == nil {
		return reply{code: 502, status: "5.5.1", text: "STARTTLS not available"}
	}
	if c.tlsState != nil {
		return reply{code: 503, status: "5.5.1", text: "TLS already active"}
	}
	if arg != "" {
		return reply{code: 501, status: "5.5.4", text: "Syntax: STARTTLS"}
	}
	c.write(reply{code: 220, status: "2.0.0", text: "Ready to start TLS"})
	if !c.flush() {
		return reply{}
	}
	if !c.handshake() {
		// The stream is in an unknown state: nothing more can be said.
		c.quit = true
		return reply{}
	}
	c.resetTx()
	c.helo, c.ehlo, c.account = "", false, nil
	return reply{}
}
