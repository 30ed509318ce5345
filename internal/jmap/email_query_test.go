package jmap

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"freehold/internal/store"
)

// queryFixture delivers five messages to alice: three in a thread.
func queryFixture(t *testing.T, e *testEnv) []store.MessageID {
	mk := func(i int, from, subject, refs, body string) string {
		return fmt.Sprintf("From: %s\nTo: alice@example.org\nSubject: %s\nDate: Fri, 01 May 2026 1%d:00:00 +0000\nMessage-ID: <q%d@x>\n%s\n%s\n",
			from, subject, i, i, refs, body)
	}
	ids := []store.MessageID{
		e.deliver(e.alice, "INBOX", mk(0, "Zed <zed@example.net>", "Alpha", "", "first body about turtles")),
		e.deliver(e.alice, "INBOX", mk(1, "amy@example.net", "Re: Alpha", "In-Reply-To: <q0@x>\n", "second with Penguins"), "$seen"),
		e.deliver(e.alice, "Archive", mk(2, "Bea <bea@example.net>", "Beta", "", "third"), "$flagged"),
		e.deliver(e.alice, "INBOX", mk(3, "Cy <cy@example.net>", "Re: Alpha", "In-Reply-To: <q1@x>\n", "fourth"), "$seen"),
		e.deliver(e.alice, "INBOX", mk(4, "Dee <dee@example.net>", "Gamma", "X-Tag: orange\n", "fifth"+strings.Repeat(" filler", 100))),
	}
	return ids
}

func TestEmailQuery(t *testing.T) { testEmailQuery(t, newEnv(t)) }

