package smtpserver

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestDSNParameterParsers(t *testing.T) {
	okRet := map[string]string{"FULL": "FULL", "hdrs": "HDRS", "Full": "FULL"}
	for in, want := range okRet {
		if got, err := parseRet(in); err != nil || got != want {
			t.Errorf("parseRet(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "BOTH", "FULL,HDRS"} {
		if _, err := parseRet(in); !errors.Is(err, errBadDSN) {
			t.Errorf("parseRet(%q) accepted", in)
		}
	}

	okEnv := map[string]string{"QQ314159": "QQ314159", "a+2Bb+20c": "a+b c", strings.Repeat("x", 100): strings.Repeat("x", 100)}
	for in, want := range okEnv {
		if got, err := parseEnvID(in); err != nil || got != want {
			t.Errorf("parseEnvID(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "a+", "a+zz", "x=y", strings.Repeat("x", 101), "+0D+0A", "+00", "é"} {
		if _, err := parseEnvID(in); !errors.Is(err, errBadDSN) {
			t.Errorf("parseEnvID(%q) accepted", in)
		}
	}

	okNotify := map[string]string{
		"NEVER": "NEVER", "never": "NEVER", "SUCCESS": "SUCCESS",
		"DELAY,FAILURE,SUCCESS": "SUCCESS,FAILURE,DELAY", "failure,FAILURE": "FAILURE",
	}
	for in, want := range okNotify {
		if got, err := parseNotify(in); err != nil || got != want {
			t.Errorf("parseNotify(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "NEVER,SUCCESS", "SUCCESS,", ",DELAY", "ALWAYS", "SUCCESS;FAILURE"} {
		if _, err := parseNotify(in); !errors.Is(err, errBadDSN) {
			t.Errorf("parseNotify(%q) accepted", in)
		}
	}

	for _, c := range []struct {
		in   string
		utf8 bool
	}{
		{"rfc822;bob@example.org", false},
		{"rfc822;bob+2Btag@example.org", false},
		{"RFC822;x", false},
		{`utf-8;j\x{F6}s\x{E9}@example.org`, false},
		{"utf-8;jösé@example.org", true},
	} {
		if got, err := parseORcpt(c.in, c.utf8); err != nil || got != c.in {
			t.Errorf("parseORcpt(%q, %v) = %q, %v", c.in, c.utf8, got, err)
		}
	}
	for _, c := range []struct {
		in   string
		utf8 bool
	}{
		{"bob@example.org", false},
		{"rfc822", false},
		{"rfc822;", false},
		{";bob@example.org", false},
		{"rfc 822;bob@example.org", false},
		{"rfc822;bob+tag@example.org", false},
		{"rfc822;a=b", false},
		{"utf-8;jösé@example.org", false},
		{"rfc822;jösé@example.org", true},
		{"rfc822;" + strings.Repeat("a", 500), false},
	} {
		if _, err := parseORcpt(c.in, c.utf8); !errors.Is(err, errBadDSN) {
			t.Errorf("parseORcpt(%q, %v) accepted", c.in, c.utf8)
		}
	}
}

func TestDSNParametersStored(t *testing.T) {
	e := newRealEnv(t)
	ts := e.start(t, Options{Mode: ModeSubmission, ImplicitTLS: true, MaxErrors: 100})
	d := loginSubmission(t, ts, "bob@example.org", "bob-pw")
	d.run(`
		c: MAIL FROM:<bob@example.org> RET=BOTH
		s: 501 5.5.4 Invalid DSN parameter
		c: MAIL FROM:<bob@example.org> ENVID=bad+zz
		s: 501 5.5.4
		c: MAIL FROM:<bob@example.org> RET=FULL RET=HDRS
		s: 501 5.5.4
		c: MAIL FROM:<bob@example.org> ret=hdrs ENVID=QQ314159+2Bid SIZE=100
		s: 250
		c: RCPT TO:<carol@remote.example> NOTIFY=NEVER,SUCCESS
		s: 501 5.5.4 Invalid DSN parameter
		c: RCPT TO:<carol@remote.example> ORCPT=carol@remote.example
		s: 501 5.5.4
		c: RCPT TO:<carol@remote.example> ORCPT=rfc822;carol+x@remote.example
		s: 501 5.5.4
		c: RCPT TO:<carol@remote.example> XFORWARD=1
		s: 555 5.5.4
		c: RCPT TO:<carol@remote.example> notify=delay,Success orcpt=rfc822;Carol+2Bdsn@remote.example
		s: 250
		c: RCPT TO:<dave@remote.example> NOTIFY=NEVER
		s: 250
		c: RCPT TO:<fwd@example.org> NOTIFY=FAILURE
		s: 250
		c: DATA
		s: 354
		c: From: bob@example.org
		c:
		c: x
		c: .
		s: 250 2.0.0
	`)
	q, err := e.st.QueueList(context.Background())
	if err != nil || len(q) != 1 {
		t.Fatalf("queue %+v %v", q, err)
	}
	m := q[0]
	if m.DSNRet != "HDRS" || m.DSNEnvID != "QQ314159+id" {
		t.Errorf("RET %q ENVID %q", m.DSNRet, m.DSNEnvID)
	}
	want := map[string][2]string{
		"carol@remote.example":   {"SUCCESS,DELAY", "rfc822;Carol+2Bdsn@remote.example"},
		"dave@remote.example":    {"NEVER", ""},
		"outside@remote.example": {"FAILURE", "rfc822;fwd@example.org"},
	}
	if len(m.Recipients) != len(want) {
		t.Fatalf("recipients %+v", m.Recipients)
	}
	for _, r := range m.Recipients {
		w, ok := want[r.Address]
		if !ok || r.Notify != w[0] || r.ORcpt != w[1] {
			t.Errorf("recipient %+v, want NOTIFY %q ORCPT %q", r, w[0], w[1])
		}
	}
	rej := ts.mlog.events("rejected")
	if len(rej) != 7 || rej[3]["stage"] != "rcpt" || !strings.Contains(rej[3]["reason"].(string), "NOTIFY=NEVER with other keywords") {
		t.Errorf("rejected events: %v", rej)
	}
}

func TestDSNOnMX(t *testing.T) {
	e := newRealEnv(t)
	ts := e.start(t, Options{})
	d := dial(t, ts)
	d.run(`
		s: 220
		c: HELO old.example
		s: 250
		c: MAIL FROM:<a@remote.example> RET=FULL
		s: 555
		c: MAIL FROM:<a@remote.example>
		s: 250
		c: RCPT TO:<alice@example.org> NOTIFY=SUCCESS
		s: 555
		c: RSET
		s: 250
		c: EHLO new.example
	`)
	d.readReply()
	d.run(`
		c: MAIL FROM:<a@remote.example> RET=FULL ENVID=e1 SMTPUTF8
		s: 250
		c: RCPT TO:<alice@example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;alice@example.org
		s: 250
		c: RCPT TO:<fwd@example.org> ORCPT=utf-8;jösé@example.org
		s: 250
		c: DATA
		s: 354
		c: Subject: relayed on
		c:
		c: x
		c: .
		s: 250
	`)
	q, err := e.st.QueueList(context.Background())
	if err != nil || len(q) != 1 {
		t.Fatalf("queue %+v %v", q, err)
	}
	if m := q[0]; m.DSNRet != "FULL" || m.DSNEnvID != "e1" || m.Recipients[0].ORcpt != "utf-8;jösé@example.org" {
		t.Errorf("forwarded entry %+v", m)
	}
	if len(e.inbox(t, "alice@example.org")) != 1 || len(e.inbox(t, "bob@example.org")) != 1 {
		t.Error("local copies missing")
	}
}
