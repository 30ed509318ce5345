package imapserver

import (
	"fmt"
	"strings"
	"testing"
)

func TestCopyMoveExpunge(t *testing.T) {
	e := newTestEnv(t)
	a := e.addUser("alice@example.org")
	for i := 1; i <= 5; i++ {
		e.appendMsg(a, "INBOX", testMessage(i, fmt.Sprint("m", i)))
	}
	c := e.login("alice@example.org")
	lines := c.ok("SELECT Archive")
	mustHave(t, lines, "UIDVALIDITY")
	c.ok("SELECT INBOX")

	_, done := c.cmd("COPY 1:2 Archive")
	if !strings.HasPrefix(done, "OK [COPYUID ") || !strings.HasSuffix(strings.Fields(done)[4], "1:2]") {
		t.Fatalf("COPY: %q", done)
	}
	if done := c.fails("NO", "COPY 1 Nowhere"); !strings.Contains(done, "TRYCREATE") {
		t.Fatal(done)
	}
	// MOVE reports COPYUID untagged, then the expunges.
	lines = c.ok("MOVE 2:3 Trash")
	mustHave(t, lines, "* OK [COPYUID ", " 2:3 1:2]")
	if len(lines) != 3 || lines[1] != "* 3 EXPUNGE" || lines[2] != "* 2 EXPUNGE" {
		t.Fatalf("MOVE responses: %q", lines)
	}
	// Now INBOX holds UIDs 1, 4, 5 as 1, 2, 3.
	lines = c.ok("FETCH 1:* UID")
	if len(lines) != 3 || !strings.Contains(lines[2], "* 3 FETCH (UID 5)") {
		t.Fatalf("after MOVE: %q", lines)
	}
	c.ok(`STORE 1,3 +FLAGS.SILENT (\Deleted)`)
	// UID EXPUNGE only touches the given UIDs.
	lines = c.ok("UID EXPUNGE 5")
	if len(lines) != 1 || lines[0] != "* 3 EXPUNGE" {
		t.Fatalf("UID EXPUNGE: %q", lines)
	}
	lines = c.ok("EXPUNGE")
	if len(lines) != 1 || lines[0] != "* 1 EXPUNGE" {
		t.Fatalf("EXPUNGE: %q", lines)
	}
	lines = c.ok("UID FETCH 1:* UID")
	if len(lines) != 1 || lines[0] != "* 1 FETCH (UID 4)" {
		t.Fatalf("left: %q", lines)
	}
	lines = c.ok("STATUS Trash (MESSAGES)")
	mustHave(t, lines, "MESSAGES 2")
	// UID MOVE with QRESYNC reports VANISHED.
	c.ok("ENABLE QRESYNC")
	lines = c.ok("UID MOVE 4 Archive")
	mustHave(t, lines, "* VANISHED 4")
	// CLOSE expunges silently; UNSELECT does not.
	c.ok("SELECT Archive")
	c.ok(`STORE 1 +FLAGS (\Deleted)`)
	c.ok("UNSELECT")
	mustHave(t, c.ok("STATUS Archive (MESSAGES)"), "MESSAGES 3")
	c.ok("SELECT Archive")
	c.ok(`STORE 1 +FLAGS (\Deleted)`)
	if lines := c.ok("CLOSE"); len(lines) != 0 {
		t.Fatalf("CLOSE said %q", lines)
	}
	mustHave(t, c.ok("STATUS Archive (MESSAGES)"), "MESSAGES 2")
	c.fails("BAD", "FETCH 1 FLAGS")
}

func TestAppend(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.MaxAppendSize = 1000 })
	e.addUser("alice@example.org")
	c := e.login("alice@example.org")
	msg := testMessage(1, "appended")

	// Synchronising literal.
	c.send("a1 APPEND INBOX (\\Seen $Junk) \"05-Mar-2024 10:00:00 +0100\" {%d}", len(msg))
	if l := c.line(); !strings.HasPrefix(l, "+ ") {
		t.Fatalf("want continuation: %q", l)
	}
	c.send("%s", msg)
	_, done := c.until("a1")
	if !strings.HasPrefix(done, "OK [APPENDUID ") || !strings.HasSuffix(strings.Fields(done)[3], "1]") {
		t.Fatalf("APPEND: %q", done)
	}
	// Non-synchronising literal (LITERAL+).
	c.send("a2 APPEND INBOX {%d+}\r\n%s", len(msg), msg)
	if _, done := c.until("a2"); !strings.HasPrefix(done, "OK [APPENDUID ") {
		t.Fatalf("APPEND+: %q", done)
	}
	// Too big: refused before the data.
	c.send("a3 APPEND INBOX {5000}")
	if _, done := c.until("a3"); !strings.HasPrefix(done, "NO [TOOBIG]") {
		t.Fatalf("too big: %q", done)
	}
	// Missing mailbox: TRYCREATE, before the data.
	c.send("a4 APPEND Nowhere {%d}", len(msg))
	if _, done := c.until("a4"); !strings.HasPrefix(done, "NO [TRYCREATE]") {
		t.Fatalf("missing mailbox: %q", done)
	}
	// ... and after it, for a non-synchronising literal.
	c.send("a5 APPEND Nowhere {%d+}\r\n%s", len(msg), msg)
	if _, done := c.until("a5"); !strings.HasPrefix(done, "NO [TRYCREATE]") {
		t.Fatalf("missing mailbox+: %q", done)
	}
	lines := c.ok("SELECT INBOX")
	mustHave(t, lines, "* 2 EXISTS")
	lines = c.ok("FETCH 1 (FLAGS INTERNALDATE ENVELOPE)")
	mustHave(t, lines, `FLAGS ($Junk \Seen)`, `INTERNALDATE " 5-Mar-2024 09:00:00 +0000"`, `"appended"`)
	// APPEND to the selected mailbox announces EXISTS.
	c.send("a6 APPEND INBOX {%d+}\r\n%s", len(msg), msg)
	lines, done = c.until("a6")
	if !strings.HasPrefix(done, "OK") {
		t.Fatal(done)
	}
	mustHave(t, lines, "* 3 EXISTS")
	// A non-synchronising literal over the limit ends the connection.
	c.send("a7 APPEND INBOX {5000+}")
	if _, done := c.until("a7"); !strings.HasPrefix(done, "BAD [TOOBIG]") {
		t.Fatalf("too big+: %q", done)
	}
}
