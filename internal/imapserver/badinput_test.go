package imapserver

import (
	"context"
	"log/slog"
	"strings"
	"testing"
)

// Malformed input is answered with BAD and the session goes on.
func TestMalformedCommands(t *testing.T) {
	e := newTestEnv(t)
	e.addUser("alice@example.org")
	c := e.login("alice@example.org")
	for _, line := range []string{
		"",
		"   ",
		"+ NOOP",
		"a1",
		"a1 ",
		"a1 NOSUCHCOMMAND",
		"a1 UID NOOP",
		"a1 SELECT",
		`a1 SELECT "unterminated`,
		"a1 SELECT \"bad\x00nul\"",
		"a1 FETCH 1 FLAGS",
		"a1 CREATE (",
		"a1 LIST \"\" \"*\" RETURN (",
		"a1 STATUS INBOX (",
		"a1 NOOP extra arguments",
		"a1 LOGIN x y",
		"a1 SEARCH ALL",
		"a1 ENABLE",
		"a1 " + strings.Repeat("x", 70000),
		"\x00\x01\x02\xff\xfe",
		"a1 CAPABILITY\r",
	} {
		c.send("%s", line)
		l := c.line()
		if !strings.Contains(l, "BAD") && !strings.Contains(l, "NO ") {
			t.Fatalf("%.40q: got %q", line, l)
		}
	}
	c.ok("NOOP")
	// CR without LF inside a line.
	c.send("a2 NOOP\rX")
	if l := c.line(); !strings.Contains(l, "BAD") {
		t.Fatalf("bare CR: %q", l)
	}
	c.ok("NOOP")
}

// Literals outside APPEND are capped by MaxLiteral.
func TestLiteralCap(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.MaxLiteral = 1000 })
	e.addUser("alice@example.org")
	c := e.dial()
	// A synchronising literal over the cap: refused before its data.
	c.send("a1 LOGIN {5000}")
	if _, done := c.until("a1"); !strings.HasPrefix(done, "BAD [TOOBIG]") {
		t.Fatalf("sync literal: %q", done)
	}
	// Within the cap it works, synchronising or not.
	c.send("a2 LOGIN {17}")
	if l := c.line(); !strings.HasPrefix(l, "+") {
		t.Fatalf("continuation: %q", l)
	}
	c.send("alice@example.org {%d+}\r\n%s", len(testPassword), testPassword)
	if _, done := c.until("a2"); !strings.HasPrefix(done, "OK") {
		t.Fatalf("login with literals: %q", done)
	}
	// A non-synchronising literal over the cap ends the connection.
	c.send("a3 SELECT {5000+}")
	if _, done := c.until("a3"); !strings.HasPrefix(done, "BAD [TOOBIG]") {
		t.Fatalf("non-sync literal: %q", done)
	}
	if l := c.line(); !strings.HasPrefix(l, "* BYE") {
		t.Fatalf("want BYE, got %q", l)
	}
}

// A handler's panic ends only its connection, with BYE, and is logged.
func TestPanicBecomesBye(t *testing.T) {
	catcher := &panicCatcher{}
	e := newTestEnv(t, func(o *Options) { o.Logger = slog.New(catcher) }, func(s *Server) {
		s.commands["CRASH"] = command{states: anyState, run: func(ctx context.Context, c *conn, k *cmd) error {
			var m map[string]int
			m["x"]++ // nil map write
			return nil
		}}
	})
	c := e.dial()
	c.send("a1 CRASH")
	if l := c.line(); !strings.HasPrefix(l, "* BYE") {
		t.Fatalf("want BYE, got %q", l)
	}
	catcher.mu.Lock()
	logged := strings.Join(catcher.panics, " ")
	catcher.mu.Unlock()
	if !strings.Contains(logged, "panic") || !strings.Contains(logged, "goroutine") {
		t.Fatalf("panic not logged with its stack: %q", logged)
	}
	// The server goes on serving.
	d := e.dial()
	d.ok("NOOP")
}

// APPEND accepts a binary literal8 (RFC 3516) and FETCH BINARY decodes.
func TestAppendBinary(t *testing.T) {
	e := newTestEnv(t)
	e.addUser("alice@example.org")
	c := e.login("alice@example.org")
	msg := "Subject: bin\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n\x00\x01binary\r\n"
	c.send("a1 APPEND INBOX ~{%d+}\r\n%s", len(msg), msg)
	if _, done := c.until("a1"); !strings.HasPrefix(done, "OK [APPENDUID") {
		t.Fatalf("APPEND literal8: %q", done)
	}
	c.ok("SELECT INBOX")
	mustHave(t, c.ok("FETCH 1 BINARY.PEEK[1]"), "BINARY[1] ~{10}\r\n\x00\x01binary")
}

// A command of many small tokens is bounded too.
func TestCommandLineCap(t *testing.T) {
	e := newTestEnv(t)
	e.addUser("alice@example.org")
	c := e.login("alice@example.org")
	c.ok("SELECT INBOX")
	huge := "a1 FETCH 1 (" + strings.Repeat("UID ", 300000) + ")\r\n"
	go c.nc.Write([]byte(huge)) // the server may hang up before the end
	if _, done := c.until("a1"); !strings.HasPrefix(done, "BAD") {
		t.Fatalf("huge command: %q", done)
	}
}
