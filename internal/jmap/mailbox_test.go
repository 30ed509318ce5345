package jmap

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"freehold/internal/store"
)

const simpleMsg = `From: Carol <carol@example.net>
To: alice@example.org
Subject: Hello there
Date: Fri, 01 May 2026 10:00:00 +0000
Message-ID: <m1@example.net>

Hi Alice, how are you?
`

func mailboxByRole(t *testing.T, l []map[string]any, role string) map[string]any {
	t.Helper()
	for _, m := range l {
		if m["role"] == role {
			return m
		}
	}
	t.Fatalf("no mailbox with role %s in %v", role, l)
	return nil
}

func TestMailboxGet(t *testing.T) {
	e := newEnv(t)
	e.deliver(e.alice, "INBOX", simpleMsg)
	e.deliver(e.alice, "INBOX", simpleMsg, "$seen")
	r := e.call1(e.alice, "Mailbox/get", map[string]any{"ids": nil})
	l := list(r)
	if len(l) != 6 {
		t.Fatalf("mailboxes: %v", l)
	}
	in := mailboxByRole(t, l, "inbox")
	if in["name"] != "INBOX" || in["totalEmails"] != float64(2) || in["unreadEmails"] != float64(1) ||
		in["totalThreads"] != float64(1) || in["unreadThreads"] != float64(1) || in["parentId"] != nil {
		t.Errorf("inbox: %v", in)
	}
	for _, role := range []string{"sent", "drafts", "junk", "trash", "archive"} {
		mailboxByRole(t, l, role)
	}
	if rights := in["myRights"].(map[string]any); rights["mayDelete"] != false || rights["mayReadItems"] != true {
		t.Errorf("inbox rights: %v", rights)
	}
	// Properties restrict the output; unknown ids are notFound.
	r = e.call1(e.alice, "Mailbox/get", map[string]any{"ids": []string{in["id"].(string), "M999999", "junk"},
		"properties": []string{"name"}})
	l = list(r)
	if len(l) != 1 || len(l[0]) != 2 || l[0]["name"] != "INBOX" {
		t.Errorf("with properties: %v", l)
	}
	if nf := strs(r["notFound"]); len(nf) != 2 {
		t.Errorf("notFound: %v", nf)
	}
}

func TestMailboxSetAndChanges(t *testing.T) { testMailboxSetAndChanges(t, newEnv(t)) }

