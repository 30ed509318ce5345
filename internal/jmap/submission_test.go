package jmap

import (
	"context"
	"strings"
	"testing"
	"time"

	"freehold/internal/store"
)

// draft creates a draft from alice to the given recipients and returns
// its id.
func (e *testEnv) draft(acct store.Account, from string, to ...string) string {
	e.t.Helper()
	var rcpts []any
	for _, t := range to {
		rcpts = append(rcpts, map[string]any{"email": t})
	}
	drafts := mailboxIDString(e.mailboxID(acct, "Drafts"))
	r := e.call1(acct, "Email/set", map[string]any{"create": map[string]any{"d": map[string]any{
		"mailboxIds": map[string]any{drafts: true}, "keywords": map[string]any{"$draft": true},
		"from": []any{map[string]any{"email": from}}, "to": rcpts[:1], "bcc": rcpts[1:], "subject": "Hi",
		"bodyValues": map[string]any{"1": map[string]any{"value": "body"}}, "textBody": []any{map[string]any{"partId": "1"}},
	}}})
	c, ok := r["created"].(map[string]any)["d"].(map[string]any)
	if !ok {
		e.t.Fatalf("draft: %v", r)
	}
	return c["id"].(string)
}

func (e *testEnv) identityID(acct store.Account) string {
	e.t.Helper()
	r := e.call1(acct, "Identity/get", nil)
	return list(r)[0]["id"].(string)
}

// queue is the test store's outbound queue.
func (e *testEnv) queue() store.QueueDelivery {
	e.t.Helper()
	q, ok := e.st.(store.QueueDelivery)
	if !ok {
		e.t.Fatal("the store has no outbound queue")
	}
	return q
}

