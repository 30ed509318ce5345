package imapserver

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var highestRE = regexp.MustCompile(`HIGHESTMODSEQ (\d+)`)

func highest(t *testing.T, lines []string) int64 {
	t.Helper()
	for _, l := range lines {
		if m := highestRE.FindStringSubmatch(l); m != nil {
			n, _ := strconv.ParseInt(m[1], 10, 64)
			return n
		}
	}
	t.Fatalf("no HIGHESTMODSEQ in %q", lines)
	return 0
}

func TestCondStore(t *testing.T) {
	e := newTestEnv(t)
	a := e.addUser("alice@example.org")
	for i := 1; i <= 4; i++ {
		e.appendMsg(a, "INBOX", testMessage(i, "x"))
	}
	c := e.login("alice@example.org")
	lines := c.ok("SELECT INBOX (CONDSTORE)")
	base := highest(t, lines)

	lines = c.ok(`STORE 1 (UNCHANGEDSINCE %d) +FLAGS (\Seen)`, base)
	mustHave(t, lines, `* 1 FETCH (FLAGS (\Seen) MODSEQ (`)
	// The same condition now fails for message 1 only.
	lines, done := c.cmd(`STORE 1:2 (UNCHANGEDSINCE %d) +FLAGS (\Flagged)`, base)
	if !strings.HasPrefix(done, "OK [MODIFIED 1]") {
		t.Fatalf("conditional STORE: %q %q", lines, done)
	}
	mustHave(t, lines, "* 2 FETCH (FLAGS (\\Flagged) MODSEQ (")
	if has(lines, "* 1 FETCH") {
		t.Fatalf("failed message reported: %q", lines)
	}
	// UNCHANGEDSINCE 0 always fails.
	if _, done = c.cmd(`UID STORE 3 (UNCHANGEDSINCE 0) +FLAGS (\Seen)`); !strings.HasPrefix(done, "OK [MODIFIED 3]") {
		t.Fatal(done)
	}
	// .SILENT still reports the new MODSEQ.
	lines = c.ok(`STORE 4 +FLAGS.SILENT (\Seen)`)
	mustHave(t, lines, "* 4 FETCH (MODSEQ (")

	lines = c.ok("FETCH 1:* (FLAGS) (CHANGEDSINCE %d)", base)
	if len(lines) != 3 || has(lines, "* 3 FETCH") {
		t.Fatalf("CHANGEDSINCE: %q", lines)
	}
	mustHave(t, lines, "MODSEQ (")
	lines = c.ok("SEARCH MODSEQ %d", base+1)
	mustHave(t, lines, "* SEARCH 1 2 4 (MODSEQ ")
	lines = c.ok(`SEARCH MODSEQ "/flags/\\draft" all %d`, base+1)
	mustHave(t, lines, "* SEARCH 1 2 4 (MODSEQ ")
	lines = c.ok("STATUS INBOX (HIGHESTMODSEQ)")
	if highest(t, lines) <= base {
		t.Fatalf("HIGHESTMODSEQ did not grow: %q", lines)
	}
	c.fails("BAD", "SELECT INBOX (QRESYNC (1 1))") // not enabled
}

func TestQResync(t *testing.T) {
	e := newTestEnv(t)
	a := e.addUser("alice@example.org")
	for i := 1; i <= 6; i++ {
		e.appendMsg(a, "INBOX", testMessage(i, "x"))
	}
	c := e.login("alice@example.org")
	c.ok("ENABLE QRESYNC")
	lines := c.ok("SELECT INBOX")
	base := highest(t, lines)
	var validity string
	for _, l := range lines {
		if strings.Contains(l, "UIDVALIDITY") {
			validity = strings.Fields(strings.Trim(l[strings.Index(l, "[")+1:], "]"))[1]
			validity = strings.TrimSuffix(validity, "]")
		}
	}
	c.ok("UNSELECT")

	// Another client changes flags and expunges while this one is away.
	o := e.login("alice@example.org")
	o.ok("SELECT INBOX")
	o.ok(`STORE 2 +FLAGS (\Flagged)`)
	o.ok(`STORE 3,5 +FLAGS (\Deleted)`)
	o.ok("EXPUNGE")

	lines = c.ok("SELECT INBOX (QRESYNC (%s %d))", validity, base)
	mustHave(t, lines, "* VANISHED (EARLIER) 3,5")
	mustHave(t, lines, `* 2 FETCH (UID 2 FLAGS (\Flagged) MODSEQ (`)
	now := highest(t, lines)
	// With known UIDs the report is limited to them.
	lines = c.ok("SELECT INBOX (QRESYNC (%s %d 1:4))", validity, base)
	mustHave(t, lines, "* OK [CLOSED]")
	mustHave(t, lines, "* VANISHED (EARLIER) 3")
	if has(lines, "VANISHED (EARLIER) 3,5") {
		t.Fatalf("known-uids ignored: %q", lines)
	}
	// A wrong UIDVALIDITY gets a plain SELECT.
	lines = c.ok("SELECT INBOX (QRESYNC (1 %d))", base)
	if has(lines, "VANISHED") {
		t.Fatalf("VANISHED despite UIDVALIDITY mismatch: %q", lines)
	}
	// UID FETCH ... (CHANGEDSINCE m VANISHED).
	lines = c.ok("UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d VANISHED)", base)
	mustHave(t, lines, "* VANISHED (EARLIER) 3,5")
	mustHave(t, lines, "* 2 FETCH (UID 2 FLAGS (\\Flagged) MODSEQ")
	c.fails("BAD", "FETCH 1:* (FLAGS) (CHANGEDSINCE %d VANISHED)", base)
	// EXPUNGE reports VANISHED and the new HIGHESTMODSEQ.
	c.ok(`UID STORE 6 +FLAGS (\Deleted)`)
	lines, done := c.cmd("EXPUNGE")
	if !has(lines, "* VANISHED 6") || !strings.HasPrefix(done, "OK [HIGHESTMODSEQ ") || highest(t, []string{done}) <= now {
		t.Fatalf("EXPUNGE: %q %q", lines, done)
	}
}
