package jmap

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"freehold/internal/blob"
	"freehold/internal/message"
	"freehold/internal/store"
)

// upload posts data to the upload endpoint as acct.
func (e *testEnv) upload(acct store.Account, data []byte, typ string) (int, map[string]any) {
	e.t.Helper()
	resp, b := e.send(acct, "POST", "/jmap/upload/"+accountIDString(acct.ID)+"/", bytes.NewReader(data), typ)
	var out map[string]any
	json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

func TestEmailSetCreateDraft(t *testing.T) { testEmailSetCreateDraft(t, newEnv(t)) }

func testEmailSetCreateDraft(t *testing.T, e *testEnv) {
	drafts := mailboxIDString(e.mailboxID(e.alice, "Drafts"))
	_, up := e.upload(e.alice, []byte("%PDF-1.4 fake"), "application/pdf")
	r := e.call(e.alice,
		inv{"Mailbox/set", map[string]any{"create": map[string]any{"mb": map[string]any{"name": "Outbox"}}}},
		inv{"Email/set", map[string]any{"create": map[string]any{"d1": map[string]any{
			"mailboxIds":             map[string]any{drafts: true, "#mb": true},
			"keywords":               map[string]any{"$draft": true, "$seen": true},
			"from":                   []any{map[string]any{"name": "Alice Ä", "email": "alice@example.org"}},
			"to":                     []any{map[string]any{"email": "bob@example.org"}},
			"bcc":                    []any{map[string]any{"email": "secret@example.net"}},
			"subject":                "Quarterly numbers ✓",
			"inReplyTo":              []string{"orig@example.net"},
			"header:X-Mailer:asText": "Freehold",
			"bodyValues": map[string]any{"t": map[string]any{"value": "Hello Bob,\nsee attached.\n"},
				"h": map[string]any{"value": "<p>Hello <b>Bob</b></p>"}},
			"textBody":    []any{map[string]any{"partId": "t"}},
			"htmlBody":    []any{map[string]any{"partId": "h"}},
			"attachments": []any{map[string]any{"blobId": up["blobId"], "type": "application/pdf", "name": "report.pdf"}},
		}}}},
		inv{"Email/get", map[string]any{"ids": []string{"#d1"}, "properties": []string{"subject", "from", "bcc", "mailboxIds",
			"keywords", "textBody", "htmlBody", "attachments", "bodyValues", "header:X-Mailer:asText", "inReplyTo"},
			"fetchTextBodyValues": true}},
	)
	created := r[1].Args["created"].(map[string]any)
	if len(created) != 1 {
		t.Fatalf("create: %v", r[1].Args)
	}
	m := list(r[2].Args)[0]
	if m["subject"] != "Quarterly numbers ✓" || m["header:X-Mailer:asText"] != "Freehold" {
		t.Errorf("draft: %v", m)
	}
	if len(m["mailboxIds"].(map[string]any)) != 2 || len(m["keywords"].(map[string]any)) != 2 {
		t.Errorf("draft mailboxes/keywords: %v %v", m["mailboxIds"], m["keywords"])
	}
	if from := m["from"].([]any)[0].(map[string]any); from["name"] != "Alice Ä" {
		t.Errorf("from: %v", from)
	}
	atts := m["attachments"].([]any)
	if len(atts) != 1 || atts[0].(map[string]any)["name"] != "report.pdf" {
		t.Errorf("attachments: %v", atts)
	}
	tp := m["textBody"].([]any)[0].(map[string]any)
	if v := m["bodyValues"].(map[string]any)[tp["partId"].(string)].(map[string]any)["value"]; v != "Hello Bob,\nsee attached.\n" &&
		v != "Hello Bob,\r\nsee attached.\r\n" {
		t.Errorf("text: %q", v)
	}
	// The stored message parses back with the same summary.
	id, _ := parseEmailID(created["d1"].(map[string]any)["id"].(string))
	msgs, _ := e.st.Messages(context.Background(), e.alice.ID, []store.MessageID{id})
	raw, _ := blob.ReadAll(context.Background(), e.blobs, msgs[0].BlobID)
	env, _, att := message.Summarize(raw)
	if env.Subject != "Quarterly numbers ✓" || !att || len(env.Bcc) != 1 {
		t.Errorf("summary of built message: %+v %v\n%s", env, att, raw)
	}
	if !strings.Contains(strings.ToLower(string(raw)), "mime-version: 1.0") || !strings.Contains(string(raw), "multipart/mixed") {
		t.Errorf("raw:\n%s", raw)
	}

	// Bad creates.
	r = e.call(e.alice, inv{"Email/set", map[string]any{"create": map[string]any{
		"nobox":    map[string]any{"subject": "x"},
		"badbox":   map[string]any{"mailboxIds": map[string]any{"M999999": true}},
		"badkw":    map[string]any{"mailboxIds": map[string]any{drafts: true}, "keywords": map[string]any{"a b": true}},
		"inject":   map[string]any{"mailboxIds": map[string]any{drafts: true}, "header:X-A": " x\r\nBcc: evil@example.net"},
		"noblob":   map[string]any{"mailboxIds": map[string]any{drafts: true}, "attachments": []any{map[string]any{"blobId": "G" + strings.Repeat("0", 64)}}},
		"readonly": map[string]any{"mailboxIds": map[string]any{drafts: true}, "size": 5},
	}}})
	nc := r[0].Args["notCreated"].(map[string]any)
	if len(nc) != 6 {
		t.Errorf("bad creates: %v", r[0].Args)
	}
	if nc["noblob"].(map[string]any)["type"] != setBlobNotFound {
		t.Errorf("noblob: %v", nc["noblob"])
	}
}

func TestEmailSetUpdateDestroy(t *testing.T) { testEmailSetUpdateDestroy(t, newEnv(t)) }

func testEmailSetUpdateDestroy(t *testing.T, e *testEnv) {
	id := e.deliver(e.alice, "INBOX", simpleMsg)
	eid := emailIDString(id)
	inbox := mailboxIDString(e.mailboxID(e.alice, "INBOX"))
	archive := mailboxIDString(e.mailboxID(e.alice, "Archive"))
	trash := mailboxIDString(e.mailboxID(e.alice, "Trash"))
	r := e.call1(e.alice, "Email/set", map[string]any{"update": map[string]any{eid: map[string]any{
		"keywords/$seen": true, "keywords/Important": true, "mailboxIds/" + archive: true,
	}}})
	if _, ok := r["updated"].(map[string]any)[eid]; !ok {
		t.Fatalf("update: %v", r)
	}
	get := func() map[string]any {
		return list(e.call1(e.alice, "Email/get", map[string]any{"ids": []string{eid}, "properties": []string{"keywords", "mailboxIds"}}))[0]
	}
	m := get()
	if kw := m["keywords"].(map[string]any); kw["$seen"] != true || kw["important"] != true {
		t.Errorf("keywords: %v", kw)
	}
	if mb := m["mailboxIds"].(map[string]any); mb[inbox] != true || mb[archive] != true {
		t.Errorf("mailboxes: %v", mb)
	}
	// Move to Trash only, drop a keyword.
	e.call1(e.alice, "Email/set", map[string]any{"update": map[string]any{eid: map[string]any{
		"mailboxIds": map[string]any{trash: true}, "keywords/important": nil,
	}}})
	m = get()
	if mb := m["mailboxIds"].(map[string]any); len(mb) != 1 || mb[trash] != true {
		t.Errorf("moved: %v", mb)
	}
	if kw := m["keywords"].(map[string]any); len(kw) != 1 {
		t.Errorf("keywords after removal: %v", kw)
	}
	r = e.call1(e.alice, "Email/set", map[string]any{"update": map[string]any{
		eid:      map[string]any{"mailboxIds": map[string]any{}},
		"E99999": map[string]any{"keywords/$seen": true},
	}})
	nu := r["notUpdated"].(map[string]any)
	if len(nu) != 2 || nu["E99999"].(map[string]any)["type"] != setNotFound {
		t.Errorf("bad updates: %v", r)
	}
	r = e.call1(e.alice, "Email/set", map[string]any{"update": map[string]any{eid: map[string]any{"subject": "x"}}})
	if r["notUpdated"].(map[string]any)[eid].(map[string]any)["type"] != setInvalidProperties {
		t.Errorf("immutable property: %v", r)
	}
	st := e.call1(e.alice, "Email/get", map[string]any{"ids": []string{}})["state"].(string)
	r = e.call1(e.alice, "Email/set", map[string]any{"destroy": []string{eid, "E99999"}})
	if d := strs(r["destroyed"]); len(d) != 1 || len(r["notDestroyed"].(map[string]any)) != 1 {
		t.Errorf("destroy: %v", r)
	}
	ch := e.call1(e.alice, "Email/changes", map[string]any{"sinceState": st})
	if d := strs(ch["destroyed"]); len(d) != 1 || d[0] != eid {
		t.Errorf("changes after destroy: %v", ch)
	}
}

func TestEmailImportParse(t *testing.T) { testEmailImportParse(t, newEnv(t)) }

func testEmailImportParse(t *testing.T, e *testEnv) {
	inbox := mailboxIDString(e.mailboxID(e.alice, "INBOX"))
	raw := []byte(strings.ReplaceAll(multipartMsg, "\n", "\r\n"))
	st, up := e.upload(e.alice, raw, "message/rfc822")
	if st != 201 {
		t.Fatalf("upload: %d %v", st, up)
	}
	blobID := up["blobId"].(string)
	r := e.call(e.alice,
		inv{"Email/parse", map[string]any{"blobIds": []string{blobID, "G" + strings.Repeat("a", 64)}, "fetchTextBodyValues": true}},
		inv{"Email/import", map[string]any{"emails": map[string]any{
			"i1": map[string]any{"blobId": blobID, "mailboxIds": map[string]any{inbox: true}, "keywords": map[string]any{"$seen": true},
				"receivedAt": "2020-01-02T03:04:05Z"},
			"i2": map[string]any{"blobId": "Gnope", "mailboxIds": map[string]any{inbox: true}},
		}}},
		inv{"Email/get", map[string]any{"ids": []string{"#i1"}, "properties": []string{"subject", "receivedAt", "keywords"}}},
	)
	parsed := r[0].Args["parsed"].(map[string]any)[blobID].(map[string]any)
	if parsed["subject"] != "Café plans" || len(strs(r[0].Args["notFound"])) != 1 {
		t.Errorf("parse: %v", r[0].Args)
	}
	// The parsed message's parts can be downloaded, by alice only.
	patt := parsed["attachments"].([]any)[0].(map[string]any)
	if b, st := e.download(e.alice, patt["blobId"].(string)); st != 200 || len(b) != 8 {
		t.Errorf("parsed part download: %d %q", st, b)
	}
	if _, st := e.download(e.bob, patt["blobId"].(string)); st != 404 {
		t.Errorf("bob downloads alice's parsed part: %d", st)
	}
	if len(r[1].Args["created"].(map[string]any)) != 1 || r[1].Args["notCreated"].(map[string]any)["i2"] == nil {
		t.Errorf("import: %v", r[1].Args)
	}
	m := list(r[2].Args)[0]
	if m["subject"] != "Café plans" || m["receivedAt"] != "2020-01-02T03:04:05Z" {
		t.Errorf("imported: %v", m)
	}
	// Bob cannot import or parse alice's upload.
	r = e.call(e.bob, inv{"Email/parse", map[string]any{"blobIds": []string{blobID}}},
		inv{"Email/import", map[string]any{"emails": map[string]any{"x": map[string]any{"blobId": blobID,
			"mailboxIds": map[string]any{mailboxIDString(e.mailboxID(e.bob, "INBOX")): true}}}}})
	if len(strs(r[0].Args["notFound"])) != 1 {
		t.Errorf("bob parses alice's blob: %v", r[0].Args)
	}
	if nc := r[1].Args["notCreated"].(map[string]any)["x"].(map[string]any); nc["type"] != setBlobNotFound {
		t.Errorf("bob imports alice's blob: %v", r[1].Args)
	}
	if got := e.callErr(e.alice, "Email/copy", map[string]any{"fromAccountId": accountIDString(e.bob.ID), "create": map[string]any{}}); got != errFromAccountNotFound {
		t.Errorf("copy: %s", got)
	}
}

func TestUploadLimit(t *testing.T) {
	e := newEnv(t)
	e.srv.limits.MaxSizeUpload = 100
	st, p := e.upload(e.alice, bytes.Repeat([]byte("x"), 101), "text/plain")
	if st != 413 || p["maxSize"] != float64(100) || p["limit"] != "maxSizeUpload" {
		t.Errorf("oversized upload: %d %v", st, p)
	}
	st, p = e.upload(e.alice, bytes.Repeat([]byte("x"), 100), "text/plain")
	if st != 201 || p["size"] != float64(100) {
		t.Errorf("upload at the limit: %d %v", st, p)
	}
	// Chunked (no Content-Length) and oversized.
	req, _ := http.NewRequest("POST", e.http.URL+"/jmap/upload/"+accountIDString(e.alice.ID)+"/", io.MultiReader(strings.NewReader(strings.Repeat("y", 150))))
	req.SetBasicAuth(e.alice.Address, "x")
	req.ContentLength = -1
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Errorf("chunked oversized upload: %d", resp.StatusCode)
	}
	if st, _ := e.upload(e.bob, []byte("x"), "text/plain"); st != 201 {
		t.Errorf("bob upload: %d", st)
	}
	resp, _ = e.send(e.alice, "POST", "/jmap/upload/"+accountIDString(e.bob.ID)+"/", strings.NewReader("x"), "")
	if resp.StatusCode != 404 {
		t.Errorf("upload to another account: %d", resp.StatusCode)
	}
}