// held lists the queue ids held for acct, as `freehold queue held` does.
func (e *testEnv) held(acct store.Account) []store.QueueID {
	e.t.Helper()
	ms, err := e.queue().QueueHeld(context.Background(), acct.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	var ids []store.QueueID
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	return ids
}

// release runs one claim of the queue runner at the test clock's time and
// returns the queue ids it took (the messages it sends now).
func (e *testEnv) release() []store.QueueWork {
	e.t.Helper()
	w, err := e.queue().QueueClaim(context.Background(), store.QueueClaim{Now: e.clock.now(), Owner: "test", Lease: time.Minute, Limit: 10})
	if err != nil {
		e.t.Fatal(err)
	}
	return w
}

func (e *testEnv) submission(acct store.Account, id string) map[string]any {
	e.t.Helper()
	l := list(e.call1(acct, "EmailSubmission/get", map[string]any{"ids": []string{id}}))
	if len(l) != 1 {
		e.t.Fatalf("EmailSubmission/get %s: %v", id, l)
	}
	return l[0]
}

func TestSubmissionUndo(t *testing.T) { testSubmissionUndo(t, newEnv(t)) }

func testSubmissionUndo(t *testing.T, e *testEnv) {
	draft := e.draft(e.alice, "alice@example.org", "bob@example.org", "hidden@example.net")
	ident := e.identityID(e.alice)
	sent := mailboxIDString(e.mailboxID(e.alice, "Sent"))
	drafts := mailboxIDString(e.mailboxID(e.alice, "Drafts"))
	r := e.call(e.alice, inv{"EmailSubmission/set", map[string]any{
		"create": map[string]any{"s1": map[string]any{"identityId": ident, "emailId": draft}},
		"onSuccessUpdateEmail": map[string]any{"#s1": map[string]any{
			"mailboxIds/" + drafts: nil, "mailboxIds/" + sent: true, "keywords/$draft": nil}},
	}})
	if len(r) != 2 || r[1].Name != "Email/set" {
		t.Fatalf("want EmailSubmission/set and the implicit Email/set: %+v", r)
	}
	created := r[0].Args["created"].(map[string]any)["s1"].(map[string]any)
	if created["undoStatus"] != "pending" {
		t.Errorf("created: %v", created)
	}
	if _, ok := r[1].Args["updated"].(map[string]any)[draft]; !ok {
		t.Errorf("onSuccessUpdateEmail: %v", r[1].Args)
	}
	m := list(e.call1(e.alice, "Email/get", map[string]any{"ids": []string{draft}, "properties": []string{"mailboxIds", "keywords"}}))[0]
	if mb := m["mailboxIds"].(map[string]any); mb[sent] != true || len(mb) != 1 || len(m["keywords"].(map[string]any)) != 0 {
		t.Errorf("moved to Sent: %v", m)
	}
	subID := created["id"].(string)
	// The message is in the queue at once, held for the undo delay (10 s
	// by default) like a FUTURERELEASE message: `queue held` lists it.
	out := e.sub.sent()
	if len(out) != 1 || !out[0].HoldUntil.Equal(e.clock.now().Add(10*time.Second)) {
		t.Fatalf("submitted: %+v", out)
	}
	if held := e.held(e.alice); len(held) != 1 {
		t.Fatalf("queue held for alice: %v", held)
	} else if len(e.held(e.bob)) != 0 {
		t.Errorf("bob sees alice's held message")
	}
	if w := e.release(); len(w) != 0 {
		t.Fatalf("released within the undo delay: %+v", w)
	}
	st := e.call1(e.alice, "EmailSubmission/get", map[string]any{"ids": []string{}})["state"].(string)
	// Undo cancels the queue entry.
	u := e.call1(e.alice, "EmailSubmission/set", map[string]any{"update": map[string]any{subID: map[string]any{"undoStatus": "canceled"}}})
	if _, ok := u["updated"].(map[string]any)[subID]; !ok {
		t.Fatalf("cancel: %v", u)
	}
	if held := e.held(e.alice); len(held) != 0 {
		t.Errorf("still held after undo: %v", held)
	}
	e.clock.advance(time.Minute)
	if w := e.release(); len(w) != 0 {
		t.Errorf("a canceled submission was sent: %+v", w)
	}
	if g := e.submission(e.alice, subID); g["undoStatus"] != "canceled" {
		t.Errorf("after cancel: %v", g)
	}
	ch := e.call1(e.alice, "EmailSubmission/changes", map[string]any{"sinceState": st})
	if u := strs(ch["updated"]); len(u) != 1 || u[0] != subID {
		t.Errorf("changes after undo: %v", ch)
	}

	// A second one goes out after the delay, without its Bcc header.
	draft2 := e.draft(e.alice, "alice@example.org", "bob@example.org", "hidden@example.net")
	r2 := e.call1(e.alice, "EmailSubmission/set", map[string]any{"create": map[string]any{"s2": map[string]any{"identityId": ident, "emailId": draft2}}})
	sub2 := r2["created"].(map[string]any)["s2"].(map[string]any)["id"].(string)
	out = e.sub.sent()
	if len(out) != 2 || out[1].MailFrom != "alice@example.org" || strings.Join(out[1].Rcpts, ",") != "bob@example.org,hidden@example.net" {
		t.Fatalf("sent: %+v", out)
	}
	if strings.Contains(strings.ToLower(string(out[1].Raw)), "bcc:") || !strings.Contains(string(out[1].Raw), "Subject: Hi") {
		t.Errorf("raw sent:\n%s", out[1].Raw)
	}
	e.clock.advance(11 * time.Second)
	// The hold has passed: final even before the queue runner claims it,
	// and no longer cancellable.
	if g := e.submission(e.alice, sub2); g["undoStatus"] != "final" {
		t.Errorf("after the delay: %v", g)
	}
	st = e.call1(e.alice, "EmailSubmission/get", map[string]any{"ids": []string{}})["state"].(string)
	w := e.release()
	if len(w) != 2 { // one work item per recipient domain
		t.Fatalf("release: %+v", w)
	}
	ch = e.call1(e.alice, "EmailSubmission/changes", map[string]any{"sinceState": st})
	if u := strs(ch["updated"]); len(u) != 1 || u[0] != sub2 {
		t.Errorf("the queue's release is not a change: %v", ch)
	}
	// The recipient's outcome shows in deliveryStatus.
	for _, work := range w {
		res := []store.RecipientResult{}
		for _, i := range work.Index {
			res = append(res, store.RecipientResult{Index: i, Status: store.RcptDelivered})
		}
		if work.Domain == "example.net" {
			res[0].Status, res[0].LastError = store.RcptFailed, "550 5.1.1 no such user"
		}
		if err := e.queue().QueueRecord(context.Background(), store.QueueAttempt{ID: work.Message.ID, Lease: work.Lease, Results: res}); err != nil {
			t.Fatal(err)
		}
	}
	g := e.submission(e.alice, sub2)
	ds, _ := g["deliveryStatus"].(map[string]any)
	if g["undoStatus"] != "final" || ds == nil {
		t.Fatalf("after release: %v", g)
	}
	u = e.call1(e.alice, "EmailSubmission/set", map[string]any{"update": map[string]any{sub2: map[string]any{"undoStatus": "canceled"}}})
	if u["notUpdated"].(map[string]any)[sub2].(map[string]any)["type"] != setCannotUnsend {
		t.Errorf("cancel after send: %v", u)
	}
	q := e.call1(e.alice, "EmailSubmission/query", map[string]any{"filter": map[string]any{"undoStatus": "final"}})
	if ids := strs(q["ids"]); len(ids) != 1 || ids[0] != sub2 {
		t.Errorf("query: %v", q)
	}
	// The time sort is spelled "sentAt" in RFC 8621 §7.3 and "sendAt" by
	// clients that follow the property's name: both work.
	for _, prop := range []string{"sentAt", "sendAt"} {
		q = e.call1(e.alice, "EmailSubmission/query", map[string]any{
			"sort": []any{map[string]any{"property": prop, "isAscending": false}}})
		if ids := strs(q["ids"]); len(ids) != 2 || ids[0] != sub2 {
			t.Errorf("query sorted on %s: %v", prop, q)
		}
	}
}

func TestSubmissionDeliveryStatus(t *testing.T) {
	e := newEnv(t)
	ident := e.identityID(e.alice)
	draft := e.draft(e.alice, "alice@example.org", "bob@example.org", "hidden@example.net")
	r := e.call1(e.alice, "EmailSubmission/set", map[string]any{"create": map[string]any{"s": map[string]any{"identityId": ident, "emailId": draft}}})
	sub := r["created"].(map[string]any)["s"].(map[string]any)["id"].(string)
	e.clock.advance(time.Minute)
	w := e.release()
	if len(w) != 2 {
		t.Fatalf("want one work item per domain: %+v", w)
	}
	ds := e.submission(e.alice, sub)["deliveryStatus"].(map[string]any)
	if ds["bob@example.org"].(map[string]any)["delivered"] != "queued" {
		t.Errorf("while sending: %v", ds)
	}
	for _, work := range w {
		st := store.RcptDelivered
		if work.Domain == "example.net" {
			st = store.RcptFailed
		}
		if err := e.queue().QueueRecord(context.Background(), store.QueueAttempt{ID: work.Message.ID, Lease: work.Lease,
			Results: []store.RecipientResult{{Index: work.Index[0], Status: st, LastError: "550 5.1.1 no such user"}}}); err != nil {
			t.Fatal(err)
		}
		if work.Domain == "example.org" {
			ds := e.submission(e.alice, sub)["deliveryStatus"].(map[string]any)
			if ds["bob@example.org"].(map[string]any)["delivered"] != "yes" || ds["hidden@example.net"].(map[string]any)["delivered"] != "queued" {
				t.Errorf("after bob's delivery: %v", ds)
			}
		}
	}
	// Done with everyone: the entry has left the queue.
	ds = e.submission(e.alice, sub)["deliveryStatus"].(map[string]any)
	if ds["bob@example.org"].(map[string]any)["delivered"] != "unknown" {
		t.Errorf("after the queue: %v", ds)
	}
}

func TestSubmissionSendLaterAndNoDelay(t *testing.T) { testSubmissionSendLaterAndNoDelay(t, newEnv(t)) }

func testSubmissionSendLaterAndNoDelay(t *testing.T, e *testEnv) {
	ident := e.identityID(e.alice)
	// Send later with HOLDFOR: the queue holds it for the hour.
	draft := e.draft(e.alice, "alice@example.org", "bob@example.org")
	r := e.call1(e.alice, "EmailSubmission/set", map[string]any{"create": map[string]any{"s": map[string]any{
		"identityId": ident, "emailId": draft,
		"envelope": map[string]any{"mailFrom": map[string]any{"email": "alice@example.org", "parameters": map[string]any{"HOLDFOR": "3600"}},
			"rcptTo": []any{map[string]any{"email": "bob@example.org"}}}}}})
	c := r["created"].(map[string]any)["s"].(map[string]any)
	if c["sendAt"] != e.clock.now().Add(time.Hour).Format(time.RFC3339) {
		t.Errorf("sendAt: %v", c)
	}
	out := e.sub.sent()
	if len(out) != 1 || !out[0].HoldUntil.Equal(e.clock.now().Add(time.Hour)) || out[0].Params["HOLDFOR"] != "" {
		t.Fatalf("submitted: %+v", out)
	}
	e.clock.advance(30 * time.Minute)
	if w := e.release(); len(w) != 0 {
		t.Errorf("released before HOLDFOR")
	}
	if g := e.submission(e.alice, c["id"].(string)); g["undoStatus"] != "pending" {
		t.Errorf("half way: %v", g)
	}
	e.clock.advance(31 * time.Minute)
	if w := e.release(); len(w) != 1 {
		t.Errorf("not released after HOLDFOR")
	}

	// With no undo delay the message goes out within the call, unheld.
	e.call1(e.alice, "Settings/set", map[string]any{"update": map[string]any{"singleton": map[string]any{"undoSendSeconds": 0}}})
	if s := list(e.call1(e.alice, "Settings/get", nil))[0]; s["undoSendSeconds"] != float64(0) {
		t.Fatalf("settings: %v", s)
	}
	draft = e.draft(e.alice, "alice@example.org", "bob@example.org")
	r = e.call1(e.alice, "EmailSubmission/set", map[string]any{"create": map[string]any{"s": map[string]any{"identityId": ident, "emailId": draft}}})
	out = e.sub.sent()
	if c := r["created"].(map[string]any)["s"].(map[string]any); c["undoStatus"] != "final" || len(out) != 2 || !out[1].HoldUntil.IsZero() {
		t.Errorf("immediate send: %v, sent %+v", c, out)
	}
	if held := e.held(e.alice); len(held) != 0 {
		t.Errorf("held: %v", held)
	}
	bad := e.call1(e.alice, "Settings/set", map[string]any{"update": map[string]any{"singleton": map[string]any{"undoSendSeconds": 31}}})
	if bad["notUpdated"] == nil || len(bad["notUpdated"].(map[string]any)) != 1 {
		t.Errorf("undoSendSeconds 31 accepted: %v", bad)
	}
}

// TestSubmissionQueueCancel: cancelling the held message from the command
// line (QueueCancel of any account) cancels the submission too.
func TestSubmissionQueueCancel(t *testing.T) {
	e := newEnv(t)
	ident := e.identityID(e.alice)
	draft := e.draft(e.alice, "alice@example.org", "bob@example.org")
	r := e.call1(e.alice, "EmailSubmission/set", map[string]any{"create": map[string]any{"s": map[string]any{"identityId": ident, "emailId": draft}}})
	sub := r["created"].(map[string]any)["s"].(map[string]any)["id"].(string)
	held := e.held(e.alice)
	if len(held) != 1 {
		t.Fatalf("held: %v", held)
	}
	st := e.call1(e.alice, "EmailSubmission/get", map[string]any{"ids": []string{}})["state"].(string)
	if err := e.queue().QueueCancel(context.Background(), held[0], 0); err != nil {
		t.Fatal(err)
	}
	if g := e.submission(e.alice, sub); g["undoStatus"] != "canceled" {
		t.Errorf("after queue cancel: %v", g)
	}
	ch := e.call1(e.alice, "EmailSubmission/changes", map[string]any{"sinceState": st})
	if u := strs(ch["updated"]); len(u) != 1 || u[0] != sub {
		t.Errorf("changes: %v", ch)
	}
	u := e.call1(e.alice, "EmailSubmission/set", map[string]any{"update": map[string]any{sub: map[string]any{"undoStatus": "canceled"}}})
	if u["notUpdated"].(map[string]any)[sub].(map[string]any)["type"] != setCannotUnsend {
		t.Errorf("cancel twice: %v", u)
	}
}

// TestSubmissionHandOverUnqueued: a pending submission stored before
// submissions were held in the queue is handed to the queue at start,
// held until its sendAt, once.
func TestSubmissionHandOverUnqueued(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ident := e.identityID(e.alice)
	draft := e.draft(e.alice, "alice@example.org", "bob@example.org")
	en, _ := parseEmailID(draft)
	msgs, err := e.st.Messages(ctx, e.alice.ID, []store.MessageID{en})
	if err != nil || len(msgs) != 1 {
		t.Fatal(msgs, err)
	}
	identN, _ := parseID(prefixIdentity, ident)
	sendAt := e.clock.now().Add(time.Hour)
	legacy := func(at time.Time) store.SubmissionID {
		id, err := e.st.CreateSubmission(ctx, store.Submission{Account: e.alice.ID, IdentityID: identN, EmailID: en, ThreadID: msgs[0].ThreadID,
			MailFrom: "alice@example.org", MailFromParams: []byte(`{"HOLDFOR":"3600"}`), Rcpts: []string{"bob@example.org"},
			BlobID: msgs[0].BlobID, Size: msgs[0].Size, Created: e.clock.now(), SendAt: at, UndoStatus: store.UndoPending})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	later, due := legacy(sendAt), legacy(e.clock.now().Add(-time.Minute))
	if n, err := e.srv.HandOverUnqueued(ctx); n != 2 || err != nil {
		t.Fatalf("hand-over: %d %v", n, err)
	}
	out := e.sub.sent()
	if len(out) != 2 {
		t.Fatalf("submitted: %+v", out)
	}
	for _, r := range out {
		if r.Params["HOLDFOR"] != "" {
			t.Errorf("hold parameter passed on: %v", r.Params)
		}
	}
	if !out[0].HoldUntil.IsZero() || !out[1].HoldUntil.Equal(sendAt) {
		t.Errorf("holds: %v, %v", out[0].HoldUntil, out[1].HoldUntil)
	}
	if g := e.submission(e.alice, submissionIDString(later)); g["undoStatus"] != "pending" {
		t.Errorf("later: %v", g)
	}
	if g := e.submission(e.alice, submissionIDString(due)); g["undoStatus"] != "final" {
		t.Errorf("due: %v", g)
	}
	if held := e.held(e.alice); len(held) != 1 {
		t.Errorf("held: %v", held)
	}
	if n, _ := e.srv.HandOverUnqueued(ctx); n != 0 || len(e.sub.sent()) != 2 {
		t.Errorf("handed over twice")
	}
}

// TestSubmissionDeliveryFails: when delivery refuses the hand-over, the
// create fails and no submission is stored, so none claims to be sent.
func TestSubmissionDeliveryFails(t *testing.T) {
	e := newEnv(t)
	draft := e.draft(e.alice, "alice@example.org", "bob@example.org")
	e.sub.fail = errNope
	r := e.call1(e.alice, "EmailSubmission/set", map[string]any{"create": map[string]any{"s": map[string]any{"identityId": e.identityID(e.alice), "emailId": draft}}})
	if se, _ := r["notCreated"].(map[string]any)["s"].(map[string]any); se == nil || se["type"] != setForbidden {
		t.Errorf("create with delivery failing: %v", r)
	}
	if l := list(e.call1(e.alice, "EmailSubmission/get", nil)); len(l) != 0 {
		t.Errorf("a submission was stored: %v", l)
	}
}

func TestSubmissionRefusals(t *testing.T) {
	e := newEnv(t)
	ident := e.identityID(e.alice)
	spoof := e.draft(e.alice, "ceo@example.org", "bob@example.org")
	ok := e.draft(e.alice, "alice@example.org", "bob@example.org")
	bobDraft := e.draft(e.bob, "bob@example.org", "alice@example.org")
	bobIdent := e.identityID(e.bob)
	r := e.call1(e.alice, "EmailSubmission/set", map[string]any{"create": map[string]any{
		"spoof":     map[string]any{"identityId": ident, "emailId": spoof},
		"mailfrom":  map[string]any{"identityId": ident, "emailId": ok, "envelope": map[string]any{"mailFrom": map[string]any{"email": "other@example.net"}, "rcptTo": []any{map[string]any{"email": "x@example.net"}}}},
		"norcpt":    map[string]any{"identityId": ident, "emailId": ok, "envelope": map[string]any{"mailFrom": map[string]any{"email": "alice@example.org"}, "rcptTo": []any{}}},
		"bobsmail":  map[string]any{"identityId": ident, "emailId": bobDraft},
		"bobsident": map[string]any{"identityId": bobIdent, "emailId": ok},
	}})
	nc := r["notCreated"].(map[string]any)
	want := map[string]string{"spoof": setForbiddenFrom, "mailfrom": setForbiddenMailFrom, "norcpt": setNoRecipients,
		"bobsmail": setInvalidProperties, "bobsident": setInvalidProperties}
	for k, typ := range want {
		if e, _ := nc[k].(map[string]any); e == nil || e["type"] != typ {
			t.Errorf("%s: %v, want %s", k, nc[k], typ)
		}
	}
	if len(e.sub.sent()) != 0 {
		t.Errorf("something was sent")
	}
}

func TestIdentityLabelVacation(t *testing.T) { testIdentityLabelVacation(t, newEnv(t)) }

func testIdentityLabelVacation(t *testing.T, e *testEnv) {
	ctx := context.Background()
	e.st.SetAlias(ctx, store.Alias{Address: "sales@example.org", Targets: []string{"alice@example.org"}})
	r := e.call1(e.alice, "Identity/get", nil)
	l := list(r)
	if len(l) != 1 || l[0]["email"] != "alice@example.org" || l[0]["mayDelete"] != false {
		t.Fatalf("default identity: %v", l)
	}
	st := r["state"].(string)
	r = e.call1(e.alice, "Identity/set", map[string]any{"create": map[string]any{
		"sales": map[string]any{"name": "Sales", "email": "sales@example.org", "textSignature": "-- \nSales"},
		"bobs":  map[string]any{"name": "Bob", "email": "bob@example.org"},
	}, "destroy": []string{l[0]["id"].(string)}})
	if len(r["created"].(map[string]any)) != 1 || r["notCreated"].(map[string]any)["bobs"].(map[string]any)["type"] != setForbiddenFrom {
		t.Errorf("identity create: %v", r)
	}
	if r["notDestroyed"].(map[string]any)[l[0]["id"].(string)] == nil {
		t.Errorf("primary identity destroyed: %v", r)
	}
	ch := e.call1(e.alice, "Identity/changes", map[string]any{"sinceState": st})
	if len(strs(ch["created"])) != 1 {
		t.Errorf("identity changes: %v", ch)
	}
	if got := list(e.call1(e.bob, "Identity/get", nil)); len(got) != 1 || got[0]["email"] != "bob@example.org" {
		t.Errorf("bob's identities: %v", got)
	}

	r = e.call1(e.alice, "Label/set", map[string]any{"create": map[string]any{
		"l1": map[string]any{"name": "Invoices 2026", "color": "#ff0000"},
		"l2": map[string]any{"name": "Bad", "keyword": "$seen"},
	}})
	lc := r["created"].(map[string]any)["l1"].(map[string]any)
	if r["notCreated"].(map[string]any)["l2"] == nil {
		t.Errorf("system keyword as label: %v", r)
	}
	labels := list(e.call1(e.alice, "Label/get", nil))
	if len(labels) != 1 || labels[0]["keyword"] != "invoices_2026" || labels[0]["color"] != "#ff0000" {
		t.Errorf("labels: %v", labels)
	}
	if got := list(e.call1(e.bob, "Label/get", nil)); len(got) != 0 {
		t.Errorf("bob sees alice's labels: %v", got)
	}
	r = e.call1(e.bob, "Label/set", map[string]any{"update": map[string]any{lc["id"].(string): map[string]any{"name": "x"}},
		"destroy": []string{lc["id"].(string)}})
	if r["notUpdated"].(map[string]any)[lc["id"].(string)].(map[string]any)["type"] != setNotFound ||
		r["notDestroyed"].(map[string]any)[lc["id"].(string)].(map[string]any)["type"] != setNotFound {
		t.Errorf("bob changes alice's label: %v", r)
	}

	v := list(e.call1(e.alice, "VacationResponse/get", nil))[0]
	if v["id"] != "singleton" || v["isEnabled"] != false {
		t.Errorf("vacation: %v", v)
	}
	r = e.call1(e.alice, "VacationResponse/set", map[string]any{"update": map[string]any{"singleton": map[string]any{
		"isEnabled": true, "subject": "Away", "textBody": "Back Monday", "toDate": "2026-06-01T00:00:00Z"}}})
	if _, ok := r["updated"].(map[string]any)["singleton"]; !ok {
		t.Fatalf("vacation set: %v", r)
	}
	v = list(e.call1(e.alice, "VacationResponse/get", nil))[0]
	if v["isEnabled"] != true || v["subject"] != "Away" {
		t.Errorf("vacation after set: %v", v)
	}
	if v := list(e.call1(e.bob, "VacationResponse/get", nil))[0]; v["isEnabled"] != false {
		t.Errorf("bob's vacation: %v", v)
	}
}

func TestChangesOfJMAPObjects(t *testing.T) {
	e := newEnv(t)
	ident := e.identityID(e.alice)
	st := e.call1(e.alice, "EmailSubmission/get", map[string]any{"ids": []string{}})["state"].(string)
	draft := e.draft(e.alice, "alice@example.org", "bob@example.org")
	r := e.call1(e.alice, "EmailSubmission/set", map[string]any{"create": map[string]any{"s": map[string]any{"identityId": ident, "emailId": draft}}})
	sub := r["created"].(map[string]any)["s"].(map[string]any)["id"].(string)
	r = e.call1(e.alice, "Label/set", map[string]any{"create": map[string]any{"l": map[string]any{"name": "Later"}}})
	label := r["created"].(map[string]any)["l"].(map[string]any)["id"].(string)
	ch := e.call1(e.alice, "EmailSubmission/changes", map[string]any{"sinceState": st})
	if c := strs(ch["created"]); len(c) != 1 || c[0] != sub {
		t.Errorf("EmailSubmission/changes: %v", ch)
	}
	ch = e.call1(e.alice, "Label/changes", map[string]any{"sinceState": st})
	if c := strs(ch["created"]); len(c) != 1 || c[0] != label {
		t.Errorf("Label/changes: %v", ch)
	}
	ch = e.call1(e.alice, "Email/changes", map[string]any{"sinceState": st})
	if c := strs(ch["created"]); len(c) != 1 || c[0] != draft {
		t.Errorf("Email/changes: %v", ch)
	}
	// Paging with maxChanges: two Emails created since st, one a page.
	second := emailIDString(e.deliver(e.alice, "INBOX", "From: bob@example.org\nSubject: Page\n\nhi\n"))
	ch = e.call1(e.alice, "Email/changes", map[string]any{"sinceState": st, "maxChanges": 1})
	if c := strs(ch["created"]); ch["hasMoreChanges"] != true || len(c) != 1 || c[0] != draft {
		t.Errorf("Email/changes first page: %v", ch)
	}
	ch = e.call1(e.alice, "Email/changes", map[string]any{"sinceState": ch["newState"], "maxChanges": 1})
	if c := strs(ch["created"]); ch["hasMoreChanges"] != false || len(c) != 1 || c[0] != second {
		t.Errorf("Email/changes second page: %v", ch)
	}
	if got := e.callErr(e.alice, "Email/changes", map[string]any{"sinceState": st, "maxChanges": 0}); got != errInvalidArguments {
		t.Errorf("maxChanges 0: %s", got)
	}
	qc := e.call1(e.alice, "EmailSubmission/queryChanges", map[string]any{"sinceQueryState": st,
		"filter": map[string]any{"undoStatus": "pending"}, "calculateTotal": true})
	if a := qc["added"].([]any); len(a) != 1 || qc["total"] != float64(1) {
		t.Errorf("EmailSubmission/queryChanges: %v", qc)
	}
	e.call1(e.alice, "EmailSubmission/set", map[string]any{"update": map[string]any{sub: map[string]any{"undoStatus": "canceled"}}})
	st2 := qc["newQueryState"].(string)
	qc = e.call1(e.alice, "EmailSubmission/queryChanges", map[string]any{"sinceQueryState": st2,
		"filter": map[string]any{"undoStatus": "pending"}})
	if r := strs(qc["removed"]); len(r) != 1 || r[0] != sub || len(qc["added"].([]any)) != 0 {
		t.Errorf("after cancel: %v", qc)
	}
	ch = e.call1(e.alice, "EmailSubmission/changes", map[string]any{"sinceState": st2})
	if u := strs(ch["updated"]); len(u) != 1 {
		t.Errorf("EmailSubmission/changes after cancel: %v", ch)
	}
}

// TestHeldMessages: a message held by SMTP FUTURERELEASE shows in
// HeldMessage/get for its sender (not the submissions' own holds), and
// HeldMessage/set destroy cancels it in the queue.
func TestHeldMessages(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	raw := "From: alice@example.org\r\nTo: Carol <carol@example.net>\r\nSubject: Later\r\n\r\nhi\r\n"
	blobID, size, err := e.blobs.Put(ctx, strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	hold := e.clock.now().Add(time.Hour)
	qid, err := e.st.Enqueue(ctx, store.OutboundMessage{Account: e.alice.ID, MailFrom: "alice@example.org", BlobID: blobID, Size: size,
		HoldUntil: hold, Recipients: []store.OutboundRecipient{{Address: "carol@example.net"}}})
	if err != nil {
		t.Fatal(err)
	}
	draft := e.draft(e.alice, "alice@example.org", "bob@example.org")
	e.call1(e.alice, "EmailSubmission/set", map[string]any{"create": map[string]any{"s": map[string]any{"identityId": e.identityID(e.alice), "emailId": draft}}})
	if n := len(e.held(e.alice)); n != 2 {
		t.Fatalf("queue held: %d, want the SMTP message and the submission", n)
	}
	l := list(e.call1(e.alice, "HeldMessage/get", map[string]any{"ids": nil}))
	id := heldIDString(qid)
	if len(l) != 1 || l[0]["id"] != id || l[0]["subject"] != "Later" || l[0]["sendAt"] != hold.Format(time.RFC3339) ||
		l[0]["to"].([]any)[0].(map[string]any)["email"] != "carol@example.net" {
		t.Fatalf("HeldMessage/get: %v", l)
	}
	if l := list(e.call1(e.bob, "HeldMessage/get", nil)); len(l) != 0 {
		t.Errorf("bob sees alice's held messages: %v", l)
	}
	r := e.call1(e.bob, "HeldMessage/set", map[string]any{"destroy": []string{id}})
	if r["notDestroyed"].(map[string]any)[id] == nil {
		t.Errorf("bob cancels alice's message: %v", r)
	}
	r = e.call1(e.alice, "HeldMessage/set", map[string]any{"destroy": []string{id}})
	if d := strs(r["destroyed"]); len(d) != 1 || d[0] != id {
		t.Fatalf("destroy: %v", r)
	}
	if n := len(e.held(e.alice)); n != 1 {
		t.Errorf("queue held after cancel: %d", n)
	}
	r = e.call1(e.alice, "HeldMessage/set", map[string]any{"destroy": []string{id}})
	if r["notDestroyed"].(map[string]any)[id].(map[string]any)["type"] != setNotFound {
		t.Errorf("destroy twice: %v", r)
	}
}
