package imapserver

import (
	"strings"
	"testing"
)

func TestSelectResponses(t *testing.T) {
	e := newTestEnv(t)
	a := e.addUser("alice@example.org")
	e.appendMsg(a, "INBOX", testMessage(1, "one"), "$seen")
	e.appendMsg(a, "INBOX", testMessage(2, "two"), "$junk", "project-x")
	c := e.login("alice@example.org")

	lines, done := c.cmd("SELECT INBOX")
	if !strings.HasPrefix(done, "OK [READ-WRITE]") {
		t.Fatal(done)
	}
	mustHave(t, lines, "* 2 EXISTS")
	mustHave(t, lines, "* 0 RECENT")
	mustHave(t, lines, "* OK [UNSEEN 2]")
	mustHave(t, lines, "* OK [UIDVALIDITY ")
	mustHave(t, lines, "* OK [UIDNEXT 3]")
	mustHave(t, lines, "* OK [HIGHESTMODSEQ ")
	mustHave(t, lines, `* FLAGS (\Answered \Flagged \Deleted \Seen \Draft $Forwarded $Junk $NotJunk $Phishing $MDNSent project-x)`)
	mustHave(t, lines, `* OK [PERMANENTFLAGS (`, `project-x \*)]`)

	_, done = c.cmd("EXAMINE INBOX")
	if !strings.HasPrefix(done, "OK [READ-ONLY]") {
		t.Fatal(done)
	}
	// IMAP4rev2: no RECENT or UNSEEN, a LIST response, and CLOSED when
	// another mailbox was selected.
	c.ok("ENABLE IMAP4rev2")
	lines = c.ok("SELECT INBOX")
	mustHave(t, lines, "* OK [CLOSED]")
	mustHave(t, lines, `* LIST () "/" INBOX`)
	if has(lines, "RECENT") || has(lines, "UNSEEN") {
		t.Fatalf("rev2 SELECT: %q", lines)
	}
	// A failed SELECT leaves no mailbox selected.
	c.fails("NO", "SELECT Nowhere")
	c.fails("BAD", "FETCH 1 FLAGS")
}

func TestFetchItems(t *testing.T) {
	e := newTestEnv(t)
	a := e.addUser("alice@example.org")
	e.appendMsg(a, "INBOX", testMessage(1, "first"))
	multipart := "From: a@example.org\r\nSubject: parts\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nplain body\r\n" +
		"--XX\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAw==\r\n--XX--\r\n"
	e.appendMsg(a, "INBOX", multipart)
	c := e.login("alice@example.org")
	c.ok("SELECT INBOX")

	lines := c.ok("FETCH 1 (UID FLAGS INTERNALDATE RFC822.SIZE)")
	mustHave(t, lines, `* 1 FETCH (UID 1 FLAGS () INTERNALDATE " 1-Mar-2024 12:00:00 +0000" RFC822.SIZE `)
	lines = c.ok("FETCH 1 ENVELOPE")
	mustHave(t, lines, `ENVELOPE ("Fri, 1 Mar 2024 12:01:00 +0000" "first" (("Alice" NIL "alice" "example.org"))`)
	lines = c.ok("FETCH 1 BODY.PEEK[HEADER.FIELDS (Subject From)]")
	mustHave(t, lines, "BODY[HEADER.FIELDS (Subject From)] {", "From: Alice <alice@example.org>\r\nSubject: first\r\n\r\n")
	lines = c.ok("FETCH 1 BODY.PEEK[TEXT]<0.5>")
	mustHave(t, lines, "BODY[TEXT]<0> {5}\r\nHello")
	lines = c.ok("FETCH 1 FLAGS")
	mustHave(t, lines, "FLAGS ()") // PEEK did not set \Seen

	// BODY[] sets \Seen and reports FLAGS in the same response.
	lines = c.ok("FETCH 1 BODY[]")
	mustHave(t, lines, `FLAGS (\Seen)`, "BODY[] {")
	lines = c.ok("FETCH 2 (BODYSTRUCTURE BODY[1] BINARY.PEEK[2] BINARY.SIZE[2] BODY.PEEK[1.MIME])")
	mustHave(t, lines, `BODYSTRUCTURE (("TEXT" "PLAIN"`)
	mustHave(t, lines, "BODY[1] {10}\r\nplain body")
	mustHave(t, lines, "BINARY[2] ~{4}\r\n\x00\x01\x02\x03")
	mustHave(t, lines, "BINARY.SIZE[2] 4")
	mustHave(t, lines, "BODY[1.MIME] {")
	lines = c.ok("FETCH 2 BODY.PEEK[9]")
	mustHave(t, lines, "BODY[9] NIL")

	// Macros, RFC822 items, UID FETCH.
	lines = c.ok("FETCH 1 FAST")
	mustHave(t, lines, "FLAGS", "INTERNALDATE", "RFC822.SIZE")
	lines = c.ok("FETCH 1 (RFC822.HEADER RFC822.TEXT)")
	mustHave(t, lines, "RFC822.HEADER {", "RFC822.TEXT {")
	lines = c.ok("UID FETCH 2:* FLAGS")
	mustHave(t, lines, "* 2 FETCH (UID 2 FLAGS")
	// "n:*" with n above the highest UID still names the last message.
	lines = c.ok("UID FETCH 99:* FLAGS")
	if len(lines) != 1 || !strings.Contains(lines[0], "UID 2 ") {
		t.Fatalf("99:* = %q", lines)
	}
	if lines = c.ok("UID FETCH 50 FLAGS"); len(lines) != 0 {
		t.Fatalf("missing UID: %q", lines)
	}
	c.fails("BAD", "FETCH 3 FLAGS")
	c.fails("BAD", "FETCH 1 (FLAGS BOGUS)")
	c.fails("BAD", "FETCH 1 BODY[MIME]")
	c.fails("BAD", "FETCH 1 BODY[1.]")
	c.fails("BAD", "FETCH 1 BODY[]<0.0>")
}

