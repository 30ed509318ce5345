package jmap

import (
	"context"
	"strings"
	"testing"

	"freehold/internal/store"
)

const multipartMsg = `From: =?UTF-8?Q?Dora_M=C3=BCller?= <dora@example.net>
To: Alice <alice@example.org>, bob@example.org
Cc: carol@example.net
Subject: =?UTF-8?Q?Caf=C3=A9?= plans
Date: Sat, 02 May 2026 09:30:00 +0200
Message-ID: <m2@example.net>
In-Reply-To: <m1@example.net>
References: <m1@example.net>
X-Custom: first
X-Custom: =?UTF-8?Q?second_=C3=A9?=
List-Post: <mailto:list@example.net>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Caf=E9 at noon?
--alt
Content-Type: text/html; charset=utf-8

<p>Caf&eacute; at <b>noon</b>?</p><img src="cid:logo@x">
--alt--
--outer
Content-Type: image/png; name="logo.png"
Content-Disposition: attachment; filename="logo.png"
Content-ID: <logo@x>
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--outer--
`

func TestEmailGet(t *testing.T) { testEmailGet(t, newEnv(t)) }

func testEmailGet(t *testing.T, e *testEnv) {
	id := e.deliver(e.alice, "INBOX", multipartMsg, "$seen", "work")
	eid := emailIDString(id)
	r := e.call1(e.alice, "Email/get", map[string]any{"ids": []string{eid}, "fetchAllBodyValues": true})
	l := list(r)
	if len(l) != 1 {
		t.Fatalf("get: %v", r)
	}
	m := l[0]
	if m["subject"] != "Café plans" || m["size"] == nil || m["threadId"] == nil || m["receivedAt"] == nil {
		t.Errorf("email: %v", m)
	}
	from := m["from"].([]any)[0].(map[string]any)
	if from["name"] != "Dora Müller" || from["email"] != "dora@example.net" {
		t.Errorf("from: %v", from)
	}
	if kw := m["keywords"].(map[string]any); kw["$seen"] != true || kw["work"] != true || len(kw) != 2 {
		t.Errorf("keywords: %v", kw)
	}
	inbox := mailboxIDString(e.mailboxID(e.alice, "INBOX"))
	if mb := m["mailboxIds"].(map[string]any); mb[inbox] != true || len(mb) != 1 {
		t.Errorf("mailboxIds: %v", mb)
	}
	if strs(m["messageId"])[0] != "m2@example.net" || strs(m["inReplyTo"])[0] != "m1@example.net" {
		t.Errorf("ids: %v %v", m["messageId"], m["inReplyTo"])
	}
	// The store keeps the instant, not the sender's offset.
	if m["sentAt"] != "2026-05-02T07:30:00Z" {
		t.Errorf("sentAt: %v", m["sentAt"])
	}
	text := m["textBody"].([]any)
	html := m["htmlBody"].([]any)
	atts := m["attachments"].([]any)
	if len(text) != 1 || len(html) != 1 || len(atts) != 1 {
		t.Fatalf("bodies: text %v html %v atts %v", text, html, atts)
	}
	tp := text[0].(map[string]any)
	if tp["type"] != "text/plain" || tp["charset"] != "iso-8859-1" {
		t.Errorf("text part: %v", tp)
	}
	vals := m["bodyValues"].(map[string]any)
	tv := vals[tp["partId"].(string)].(map[string]any)
	if strings.TrimSpace(tv["value"].(string)) != "Café at noon?" || tv["isEncodingProblem"] != false {
		t.Errorf("text value: %v", tv)
	}
	att := atts[0].(map[string]any)
	if att["name"] != "logo.png" || att["cid"] != "logo@x" || att["disposition"] != "attachment" || att["size"] != float64(8) {
		t.Errorf("attachment: %v", att)
	}
	if m["hasAttachment"] != true {
		t.Errorf("hasAttachment: %v", m["hasAttachment"])
	}

	// Header forms, bodyStructure, truncation.
	r = e.call1(e.alice, "Email/get", map[string]any{"ids": []string{eid}, "properties": []string{
		"header:X-Custom", "header:x-custom:asText:all", "header:From:asAddresses", "header:List-Post:asURLs",
		"header:Date:asDate", "header:References:asMessageIds", "header:Nope", "bodyStructure", "bodyValues", "textBody",
	}, "fetchTextBodyValues": true, "maxBodyValueBytes": 4, "bodyProperties": []string{"partId", "type", "header:Content-Type:asText"}})
	m = list(r)[0]
	if m["header:X-Custom"] != " =?UTF-8?Q?second_=C3=A9?=" {
		t.Errorf("raw header: %q", m["header:X-Custom"])
	}
	if all := strs(m["header:x-custom:asText:all"]); len(all) != 2 || all[1] != "second é" {
		t.Errorf("text all: %v", all)
	}
	if m["header:Nope"] != nil {
		t.Errorf("absent header: %v", m["header:Nope"])
	}
	if u := strs(m["header:List-Post:asURLs"]); len(u) != 1 || u[0] != "mailto:list@example.net" {
		t.Errorf("urls: %v", u)
	}
	if m["header:Date:asDate"] != "2026-05-02T09:30:00+02:00" {
		t.Errorf("date: %v", m["header:Date:asDate"])
	}
	bs := m["bodyStructure"].(map[string]any)
	if bs["type"] != "multipart/mixed" || len(bs["subParts"].([]any)) != 2 {
		t.Errorf("bodyStructure: %v", bs)
	}
	tp = m["textBody"].([]any)[0].(map[string]any)
	if len(tp) != 3 || !strings.HasPrefix(tp["header:Content-Type:asText"].(string), "text/plain") {
		t.Errorf("body properties: %v", tp)
	}
	tv = m["bodyValues"].(map[string]any)[tp["partId"].(string)].(map[string]any)
	if tv["value"] != "Caf" || tv["isTruncated"] != true {
		t.Errorf("truncated: %v", tv)
	}

	// Download of the attachment's blob.
	body, status := e.download(e.alice, att["blobId"].(string))
	if status != 200 || len(body) != 8 || !strings.HasPrefix(string(body), "\x89PNG") {
		t.Errorf("download: %d %q", status, body)
	}
}

