package jmap

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// setVacation updates alice's VacationResponse.
func (e *testEnv) setVacation(v map[string]any) {
	e.t.Helper()
	r := e.call1(e.alice, "VacationResponse/set", map[string]any{"update": map[string]any{"singleton": v}})
	if u, ok := r["updated"].(map[string]any); !ok || len(u) != 1 {
		e.t.Fatalf("VacationResponse/set: %v", r)
	}
}

// incoming is a message to alice from sender, with extra header lines.
func incoming(sender, subject, extra string) []byte {
	return []byte(fmt.Sprintf("From: Someone <%s>\r\nTo: Alice <alice@example.org>\r\nSubject: %s\r\n"+
		"Message-ID: <orig-%s@example.net>\r\nReferences: <root@example.net>\r\n%s\r\nHello.\r\n", sender, subject, subject, extra))
}

func TestVacationAutoReply(t *testing.T) { testVacationAutoReply(t, newEnv(t)) }

func testVacationAutoReply(t *testing.T, e *testEnv) {
	ctx := context.Background()
	reply := func(from, rcpt string, raw []byte) bool {
		t.Helper()
		ok, err := e.srv.AutoReply(ctx, AutoReplyRequest{Account: e.alice.ID, MailFrom: from, Rcpt: rcpt, Raw: raw})
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if reply("carol@example.net", "alice@example.org", incoming("carol@example.net", "first", "")) {
		t.Fatal("answered with the vacation response off")
	}
	e.setVacation(map[string]any{"isEnabled": true, "subject": nil, "textBody": "Back on Monday.\nAlice", "htmlBody": nil})

	if !reply("carol@example.net", "alice@example.org", incoming("carol@example.net", "Plans", "")) {
		t.Fatal("no vacation response")
	}
	sent := e.sub.sent()
	if len(sent) != 1 {
		t.Fatalf("sent %d", len(sent))
	}
	r := sent[0]
	raw := string(r.Raw)
	if r.MailFrom != "" || len(r.Rcpts) != 1 || r.Rcpts[0] != "carol@example.net" {
		t.Errorf("envelope: from %q to %v (RFC 3834 §3.3 wants the null path)", r.MailFrom, r.Rcpts)
	}
	for _, want := range []string{"\r\nAuto-Submitted: auto-replied\r\n", "\r\nSubject: Auto: Plans\r\n",
		"\r\nIn-Reply-To: <orig-Plans@example.net>\r\n", "\r\nReferences: <root@example.net> <orig-Plans@example.net>\r\n",
		"\r\nTo: <carol@example.net>\r\n", "Back on Monday.\r\nAlice"} {
		if !strings.Contains(raw, want) {
			t.Errorf("reply lacks %q:\n%s", want, raw)
		}
	}
	if !strings.HasPrefix(raw, "From: ") || !strings.Contains(raw, "alice@example.org>") {
		t.Errorf("From:\n%s", raw)
	}

	// Once per sender per period, whatever the case of the address.
	if reply("Carol@Example.NET", "alice@example.org", incoming("carol@example.net", "again", "")) {
		t.Error("answered the same sender twice")
	}
	e.clock.advance(VacationPeriod + time.Hour)
	if !reply("carol@example.net", "alice@example.org", incoming("carol@example.net", "later", "")) {
		t.Error("not answered again after the period")
	}

	// Never to automated mail, lists, bulk, or mail not addressed to alice.
	refused := []struct {
		name, from string
		raw        []byte
	}{
		{"null sender", "", incoming("dave@example.net", "x", "")},
		{"mailer-daemon", "MAILER-DAEMON@example.net", incoming("dave@example.net", "x", "")},
		{"list owner", "owner-users@example.net", incoming("dave@example.net", "x", "")},
		{"list request", "users-request@example.net", incoming("dave@example.net", "x", "")},
		{"no-reply", "no-reply@shop.example", incoming("no-reply@shop.example", "x", "")},
		{"auto-submitted", "erin@example.net", incoming("erin@example.net", "x", "Auto-Submitted: auto-replied\r\n")},
		{"list-id", "frank@example.net", incoming("frank@example.net", "x", "List-Id: <users.example.net>\r\n")},
		{"list-unsubscribe", "grace@example.net", incoming("grace@example.net", "x", "List-Unsubscribe: <mailto:u@example.net>\r\n")},
		{"bulk", "heidi@example.net", incoming("heidi@example.net", "x", "Precedence: bulk\r\n")},
		{"ms suppress", "ivan@example.net", incoming("ivan@example.net", "x", "X-Auto-Response-Suppress: OOF, AutoReply\r\n")},
		{"not addressed", "judy@example.net", []byte("From: judy@example.net\r\nTo: team@example.net\r\nSubject: x\r\n\r\nhi\r\n")},
		{"from herself", "alice@example.org", incoming("alice@example.org", "x", "")},
	}
	for _, tc := range refused {
		if reply(tc.from, "alice@example.org", tc.raw) {
			t.Errorf("%s: answered", tc.name)
		}
	}
	// Auto-Submitted: no is an ordinary message.
	if !reply("kim@example.net", "alice@example.org", incoming("kim@example.net", "x", "Auto-Submitted: no\r\n")) {
		t.Error("Auto-Submitted: no was not answered")
	}
	if n := len(e.sub.sent()); n != 3 {
		t.Errorf("%d replies in all, want 3", n)
	}
}

func TestVacationDatesAndRestart(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	now := e.clock.now()
	e.setVacation(map[string]any{"isEnabled": true, "fromDate": now.Add(time.Hour).Format(time.RFC3339),
		"toDate": now.Add(48 * time.Hour).Format(time.RFC3339), "subject": "Away", "htmlBody": "<p>Away <b>until Friday</b></p>"})
	req := AutoReplyRequest{Account: e.alice.ID, MailFrom: "carol@example.net", Rcpt: "alice@example.org",
		Raw: incoming("carol@example.net", "x", "")}
	if ok, _ := e.srv.AutoReply(ctx, req); ok {
		t.Error("answered before fromDate")
	}
	e.clock.advance(2 * time.Hour)
	if ok, err := e.srv.AutoReply(ctx, req); !ok || err != nil {
		t.Fatalf("not answered within the dates: %v", err)
	}
	raw := string(e.sub.sent()[0].Raw)
	if !strings.Contains(raw, "Subject: Away\r\n") || !strings.Contains(raw, "multipart/alternative") ||
		!strings.Contains(raw, "Away until Friday") || !strings.Contains(raw, "<b>until Friday</b>") {
		t.Errorf("reply with an HTML body:\n%s", raw)
	}
	// A new absence (enabled again) answers the same sender again.
	e.setVacation(map[string]any{"isEnabled": false})
	e.setVacation(map[string]any{"isEnabled": true})
	if ok, _ := e.srv.AutoReply(ctx, req); !ok {
		t.Error("a new absence did not answer again")
	}
	e.clock.advance(48 * time.Hour)
	if ok, _ := e.srv.AutoReply(ctx, AutoReplyRequest{Account: e.alice.ID, MailFrom: "dave@example.net",
		Rcpt: "alice@example.org", Raw: incoming("dave@example.net", "x", "")}); ok {
		t.Error("answered after toDate")
	}
}