func testMailboxSetAndChanges(t *testing.T, e *testEnv) {
	r0 := e.call1(e.alice, "Mailbox/get", map[string]any{"ids": []string{}})
	state0 := r0["state"].(string)
	r := e.call1(e.alice, "Mailbox/set", map[string]any{
		"create": map[string]any{
			"child":  map[string]any{"name": "Sub", "parentId": "#parent"},
			"parent": map[string]any{"name": "Projects", "isSubscribed": false},
			"bad":    map[string]any{"name": "a/b"},
			"role":   map[string]any{"name": "Other Inbox", "role": "inbox"},
		},
	})
	created := r["created"].(map[string]any)
	if len(created) != 2 {
		t.Fatalf("created: %v, notCreated %v", created, r["notCreated"])
	}
	notCreated := r["notCreated"].(map[string]any)
	if notCreated["bad"].(map[string]any)["type"] != setInvalidProperties || notCreated["role"] == nil {
		t.Errorf("notCreated: %v", notCreated)
	}
	parentID := created["parent"].(map[string]any)["id"].(string)
	childID := created["child"].(map[string]any)["id"].(string)
	pn, _ := parseMailboxID(parentID)
	cn, _ := parseMailboxID(childID)
	ctx := context.Background()
	if m, err := e.st.Mailbox(ctx, e.alice.ID, cn); err != nil || m.Name != "Projects/Sub" {
		t.Errorf("child: %v %v", m, err)
	}
	if m, _ := e.st.Mailbox(ctx, e.alice.ID, pn); m.Subscribed {
		t.Errorf("parent should be unsubscribed")
	}

	ch := e.call1(e.alice, "Mailbox/changes", map[string]any{"sinceState": state0})
	if c := strs(ch["created"]); len(c) != 2 {
		t.Errorf("changes created: %v", ch)
	}
	state1 := ch["newState"].(string)

	// Rename and move to the top, then destroy.
	r = e.call1(e.alice, "Mailbox/set", map[string]any{
		"update": map[string]any{childID: map[string]any{"name": "Top", "parentId": nil}},
	})
	if _, ok := r["updated"].(map[string]any)[childID]; !ok {
		t.Fatalf("update: %v", r)
	}
	if m, _ := e.st.Mailbox(ctx, e.alice.ID, cn); m.Name != "Top" {
		t.Errorf("renamed: %v", m.Name)
	}
	ch = e.call1(e.alice, "Mailbox/changes", map[string]any{"sinceState": state1})
	if u := strs(ch["updated"]); len(u) != 1 || u[0] != childID || ch["updatedProperties"] != nil {
		t.Errorf("changes after rename: %v", ch)
	}

	// A mailbox with mail is not destroyed without onDestroyRemoveEmails.
	e.deliver(e.alice, "Top", simpleMsg)
	r = e.call1(e.alice, "Mailbox/set", map[string]any{"destroy": []string{childID}})
	if nd := r["notDestroyed"].(map[string]any)[childID].(map[string]any); nd["type"] != setMailboxHasEmail {
		t.Errorf("destroy with mail: %v", r)
	}
	inbox := mailboxIDString(e.mailboxID(e.alice, "INBOX"))
	r = e.call1(e.alice, "Mailbox/set", map[string]any{"destroy": []string{childID, inbox, parentID}, "onDestroyRemoveEmails": true})
	if d := strs(r["destroyed"]); len(d) != 2 {
		t.Errorf("destroyed: %v", r)
	}
	if r["notDestroyed"].(map[string]any)[inbox].(map[string]any)["type"] != setForbidden {
		t.Errorf("inbox destroy: %v", r)
	}
	// ifInState guards the whole call.
	if got := e.callErr(e.alice, "Mailbox/set", map[string]any{"ifInState": state0, "destroy": []string{}}); got != errStateMismatch {
		t.Errorf("ifInState: %s", got)
	}
}

func TestMailboxCountsOnlyChange(t *testing.T) {
	e := newEnv(t)
	st := e.call1(e.alice, "Mailbox/get", map[string]any{"ids": []string{}})["state"].(string)
	e.deliver(e.alice, "INBOX", simpleMsg)
	ch := e.call1(e.alice, "Mailbox/changes", map[string]any{"sinceState": st})
	if u := strs(ch["updated"]); len(u) != 1 || len(strs(ch["updatedProperties"])) != 4 {
		t.Errorf("count change: %v", ch)
	}
}

func TestMailboxQuery(t *testing.T) { testMailboxQuery(t, newEnv(t)) }

func testMailboxQuery(t *testing.T, e *testEnv) {
	ctx := context.Background()
	e.st.CreateMailbox(ctx, e.alice.ID, store.NewMailbox{Name: "Work"})
	e.st.CreateMailbox(ctx, e.alice.ID, store.NewMailbox{Name: "Work/Alpha"})
	st := e.call1(e.alice, "Mailbox/get", map[string]any{"ids": []string{}})["state"].(string)
	r := e.call1(e.alice, "Mailbox/query", map[string]any{"filter": map[string]any{"hasAnyRole": false}, "sortAsTree": true, "calculateTotal": true})
	ids := strs(r["ids"])
	if len(ids) != 2 || r["total"] != float64(2) {
		t.Fatalf("query: %v", r)
	}
	work := mailboxIDString(e.mailboxID(e.alice, "Work"))
	if ids[0] != work {
		t.Errorf("tree order: %v", ids)
	}
	r = e.call1(e.alice, "Mailbox/query", map[string]any{"filter": map[string]any{"parentId": work}})
	if ids := strs(r["ids"]); len(ids) != 1 {
		t.Errorf("by parent: %v", r)
	}
	r = e.call1(e.alice, "Mailbox/query", map[string]any{"filter": map[string]any{"role": "inbox"}})
	if ids := strs(r["ids"]); len(ids) != 1 {
		t.Errorf("by role: %v", r)
	}
	if got := e.callErr(e.alice, "Mailbox/query", map[string]any{"sort": []any{map[string]any{"property": "bogus"}}}); got != errUnsupportedSort {
		t.Errorf("bad sort: %s", got)
	}
	if got := e.callErr(e.alice, "Mailbox/query", map[string]any{"filter": map[string]any{"bogus": 1}}); got != errUnsupportedFilter {
		t.Errorf("bad filter: %s", got)
	}
	e.st.CreateMailbox(ctx, e.alice.ID, store.NewMailbox{Name: "Zeta"})
	qc := e.call1(e.alice, "Mailbox/queryChanges", map[string]any{"sinceQueryState": st, "filter": map[string]any{"hasAnyRole": false}})
	if a := qc["added"].([]any); len(a) != 1 {
		t.Errorf("queryChanges: %v", qc)
	}
}

