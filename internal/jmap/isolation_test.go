package jmap

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"freehold/internal/store"
)

// TestIsolation calls every method that takes ids with ids of another
// account's objects, and with ids that exist nowhere: the two answers must
// be identical (after the id itself is masked), so that a user can neither
// read, change nor learn of another account's data.
func TestIsolation(t *testing.T) { testIsolation(t, newEnv(t)) }

func testIsolation(t *testing.T, e *testEnv) {
	ctx := context.Background()
	bobMsg := e.deliver(e.bob, "INBOX", strings.Replace(simpleMsg, "Hello there", "Bob only", 1))
	bm, _ := e.st.Messages(ctx, e.bob.ID, []store.MessageID{bobMsg})
	bobDraft := e.draft(e.bob, "bob@example.org", "carol@example.net")
	r := e.call1(e.bob, "EmailSubmission/set", map[string]any{"create": map[string]any{"s": map[string]any{
		"identityId": e.identityID(e.bob), "emailId": bobDraft}}})
	bobSub := r["created"].(map[string]any)["s"].(map[string]any)["id"].(string)
	r = e.call1(e.bob, "Label/set", map[string]any{"create": map[string]any{"l": map[string]any{"name": "Bob's"}}})
	bobLabel := r["created"].(map[string]any)["l"].(map[string]any)["id"].(string)
	_, up := e.upload(e.bob, []byte("bob's upload"), "text/plain")
	e.identityID(e.alice)
	e.deliver(e.alice, "INBOX", simpleMsg)

	pairs := map[string][2]string{ // kind → bob's id, an id that exists nowhere
		"M": {mailboxIDString(e.mailboxID(e.bob, "INBOX")), "M999999"},
		"E": {emailIDString(bobMsg), "E999999"},
		"T": {threadIDString(bm[0].ThreadID), "T999999"},
		"I": {e.identityID(e.bob), "I999999"},
		"S": {bobSub, "S999999"},
		"L": {bobLabel, "L999999"},
		"G": {up["blobId"].(string), "G" + strings.Repeat("0", 64)},
		"P": {partBlobID(bobMsg, "1"), partBlobID(999999, "1")},
	}
	aliceInbox := mailboxIDString(e.mailboxID(e.alice, "INBOX"))
	calls := []struct {
		kind, name, args string
	}{
		{"M", "Mailbox/get", `{"ids":["$ID"]}`},
		{"M", "Mailbox/set", `{"update":{"$ID":{"name":"x"}},"destroy":["$ID"],"create":{"c":{"name":"y","parentId":"$ID"}}}`},
		{"M", "Mailbox/query", `{"filter":{"parentId":"$ID"}}`},
		{"M", "Email/query", `{"filter":{"inMailbox":"$ID"},"calculateTotal":true}`},
		{"M", "Email/query", `{"filter":{"inMailboxOtherThan":["$ID"]},"calculateTotal":true}`},
		{"M", "Email/set", `{"create":{"c":{"mailboxIds":{"$ID":true}}}}`},
		{"E", "Email/get", `{"ids":["$ID"]}`},
		{"E", "Email/set", `{"update":{"$ID":{"keywords/$seen":true}},"destroy":["$ID"]}`},
		{"E", "Email/query", `{"anchor":"$ID"}`},
		{"E", "SearchSnippet/get", `{"emailIds":["$ID"],"filter":{"text":"Bob"}}`},
		{"E", "EmailSubmission/set", `{"create":{"s":{"identityId":"` + e.identityID(e.alice) + `","emailId":"$ID"}}}`},
		{"T", "Thread/get", `{"ids":["$ID"]}`},
		{"I", "Identity/get", `{"ids":["$ID"]}`},
		{"I", "Identity/set", `{"update":{"$ID":{"name":"x"}},"destroy":["$ID"]}`},
		{"I", "EmailSubmission/set", `{"create":{"s":{"identityId":"$ID","emailId":"E1"}}}`},
		{"S", "EmailSubmission/get", `{"ids":["$ID"]}`},
		{"S", "EmailSubmission/set", `{"update":{"$ID":{"undoStatus":"canceled"}},"destroy":["$ID"]}`},
		{"S", "EmailSubmission/query", `{"filter":{"emailIds":["$ID"]}}`},
		{"L", "Label/get", `{"ids":["$ID"]}`},
		{"L", "Label/set", `{"update":{"$ID":{"name":"x"}},"destroy":["$ID"]}`},
		{"G", "Email/parse", `{"blobIds":["$ID"]}`},
		{"G", "Email/import", `{"emails":{"i":{"blobId":"$ID","mailboxIds":{"` + aliceInbox + `":true}}}}`},
		{"G", "Email/set", `{"create":{"c":{"mailboxIds":{"` + aliceInbox + `":true},"attachments":[{"blobId":"$ID"}]}}}`},
		{"P", "Email/parse", `{"blobIds":["$ID"]}`},
	}
	using := `["` + strings.Join(allCaps, `","`) + `"]`
	run := func(name, args string) string {
		body := `{"using":` + using + `,"methodCalls":[["` + name + `",` +
			strings.Replace(args, "{", `{"accountId":"`+accountIDString(e.alice.ID)+`",`, 1) + `,"c"]]}`
		_, b := e.post(e.alice, []byte(body))
		var v any
		json.Unmarshal(b, &v)
		out, _ := json.Marshal(v)
		return string(out)
	}
	for _, c := range calls {
		p := pairs[c.kind]
		other := run(c.name, strings.ReplaceAll(c.args, "$ID", p[0]))
		none := run(c.name, strings.ReplaceAll(c.args, "$ID", p[1]))
		other = strings.ReplaceAll(other, p[0], "$ID")
		none = strings.ReplaceAll(none, p[1], "$ID")
		if other != none {
			t.Errorf("%s %s: another account's id answers\n  %s\nbut an unknown id answers\n  %s", c.name, c.args, other, none)
		}
		if strings.Contains(other, "Bob only") || strings.Contains(other, "bob@example.org") {
			t.Errorf("%s leaks bob's data: %s", c.name, other)
		}
	}
	for kind, p := range pairs {
		if kind != "G" && kind != "P" {
			continue
		}
		_, st1 := e.download(e.alice, p[0])
		_, st2 := e.download(e.alice, p[1])
		if st1 != 404 || st2 != 404 {
			t.Errorf("download of %s: %d, unknown: %d", kind, st1, st2)
		}
	}
}
