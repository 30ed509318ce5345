package maillog

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func newJSON() (*Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	h := slog.NewJSONHandler(&buf, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})
	return New(slog.New(h)), &buf
}

func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		m := map[string]any{}
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func TestEventsHaveStableKeys(t *testing.T) {
	l, buf := newJSON()
	ctx := context.Background()
	s := Session{Conn: "c1", Remote: "192.0.2.1", Mode: "mx", Helo: "client.example", TLS: true}
	l.Received(ctx, Received{Session: s, From: "a@example.net", To: []string{"b@example.org"}, Size: 10, Blob: "ab", Local: 1,
		Auth: "spf=pass dkim=none dmarc=fail", Action: "quarantine"})
	l.Rejected(ctx, Rejected{Session: s, Stage: StageRcpt, From: "a@example.net", To: []string{"x@example.org"}, Code: 550, Status: "5.1.1", Reason: "no such user"})
	l.Delivered(ctx, Delivered{Conn: "c1", From: "a@example.net", Account: "b@example.org", Mailbox: "INBOX", UID: 7})
	l.Queued(ctx, Queued{Conn: "c1", From: "a@example.org", To: []string{"r@example.com"}, Queue: 3, Hold: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)})
	l.Deferred(ctx, Attempt{Queue: 3, To: "r@example.com", Attempt: 1, Code: 451, Reason: "greylisted", Next: time.Unix(0, 0)})
	l.AuthFailed(ctx, AuthFailed{Protocol: "smtp", Conn: "c2", Remote: "192.0.2.9", Mechanism: "PLAIN", User: "mallory"})

	got := lines(t, buf)
	want := []struct {
		msg  string
		keys map[string]any
	}{
		{EventReceived, map[string]any{"conn": "c1", "remote": "192.0.2.1", "tls": true, "from": "a@example.net", "size": 10.0, "local": 1.0, "blob": "ab",
			"auth": "spf=pass dkim=none dmarc=fail", "action": "quarantine"}},
		{EventRejected, map[string]any{"stage": "rcpt", "code": 550.0, "status": "5.1.1", "reason": "no such user"}},
		{EventDelivered, map[string]any{"account": "b@example.org", "mailbox": "INBOX", "uid": "7"}},
		{EventQueued, map[string]any{"queue": 3.0, "from": "a@example.org", "hold": "2026-03-02T09:00:00Z"}},
		{EventDeferred, map[string]any{"queue": 3.0, "attempt": 1.0, "code": 451.0, "reason": "greylisted"}},
		{EventAuthFailed, map[string]any{"proto": "smtp", "user": "mallory", "mech": "PLAIN"}},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(got), len(want), buf)
	}
	for i, w := range want {
		if got[i]["msg"] != w.msg {
			t.Errorf("line %d msg %v, want %v", i, got[i]["msg"], w.msg)
		}
		for k, v := range w.keys {
			if got[i][k] != v {
				t.Errorf("line %d (%s) %s=%v, want %v", i, w.msg, k, got[i][k], v)
			}
		}
	}
	if _, ok := got[3]["blob"]; ok {
		t.Error("empty values must be left out")
	}
}

func TestNilLoggerDiscards(t *testing.T) {
	var l *Logger
	l.Received(context.Background(), Received{})
	l.Rejected(context.Background(), Rejected{})
	if New(nil) != nil {
		t.Error("New(nil) should be nil")
	}
}