func TestEmailIsolation(t *testing.T) {
	e := newEnv(t)
	bobMsg := e.deliver(e.bob, "INBOX", simpleMsg)
	e.deliver(e.alice, "INBOX", simpleMsg)
	bobID := emailIDString(bobMsg)
	r := e.call1(e.alice, "Email/get", map[string]any{"ids": []string{bobID}})
	if len(list(r)) != 0 || strs(r["notFound"])[0] != bobID {
		t.Errorf("alice sees bob's email: %v", r)
	}
	msgs, _ := e.st.Messages(context.Background(), e.bob.ID, []store.MessageID{bobMsg})
	thread := threadIDString(msgs[0].ThreadID)
	r = e.call1(e.alice, "Thread/get", map[string]any{"ids": []string{thread}})
	if len(list(r)) != 0 {
		t.Errorf("alice sees bob's thread: %v", r)
	}
	bobInbox := mailboxIDString(e.mailboxID(e.bob, "INBOX"))
	r = e.call1(e.alice, "Email/query", map[string]any{"filter": map[string]any{"inMailbox": bobInbox}, "calculateTotal": true})
	if len(strs(r["ids"])) != 0 || r["total"] != float64(0) {
		t.Errorf("alice queries bob's inbox: %v", r)
	}
	r = e.call1(e.alice, "Mailbox/get", map[string]any{"ids": []string{bobInbox}})
	if len(list(r)) != 0 {
		t.Errorf("alice sees bob's mailbox: %v", r)
	}
	if _, st := e.download(e.alice, blobIDString(msgs[0].BlobID)); st != 404 {
		// The same bytes are in alice's account too, so this one is
		// allowed; a blob only bob has must not be.
		t.Logf("shared content blob: %d", st)
	}
	only := e.deliver(e.bob, "INBOX", strings.Replace(simpleMsg, "Hello there", "Secret", 1))
	msgs, _ = e.st.Messages(context.Background(), e.bob.ID, []store.MessageID{only})
	if _, st := e.download(e.alice, blobIDString(msgs[0].BlobID)); st != 404 {
		t.Errorf("alice downloads bob's blob: %d", st)
	}
	if _, st := e.download(e.alice, partBlobID(only, "1")); st != 404 {
		t.Errorf("alice downloads bob's part: %d", st)
	}
}

func TestThreads(t *testing.T) { testThreads(t, newEnv(t)) }

func testThreads(t *testing.T, e *testEnv) {
	a := e.deliver(e.alice, "INBOX", simpleMsg)
	b := e.deliver(e.alice, "INBOX", multipartMsg)
	st0 := e.call1(e.alice, "Thread/get", map[string]any{"ids": []string{}})["state"].(string)
	msgs, _ := e.st.Messages(context.Background(), e.alice.ID, []store.MessageID{a, b})
	if msgs[0].ThreadID != msgs[1].ThreadID {
		t.Fatalf("not threaded: %v", msgs)
	}
	tid := threadIDString(msgs[0].ThreadID)
	r := e.call1(e.alice, "Thread/get", map[string]any{"ids": []string{tid}})
	if ids := strs(list(r)[0]["emailIds"]); len(ids) != 2 || ids[0] != emailIDString(a) {
		t.Errorf("thread: %v", r)
	}
	e.deliver(e.alice, "INBOX", strings.Replace(strings.Replace(multipartMsg, "m2@", "m3@", 1), "<m1@example.net>", "<m2@example.net>", 2))
	ch := e.call1(e.alice, "Thread/changes", map[string]any{"sinceState": st0})
	if u := strs(ch["updated"]); len(u) != 1 || u[0] != tid {
		t.Errorf("thread changes: %v", ch)
	}
}

// download fetches a blob as acct.
func (e *testEnv) download(acct store.Account, blobID string) ([]byte, int) {
	e.t.Helper()
	return e.get(acct, "/jmap/download/"+accountIDString(acct.ID)+"/"+blobID+"/file?accept=application/octet-stream")
}
