package imapserver

import (
	"fmt"
	"strings"
	"testing"
)

// searchEnv selects a mailbox of 6 messages: odd ones seen, 4 flagged,
// subjects "even"/"odd", message 6 has a body word.
func searchEnv(t *testing.T) *tclient {
	e := newTestEnv(t)
	a := e.addUser("alice@example.org")
	for i := 1; i <= 6; i++ {
		var kws []string
		if i%2 == 1 {
			kws = append(kws, "$seen")
		}
		if i == 4 {
			kws = append(kws, "$flagged", "todo")
		}
		subj := "even"
		if i%2 == 1 {
			subj = "odd"
		}
		raw := testMessage(i, subj)
		if i == 6 {
			raw = strings.Replace(raw, "Hello", "Zanzibar", 1)
		}
		e.appendMsg(a, "INBOX", raw, kws...)
	}
	c := e.login("alice@example.org")
	c.ok("SELECT INBOX")
	return c
}

func TestSearch(t *testing.T) {
	c := searchEnv(t)
	for _, tc := range []struct{ cmd, want string }{
		{"SEARCH ALL", "* SEARCH 1 2 3 4 5 6"},
		{"SEARCH SEEN", "* SEARCH 1 3 5"},
		{"SEARCH UNSEEN FLAGGED", "* SEARCH 4"},
		{"SEARCH KEYWORD todo", "* SEARCH 4"},
		{"SEARCH OR 1 6", "* SEARCH 1 6"},
		{"SEARCH NOT (SEEN)", "* SEARCH 2 4 6"},
		{"SEARCH SUBJECT odd", "* SEARCH 1 3 5"},
		{"SEARCH CHARSET UTF-8 FROM alice", "* SEARCH 1 2 3 4 5 6"},
		{"SEARCH CC nobody", "* SEARCH"},
		{"SEARCH BODY zanzibar", "* SEARCH 6"},
		{`SEARCH TEXT "number 3"`, "* SEARCH 3"},
		{"SEARCH HEADER Message-ID <m2@", "* SEARCH 2"},
		{"SEARCH 2:4 SEEN", "* SEARCH 3"},
		{"SEARCH UID 5:*", "* SEARCH 5 6"},
		{"SEARCH RECENT", "* SEARCH"},
		{"SEARCH SINCE 1-Mar-2024", "* SEARCH 1 2 3 4 5 6"},
		{"SEARCH BEFORE 1-Mar-2024", "* SEARCH"},
		{"SEARCH SENTON 1-Mar-2024 LARGER 10", "* SEARCH 1 2 3 4 5 6"},
		{"UID SEARCH SEEN", "* SEARCH 1 3 5"},
	} {
		lines := c.ok("%s", tc.cmd)
		if len(lines) != 1 || lines[0] != tc.want {
			t.Errorf("%s: got %q, want %q", tc.cmd, lines, tc.want)
		}
	}
	if done := c.fails("NO", "SEARCH CHARSET KOI8-R ALL"); !strings.Contains(done, "BADCHARSET") {
		t.Fatal(done)
	}
	c.fails("BAD", "SEARCH BOGUS")
	c.fails("BAD", "SEARCH SINCE notadate")
	c.fails("BAD", "SEARCH")
	c.fails("BAD", "SEARCH (")
	c.fails("BAD", "SEARCH %sALL", strings.Repeat("NOT ", 200))
}

func TestESearchAndSaved(t *testing.T) {
	c := searchEnv(t)
	lines := c.ok("SEARCH RETURN (MIN MAX COUNT) SEEN")
	want := `* ESEARCH (TAG "t3") MIN 1 MAX 5 COUNT 3`
	if len(lines) != 1 || lines[0] != want {
		t.Fatalf("got %q, want %q", lines, want)
	}
	lines = c.ok("UID SEARCH RETURN () NOT SEEN")
	mustHave(t, lines, `UID ALL 2,4,6`)
	lines = c.ok("SEARCH RETURN (COUNT) KEYWORD nothing")
	mustHave(t, lines, "COUNT 0")
	// SEARCHRES: save, then use "$" in FETCH, STORE and SEARCH.
	if lines := c.ok("SEARCH RETURN (SAVE) SUBJECT even"); len(lines) != 0 {
		t.Fatalf("SAVE alone answered %q", lines)
	}
	lines = c.ok("FETCH $ UID")
	if len(lines) != 3 {
		t.Fatalf("FETCH $: %q", lines)
	}
	c.ok(`STORE $ +FLAGS (\Answered)`)
	lines = c.ok("SEARCH $ ANSWERED")
	if lines[0] != "* SEARCH 2 4 6" {
		t.Fatalf("SEARCH $: %q", lines)
	}
	lines = c.ok("UID SEARCH RETURN (SAVE MIN) ALL")
	mustHave(t, lines, "MIN 1")
	if lines = c.ok("UID FETCH $ UID"); len(lines) != 1 {
		t.Fatalf("saved MIN: %q", lines)
	}
	// IMAP4rev2: SEARCH answers ESEARCH.
	c.ok("ENABLE IMAP4rev2")
	lines = c.ok("SEARCH FLAGGED")
	mustHave(t, lines, `* ESEARCH (TAG "`, "ALL 4")
}

func TestSortAndThread(t *testing.T) {
	e := newTestEnv(t)
	a := e.addUser("alice@example.org")
	subjects := []string{"Charlie", "alpha", "Re: alpha", "bravo"}
	for i, s := range subjects {
		raw := fmt.Sprintf("From: u%d@example.org\r\nSubject: %s\r\nDate: Fri, %d Mar 2024 12:00:00 +0000\r\nMessage-ID: <t%d@x>\r\n", i, s, 10-i, i)
		if i == 2 {
			raw += "In-Reply-To: <t1@x>\r\nReferences: <t1@x>\r\n"
		}
		e.appendMsg(a, "INBOX", raw+"\r\nbody\r\n")
	}
	c := e.login("alice@example.org")
	c.ok("SELECT INBOX")
	mustHave(t, c.ok("SORT (SUBJECT) UTF-8 ALL"), "* SORT 2 3 4 1")
	mustHave(t, c.ok("SORT (REVERSE DATE) UTF-8 ALL"), "* SORT 1 2 3 4")
	mustHave(t, c.ok("UID SORT (ARRIVAL) US-ASCII NOT SUBJECT bravo"), "* SORT 1 2 3")
	mustHave(t, c.ok("THREAD REFERENCES UTF-8 ALL"), "* THREAD (4)(2 3)(1)")
	mustHave(t, c.ok("THREAD ORDEREDSUBJECT UTF-8 ALL"), "* THREAD ")
	mustHave(t, c.ok("THREAD REFERENCES UTF-8 SUBJECT nothing-matches"), "* THREAD")
	c.fails("BAD", "SORT (BOGUS) UTF-8 ALL")
	c.fails("BAD", "THREAD BOGUS UTF-8 ALL")
	c.fails("NO", "SORT (DATE) KOI8-R ALL")
}