func testEmailQuery(t *testing.T, e *testEnv) {
	ids := queryFixture(t, e)
	E := func(i int) string { return emailIDString(ids[i]) }
	inbox := mailboxIDString(e.mailboxID(e.alice, "INBOX"))
	archive := mailboxIDString(e.mailboxID(e.alice, "Archive"))
	q := func(args map[string]any) []string {
		t.Helper()
		return strs(e.call1(e.alice, "Email/query", args)["ids"])
	}
	eq := func(name string, got []string, want ...int) {
		t.Helper()
		var w []string
		for _, i := range want {
			w = append(w, E(i))
		}
		if !slices.Equal(got, w) {
			t.Errorf("%s: got %v, want %v", name, got, w)
		}
	}
	desc := []any{map[string]any{"property": "receivedAt", "isAscending": false}}
	eq("all", q(map[string]any{"sort": desc}), 4, 3, 2, 1, 0)
	eq("inbox", q(map[string]any{"filter": map[string]any{"inMailbox": inbox}, "sort": desc}), 4, 3, 1, 0)
	eq("other than inbox", q(map[string]any{"filter": map[string]any{"inMailboxOtherThan": []string{inbox}}}), 2)
	eq("unread", q(map[string]any{"filter": map[string]any{"notKeyword": "$seen", "inMailbox": inbox}, "sort": desc}), 4, 0)
	eq("flagged", q(map[string]any{"filter": map[string]any{"hasKeyword": "$flagged"}}), 2)
	eq("from", q(map[string]any{"filter": map[string]any{"from": "BEA"}}), 2)
	eq("subject", q(map[string]any{"filter": map[string]any{"subject": "alpha"}, "sort": desc}), 3, 1, 0)
	eq("OR", q(map[string]any{"filter": map[string]any{"operator": "OR", "conditions": []any{
		map[string]any{"inMailbox": archive}, map[string]any{"subject": "gamma"}}}, "sort": desc}), 4, 2)
	eq("NOT", q(map[string]any{"filter": map[string]any{"operator": "NOT", "conditions": []any{
		map[string]any{"inMailbox": inbox}}}}), 2)
	eq("minSize", q(map[string]any{"filter": map[string]any{"minSize": 600}}), 4)
	eq("all in thread seen", q(map[string]any{"filter": map[string]any{"allInThreadHaveKeyword": "$seen"}}))
	eq("some in thread seen", q(map[string]any{"filter": map[string]any{"someInThreadHaveKeyword": "$seen"}, "sort": desc}), 3, 1, 0)
	eq("none in thread seen", q(map[string]any{"filter": map[string]any{"noneInThreadHaveKeyword": "$seen"}, "sort": desc}), 4, 2)
	eq("after", q(map[string]any{"filter": map[string]any{"after": "2026-05-01T12:00:03Z"}, "sort": desc}), 4, 3)
	// Body text, read from the messages.
	eq("text body", q(map[string]any{"filter": map[string]any{"text": "penguins"}}), 1)
	eq("text from", q(map[string]any{"filter": map[string]any{"text": "zed@"}}), 0)
	eq("body", q(map[string]any{"filter": map[string]any{"body": "turtles", "inMailbox": inbox}}), 0)
	eq("header", q(map[string]any{"filter": map[string]any{"header": []string{"X-Tag", "ORANGE"}}}), 4)
	eq("body or flagged", q(map[string]any{"filter": map[string]any{"operator": "OR", "conditions": []any{
		map[string]any{"body": "turtles"}, map[string]any{"hasKeyword": "$flagged"}}}, "sort": desc}), 2, 0)
	eq("not body", q(map[string]any{"filter": map[string]any{"operator": "NOT", "conditions": []any{
		map[string]any{"body": "fi"}}}, "sort": desc}), 3, 2, 1)
	// Sorts.
	eq("from asc", q(map[string]any{"sort": []any{map[string]any{"property": "from"}}}), 1, 2, 3, 4, 0)
	eq("subject then date", q(map[string]any{"sort": []any{map[string]any{"property": "subject"},
		map[string]any{"property": "receivedAt", "isAscending": false}}}), 0, 2, 4, 3, 1)
	eq("size desc", q(map[string]any{"sort": []any{map[string]any{"property": "size", "isAscending": false}}})[:1], 4)
	eq("hasKeyword", q(map[string]any{"sort": []any{map[string]any{"property": "hasKeyword", "keyword": "$flagged", "isAscending": false},
		map[string]any{"property": "receivedAt"}}}), 2, 0, 1, 3, 4)
	// Threads collapse to their newest email in the sort order.
	eq("collapsed", q(map[string]any{"sort": desc, "collapseThreads": true}), 4, 3, 2)
	// Windows.
	r := e.call1(e.alice, "Email/query", map[string]any{"sort": desc, "position": 1, "limit": 2, "calculateTotal": true})
	eq("window", strs(r["ids"]), 3, 2)
	if r["total"] != float64(5) || r["position"] != float64(1) {
		t.Errorf("window: %v", r)
	}
	r = e.call1(e.alice, "Email/query", map[string]any{"sort": desc, "position": -2})
	eq("negative position", strs(r["ids"]), 1, 0)
	r = e.call1(e.alice, "Email/query", map[string]any{"sort": desc, "anchor": E(2), "anchorOffset": -1, "limit": 2})
	eq("anchor", strs(r["ids"]), 3, 2)
	if r["position"] != float64(1) {
		t.Errorf("anchor position: %v", r["position"])
	}
	r = e.call1(e.alice, "Email/query", map[string]any{"sort": desc, "collapseThreads": true, "calculateTotal": true, "limit": 1})
	if r["total"] != float64(3) {
		t.Errorf("collapsed total: %v", r)
	}
	for _, collapse := range []bool{false, true} {
		r = e.call1(e.alice, "Email/query", map[string]any{"filter": map[string]any{"inMailbox": inbox}, "collapseThreads": collapse,
			"calculateTotal": true, "limit": 0})
		if len(strs(r["ids"])) != 0 || r["total"] == float64(0) {
			t.Errorf("limit 0, collapse %v: %v", collapse, r)
		}
	}
	for _, bad := range []map[string]any{
		{"sort": []any{map[string]any{"property": "bogus"}}},
		{"filter": map[string]any{"bogus": 1}},
		{"anchor": "E999999"},
		{"filter": map[string]any{"before": "yesterday"}},
		{"filter": map[string]any{"operator": "XOR", "conditions": []any{}}},
		{"limit": -1},
	} {
		if typ := e.callErr(e.alice, "Email/query", bad); typ == "" {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestEmailQueryChanges(t *testing.T) { testEmailQueryChanges(t, newEnv(t)) }

func testEmailQueryChanges(t *testing.T, e *testEnv) {
	ids := queryFixture(t, e)
	inbox := mailboxIDString(e.mailboxID(e.alice, "INBOX"))
	args := map[string]any{"filter": map[string]any{"inMailbox": inbox},
		"sort": []any{map[string]any{"property": "receivedAt", "isAscending": false}}, "collapseThreads": true}
	r := e.call1(e.alice, "Email/query", args)
	old := strs(r["ids"])
	state := r["queryState"].(string)
	// A new reply in the first thread replaces its representative.
	n := e.deliver(e.alice, "INBOX", "From: x@example.net\nSubject: Re: Alpha\nMessage-ID: <q9@x>\nIn-Reply-To: <q3@x>\n\nnew\n")
	args["sinceQueryState"] = state
	args["calculateTotal"] = true
	qc := e.call1(e.alice, "Email/queryChanges", args)
	removed := strs(qc["removed"])
	// Apply the changes to the old list as a client would.
	cur := slices.DeleteFunc(slices.Clone(old), func(id string) bool { return slices.Contains(removed, id) })
	for _, a := range qc["added"].([]any) {
		am := a.(map[string]any)
		i := int(am["index"].(float64))
		cur = slices.Insert(cur, i, am["id"].(string))
	}
	delete(args, "sinceQueryState")
	delete(args, "calculateTotal")
	want := strs(e.call1(e.alice, "Email/query", args)["ids"])
	if !slices.Equal(cur, want) {
		t.Errorf("after queryChanges: %v, want %v (old %v, change %v)", cur, want, old, qc)
	}
	if want[0] != emailIDString(n) || qc["total"] != float64(len(want)) {
		t.Errorf("new email first: %v; %v", want, qc)
	}
	_ = ids
}

// TestIMAPJMAPStates checks that JMAP and IMAP read one change log: a
// keyword change made the way the IMAP server makes it shows in
// Email/changes, and an Email/set shows in the store's MailboxChanges.
func TestIMAPJMAPStates(t *testing.T) { testIMAPJMAPStates(t, newEnv(t)) }

func testIMAPJMAPStates(t *testing.T, e *testEnv) {
	ctx := context.Background()
	id := e.deliver(e.alice, "INBOX", simpleMsg)
	inboxID := e.mailboxID(e.alice, "INBOX")
	st := e.call1(e.alice, "Email/get", map[string]any{"ids": []string{}})["state"].(string)

	entries, err := e.st.Entries(ctx, e.alice.ID, inboxID)
	if err != nil || len(entries) != 1 {
		t.Fatal(entries, err)
	}
	// IMAP STORE +FLAGS (\Seen).
	if _, _, err := e.st.UpdateKeywords(ctx, e.alice.ID, store.KeywordUpdate{Mailbox: inboxID,
		UIDs: []store.UID{entries[0].UID}, Mode: store.KeywordsAdd, Keywords: []string{store.KeywordSeen}}); err != nil {
		t.Fatal(err)
	}
	ch := e.call1(e.alice, "Email/changes", map[string]any{"sinceState": st})
	if u := strs(ch["updated"]); len(u) != 1 || u[0] != emailIDString(id) {
		t.Errorf("Email/changes after IMAP STORE: %v", ch)
	}
	mch := e.call1(e.alice, "Mailbox/changes", map[string]any{"sinceState": st})
	if u := strs(mch["updated"]); len(u) != 1 || u[0] != mailboxIDString(inboxID) {
		t.Errorf("Mailbox/changes after IMAP STORE: %v", mch)
	}
	r := e.call1(e.alice, "Email/get", map[string]any{"ids": []string{emailIDString(id)}, "properties": []string{"keywords"}})
	if kw := list(r)[0]["keywords"].(map[string]any); kw["$seen"] != true {
		t.Errorf("keywords: %v", kw)
	}

	// And the other way: JMAP Email/set flags, IMAP sees it.
	highest := entries[0].ModSeq
	st2, _ := e.st.MailboxStatus(ctx, e.alice.ID, inboxID)
	highest = st2.HighestModSeq
	e.call1(e.alice, "Email/set", map[string]any{"update": map[string]any{emailIDString(id): map[string]any{"keywords/$flagged": true}}})
	d, err := e.st.MailboxChanges(ctx, e.alice.ID, inboxID, highest)
	if err != nil || len(d.Changed) != 1 || !slices.Contains(d.Changed[0].Keywords, store.KeywordFlagged) {
		t.Errorf("MailboxChanges after Email/set: %+v %v", d, err)
	}
}

func TestSearchSnippet(t *testing.T) { testSearchSnippet(t, newEnv(t)) }

func testSearchSnippet(t *testing.T, e *testEnv) {
	ids := queryFixture(t, e)
	r := e.call1(e.alice, "SearchSnippet/get", map[string]any{"filter": map[string]any{"text": "penguins"},
		"emailIds": []string{emailIDString(ids[1]), emailIDString(ids[2]), "E999999"}})
	l := list(r)
	if len(l) != 2 || len(strs(r["notFound"])) != 1 {
		t.Fatalf("snippets: %v", r)
	}
	if p, _ := l[0]["preview"].(string); !strings.Contains(p, "<mark>penguins</mark>") {
		t.Errorf("preview: %v", l[0])
	}
	if l[1]["preview"] != nil || l[1]["subject"] != nil {
		t.Errorf("no match: %v", l[1])
	}
	r = e.call1(e.alice, "SearchSnippet/get", map[string]any{"filter": map[string]any{"subject": "<b>"},
		"emailIds": []string{emailIDString(ids[0])}})
	if l := list(r); l[0]["subject"] != nil {
		t.Errorf("subject: %v", l[0])
	}
}
