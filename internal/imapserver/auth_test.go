package imapserver

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"strings"
	"testing"
)

func TestCapabilityAndLogin(t *testing.T) {
	e := newTestEnv(t)
	e.addUser("alice@example.org")
	c := e.dial()
	lines := c.ok("CAPABILITY")
	mustHave(t, lines, "* CAPABILITY", "IMAP4rev2", "IMAP4rev1", "STARTTLS", "AUTH=PLAIN", "SASL-IR", "IDLE", "CONDSTORE", "QRESYNC")
	c.fails("NO", "LOGIN alice@example.org wrong")
	c.fails("BAD", "LOGIN alice@example.org")
	c.fails("BAD", "SELECT INBOX") // not authenticated yet
	_, done := c.cmd("LOGIN alice@example.org %q", testPassword)
	if !strings.HasPrefix(done, "OK [CAPABILITY ") || strings.Contains(done, "AUTH=") {
		t.Fatalf("login completion: %q", done)
	}
	c.fails("BAD", "LOGIN alice@example.org x") // already authenticated
	lines = c.ok("LOGOUT")
	mustHave(t, lines, "* BYE")
}

func TestAuthenticatePlain(t *testing.T) {
	e := newTestEnv(t)
	e.addUser("alice@example.org")
	ir := base64.StdEncoding.EncodeToString([]byte("\x00alice@example.org\x00" + testPassword))

	// SASL-IR: the response on the command line.
	c := e.dial()
	c.ok("AUTHENTICATE PLAIN %s", ir)
	c.ok("NOOP")

	// Without initial response: a continuation request first.
	c = e.dial()
	c.send("a1 AUTHENTICATE PLAIN")
	if l := c.line(); !strings.HasPrefix(l, "+") {
		t.Fatalf("want continuation, got %q", l)
	}
	c.send("%s", ir)
	if _, done := c.until("a1"); !strings.HasPrefix(done, "OK") {
		t.Fatalf("authenticate: %q", done)
	}

	// Cancelled.
	c = e.dial()
	c.send("a1 AUTHENTICATE PLAIN")
	c.line()
	c.send("*")
	if _, done := c.until("a1"); !strings.HasPrefix(done, "BAD") {
		t.Fatalf("cancel: %q", done)
	}
	// Wrong password.
	bad := base64.StdEncoding.EncodeToString([]byte("\x00alice@example.org\x00nope"))
	if done := c.fails("NO", "AUTHENTICATE PLAIN %s", bad); !strings.Contains(done, "AUTHENTICATIONFAILED") {
		t.Fatalf("wrong password: %q", done)
	}
	c.fails("NO", "AUTHENTICATE CRAM-MD5")
}

// A non-loopback client must not send a password before TLS. The test
// pretends loopback is remote by clearing the flag on the server side.
func TestPlaintextRefusedBeforeTLS(t *testing.T) {
	e := newTestEnv(t, func(s *Server) { s.testNotLoopback = true })
	e.addUser("alice@example.org")
	c := e.dial()
	lines := c.ok("CAPABILITY")
	mustHave(t, lines, "LOGINDISABLED")
	if has(lines, "AUTH=PLAIN") {
		t.Fatal("AUTH=PLAIN offered before TLS")
	}
	if done := c.fails("NO", "LOGIN alice@example.org %q", testPassword); !strings.Contains(done, "PRIVACYREQUIRED") {
		t.Fatalf("login before TLS: %q", done)
	}
	// STARTTLS, then the same login works.
	c.ok("STARTTLS")
	tc := tls.Client(c.nc, e.tls)
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	c.nc, c.r = tc, bufio.NewReader(tc)
	lines = c.ok("CAPABILITY")
	mustHave(t, lines, "AUTH=PLAIN")
	if has(lines, "STARTTLS") {
		t.Fatal("STARTTLS offered again")
	}
	c.ok("LOGIN alice@example.org %q", testPassword)
}

func TestImplicitTLS(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.ImplicitTLS = true })
	e.addUser("alice@example.org")
	nc, err := tls.Dial("tcp", e.addr, e.tls)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c := &tclient{t: t, nc: nc, r: bufio.NewReader(nc)}
	if g := c.line(); !strings.HasPrefix(g, "* OK [CAPABILITY") || strings.Contains(g, "STARTTLS") {
		t.Fatalf("greeting %q", g)
	}
	c.ok("LOGIN alice@example.org %q", testPassword)
}

// Commands pipelined after STARTTLS would be read as if sent inside TLS.
func TestStartTLSInjection(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	c.send("a1 STARTTLS\r\na2 NOOP")
	_, done := c.until("a1")
	if !strings.HasPrefix(done, "BAD") {
		t.Fatalf("pipelined STARTTLS: %q", done)
	}
}
