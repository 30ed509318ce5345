package imapserver

import (
	"strings"
	"testing"
)

func TestMailboxLifecycle(t *testing.T) {
	e := newTestEnv(t)
	e.addUser("alice@example.org")
	c := e.login("alice@example.org")

	lines := c.ok(`LIST "" "*"`)
	mustHave(t, lines, `* LIST (\HasNoChildren) "/" INBOX`)
	mustHave(t, lines, `\Sent) "/" Sent`)
	mustHave(t, lines, `\Trash) "/" Trash`)
	mustHave(t, c.ok(`LIST "" ""`), `* LIST (\Noselect) "/" ""`)

	// CREATE makes missing parents; the trailing separator is dropped.
	c.ok("CREATE Projects/2024/Q1/")
	lines = c.ok(`LIST "" "Projects*"`)
	mustHave(t, lines, `(\HasChildren) "/" Projects`)
	mustHave(t, lines, `(\HasNoChildren) "/" Projects/2024/Q1`)
	lines = c.ok(`LIST "" "Projects/%%"`)
	if len(lines) != 1 || !strings.HasSuffix(lines[0], `"/" Projects/2024`) {
		t.Fatalf("%% must not cross levels: %q", lines)
	}
	if done := c.fails("NO", "CREATE Projects"); !strings.Contains(done, "ALREADYEXISTS") {
		t.Fatal(done)
	}
	c.fails("NO", "CREATE inbox")

	// Special use at creation (RFC 6154).
	c.ok(`CREATE Receipts (USE (\Archive))`)
	lines = c.ok(`LIST (SPECIAL-USE) "" "*"`)
	mustHave(t, lines, `\Archive) "/" Receipts`)
	if has(lines, `"/" INBOX`) {
		t.Fatal("INBOX listed under SPECIAL-USE selection")
	}
	if done := c.fails("NO", `CREATE Other (USE (\Bogus))`); !strings.Contains(done, "USEATTR") {
		t.Fatal(done)
	}

	// RENAME moves children along.
	c.ok("RENAME Projects Work")
	lines = c.ok(`LIST "" "*"`)
	mustHave(t, lines, `"/" Work/2024/Q1`)
	if has(lines, "Projects") {
		t.Fatalf("old name still listed: %q", lines)
	}

	// DELETE refuses a parent, accepts a leaf, refuses INBOX.
	if done := c.fails("NO", "DELETE Work/2024"); !strings.Contains(done, "INUSE") {
		t.Fatal(done)
	}
	c.ok("DELETE Work/2024/Q1")
	c.ok("DELETE Work/2024")
	c.fails("NO", "DELETE INBOX")
	if done := c.fails("NO", "DELETE Nowhere"); !strings.Contains(done, "NONEXISTENT") {
		t.Fatal(done)
	}
}

func TestSubscriptionsAndListExtended(t *testing.T) {
	e := newTestEnv(t)
	e.addUser("alice@example.org")
	c := e.login("alice@example.org")
	c.ok("CREATE Lists/go")
	c.ok("UNSUBSCRIBE Lists")
	c.ok("SUBSCRIBE Lists/go")
	c.ok("UNSUBSCRIBE Sent")

	lines := c.ok(`LSUB "" "*"`)
	mustHave(t, lines, `* LSUB`, `"/" Lists/go`)
	if has(lines, `"/" Sent`) || has(lines, `"/" Lists`+"\r") {
		t.Fatalf("LSUB lists unsubscribed: %q", lines)
	}
	lines = c.ok(`LIST (SUBSCRIBED RECURSIVEMATCH) "" "Lists"`)
	mustHave(t, lines, `"/" Lists ("CHILDINFO" ("SUBSCRIBED"))`)
	lines = c.ok(`LIST "" "*" RETURN (SUBSCRIBED)`)
	mustHave(t, lines, `\Subscribed`, `"/" Lists/go`)
	if has(lines, `\Subscribed`, `"/" Sent`) {
		t.Fatal("Sent still subscribed")
	}
	// Several patterns (RFC 5258).
	lines = c.ok(`LIST "" ("INBOX" "Trash")`)
	if len(lines) != 2 {
		t.Fatalf("two patterns: %q", lines)
	}
	// LIST-STATUS (RFC 5819).
	e.appendMsg(e.mustAccount("alice@example.org"), "INBOX", testMessage(1, "hi"))
	lines = c.ok(`LIST "" "INBOX" RETURN (STATUS (MESSAGES UNSEEN SIZE))`)
	mustHave(t, lines, `* STATUS INBOX (MESSAGES 1 UNSEEN 1 SIZE `)
	c.fails("BAD", `LIST (RECURSIVEMATCH) "" "*"`)
	c.fails("BAD", `LIST "" "*" RETURN (BOGUS)`)
}

func TestStatusAndNamespace(t *testing.T) {
	e := newTestEnv(t)
	a := e.addUser("alice@example.org")
	for i := 0; i < 3; i++ {
		e.appendMsg(a, "INBOX", testMessage(i, "s"), "$seen")
	}
	e.appendMsg(a, "INBOX", testMessage(9, "new"), "$deleted")
	c := e.login("alice@example.org")
	lines := c.ok("STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED RECENT HIGHESTMODSEQ APPENDLIMIT)")
	mustHave(t, lines, "* STATUS INBOX (MESSAGES 4 UIDNEXT 5 UIDVALIDITY ", "UNSEEN 1 DELETED 1 RECENT 0 HIGHESTMODSEQ ", "APPENDLIMIT ")
	c.fails("NO", "STATUS Missing (MESSAGES)")
	c.fails("BAD", "STATUS INBOX (BOGUS)")
	mustHave(t, c.ok("NAMESPACE"), `* NAMESPACE (("" "/")) NIL NIL`)
}

// Non-ASCII names are modified UTF-7 for IMAP4rev1 and UTF-8 once
// IMAP4rev2 is enabled.
func TestMailboxNameEncoding(t *testing.T) {
	e := newTestEnv(t)
	e.addUser("alice@example.org")
	c := e.login("alice@example.org")
	c.ok("CREATE &ZeVnLIqe-")         // 日本語
	c.ok(`CREATE "Entw&APw-rfe/alt"`) // Entwürfe/alt
	lines := c.ok(`LIST "" "*"`)
	mustHave(t, lines, `"/" &ZeVnLIqe-`)
	mustHave(t, lines, `"/" Entw&APw-rfe/alt`)
	c.ok("ENABLE IMAP4rev2")
	lines = c.ok(`LIST "" "*"`)
	mustHave(t, lines, `"/" "日本語"`)
	mustHave(t, lines, `"/" "Entwürfe/alt"`)
	c.ok(`SELECT "Entwürfe"`)
}