func TestExamineDoesNotSetSeen(t *testing.T) {
	e := newTestEnv(t)
	a := e.addUser("alice@example.org")
	e.appendMsg(a, "INBOX", testMessage(1, "x"))
	c := e.login("alice@example.org")
	c.ok("EXAMINE INBOX")
	lines := c.ok("FETCH 1 BODY[]")
	if has(lines, `\Seen`) {
		t.Fatalf("EXAMINE set \\Seen: %q", lines)
	}
	c.fails("NO", `STORE 1 +FLAGS (\Seen)`)
	c.fails("NO", "EXPUNGE")
}

func TestStoreFlags(t *testing.T) {
	e := newTestEnv(t)
	a := e.addUser("alice@example.org")
	for i := 1; i <= 3; i++ {
		e.appendMsg(a, "INBOX", testMessage(i, "x"))
	}
	c := e.login("alice@example.org")
	c.ok("SELECT INBOX")
	lines := c.ok(`STORE 1:2 +FLAGS (\Seen \Flagged)`)
	mustHave(t, lines, `* 1 FETCH (FLAGS (\Flagged \Seen))`)
	mustHave(t, lines, `* 2 FETCH (FLAGS (\Flagged \Seen))`)
	lines = c.ok(`STORE 2 -FLAGS (\Flagged)`)
	mustHave(t, lines, `* 2 FETCH (FLAGS (\Seen))`)
	lines = c.ok(`STORE 3 FLAGS ($Junk Project-X)`)
	mustHave(t, lines, `* 3 FETCH (FLAGS ($Junk project-x))`)
	if lines = c.ok(`STORE 3 +FLAGS.SILENT (\Answered)`); len(lines) != 0 {
		t.Fatalf(".SILENT answered %q", lines)
	}
	lines = c.ok(`UID STORE 3 +FLAGS \Draft`)
	mustHave(t, lines, `* 3 FETCH (UID 3 FLAGS (\Answered \Draft $Junk project-x))`)
	c.ok(`STORE 1 +FLAGS (\Recent)`) // ignored
	c.fails("BAD", `STORE 1 +FLAGS (\Bogus)`)
	c.fails("BAD", `STORE 1 +FLAGZ (\Seen)`)

	// Another session sees the keywords in PERMANENTFLAGS and FETCH.
	d := e.login("alice@example.org")
	lines = d.ok("SELECT INBOX")
	mustHave(t, lines, "PERMANENTFLAGS", "project-x")
	lines = d.ok("FETCH 1:3 FLAGS")
	mustHave(t, lines, `* 1 FETCH (FLAGS (\Flagged \Seen))`)
	mustHave(t, lines, `* 3 FETCH (FLAGS (\Answered \Draft $Junk project-x))`)
}

// Ranges ending at "*" are clipped to the mailbox; explicit numbers
// beyond it are refused.
func TestSequenceRangesWithStar(t *testing.T) {
	e := newTestEnv(t)
	a := e.addUser("alice@example.org")
	c := e.login("alice@example.org")
	c.ok("SELECT INBOX")
	if lines := c.ok("FETCH 1:* FLAGS"); len(lines) != 0 {
		t.Fatalf("empty mailbox: %q", lines)
	}
	for i := 1; i <= 3; i++ {
		e.appendMsg(a, "INBOX", testMessage(i, "x"))
	}
	c.ok("NOOP")
	if lines := c.ok("FETCH 5:* UID"); len(lines) != 1 || lines[0] != "* 3 FETCH (UID 3)" {
		t.Fatalf("5:*: %q", lines)
	}
	c.fails("BAD", "FETCH 2:5 UID")
}