// TestMailboxCountsIncremental changes a mailbox in every way and checks
// that the counts kept up to date from the change log equal counts loaded
// afresh.
func TestMailboxCountsIncremental(t *testing.T) { testMailboxCountsIncremental(t, newEnv(t)) }

func testMailboxCountsIncremental(t *testing.T, e *testEnv) {
	ctx := context.Background()
	counts := func(srv *Server) map[string]any {
		r, err := srv.Execute(ctx, e.alice, []byte(`{"using":["`+CapMail+`"],"methodCalls":[["Mailbox/get",{"accountId":"`+
			accountIDString(e.alice.ID)+`","ids":null,"properties":["totalEmails","unreadEmails","totalThreads","unreadThreads"]},"0"]]}`))
		if err != nil {
			t.Fatal(err)
		}
		var g struct{ List []map[string]any }
		json.Unmarshal(r.MethodResponses[0].Args, &g)
		out := map[string]any{}
		for _, m := range g.List {
			out[m["id"].(string)] = m
		}
		return out
	}
	check := func(step string) {
		t.Helper()
		got := counts(e.srv)
		fresh := counts(New(Options{Store: e.st, Blobs: e.blobs, Clock: e.clock.now}))
		if !reflect.DeepEqual(got, fresh) {
			t.Errorf("%s: kept %v, fresh %v", step, got, fresh)
		}
	}
	check("empty")
	ids := queryFixture(t, e)
	check("delivered")
	inbox := mailboxIDString(e.mailboxID(e.alice, "INBOX"))
	archive := mailboxIDString(e.mailboxID(e.alice, "Archive"))
	e.call1(e.alice, "Email/set", map[string]any{"update": map[string]any{
		emailIDString(ids[0]): map[string]any{"keywords/$seen": true},
		emailIDString(ids[1]): map[string]any{"keywords/$seen": nil, "mailboxIds/" + archive: true},
	}})
	check("flags and copy")
	e.call1(e.alice, "Email/set", map[string]any{"update": map[string]any{
		emailIDString(ids[3]): map[string]any{"mailboxIds": map[string]any{archive: true}},
	}, "destroy": []string{emailIDString(ids[4])}})
	check("move and destroy")
	e.deliver(e.alice, "INBOX", "From: x@example.net\nSubject: Re: Alpha\nMessage-ID: <q7@x>\nIn-Reply-To: <q0@x>\n\nagain\n")
	check("reply")
	inboxID, _ := parseMailboxID(inbox)
	e.st.Expunge(ctx, e.alice.ID, inboxID, nil)
	entries, _ := e.st.Entries(ctx, e.alice.ID, inboxID)
	e.st.UpdateKeywords(ctx, e.alice.ID, store.KeywordUpdate{Mailbox: inboxID, UIDs: []store.UID{entries[0].UID},
		Mode: store.KeywordsAdd, Keywords: []string{store.KeywordSeen, store.KeywordDeleted}})
	e.st.Expunge(ctx, e.alice.ID, inboxID, nil)
	check("expunge")
}
