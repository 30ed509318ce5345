package e2e

import (
	"crypto/tls"
	"encoding/json"
	"net/smtp"
	"regexp"
	"strings"
	"testing"
)

// TestScheduledSend submits a message with FUTURERELEASE over submission
// (STARTTLS, AUTH PLAIN), sees it held in the queue for its sender, and
// cancels it from the command line, as a sender's admin would.
func TestScheduledSend(t *testing.T) {
	in := newInstance(t, buildBinary(t))
	in.start()
	defer in.stop()
	cfg := "--config=" + in.cfg

	c, err := smtp.Dial(in.ports["submission"])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	if ok, param := c.Extension("FUTURERELEASE"); !ok || param == "" {
		t.Fatalf("FUTURERELEASE not advertised (%q)", param)
	}
	if err := c.StartTLS(&tls.Config{InsecureSkipVerify: true, ServerName: "mx.example.test"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Auth(smtp.PlainAuth("", in.user, in.password, "127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	id, err := c.Text.Cmd("MAIL FROM:<%s> HOLDFOR=3600", in.user)
	if err != nil {
		t.Fatal(err)
	}
	c.Text.StartResponse(id)
	_, _, err = c.Text.ReadResponse(250)
	c.Text.EndResponse(id)
	if err != nil {
		t.Fatalf("MAIL with HOLDFOR: %v", err)
	}
	if err := c.Rcpt("someone@remote.test"); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("From: " + in.user + "\r\nTo: someone@remote.test\r\nSubject: later\r\n\r\nsee you in an hour\r\n"))
	if err := w.Close(); err != nil {
		t.Fatalf("end of data: %v", err)
	}
	c.Quit()

	out := in.run("queue", "held", "--account", in.user, cfg)
	m := regexp.MustCompile(`(?m)^(\d+)\s`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("queue held lists nothing:\n%s", out)
	}
	if !strings.Contains(in.run("queue", "show", m[1], cfg), "held until") {
		t.Error("queue show does not say the message is held")
	}
	// The webmail lists it with the scheduled messages (HeldMessage/get).
	j := &jmapClient{t: t, in: in, base: "http://" + in.ports["http"]}
	j.init()
	l := j.call("HeldMessage/get", `{"accountId":"`+j.acct+`"}`)["list"].([]any)
	if len(l) != 1 || l[0].(map[string]any)["id"] != "Q"+m[1] || l[0].(map[string]any)["subject"] != "later" {
		t.Errorf("HeldMessage/get: %v", l)
	}
	in.run("queue", "cancel", m[1], "--account", in.user, cfg)
	if out := in.run("queue", "held", cfg); regexp.MustCompile(`(?m)^` + m[1] + `\s`).MatchString(out) {
		t.Errorf("still held after cancel:\n%s", out)
	}
	if l := j.call("HeldMessage/get", `{"accountId":"`+j.acct+`"}`)["list"].([]any); len(l) != 0 {
		t.Errorf("HeldMessage/get after cancel: %v", l)
	}
}

// TestJMAPScheduledSend sends over JMAP with the undo delay: the message
// is held in the outbound queue (the admin's `queue held` lists it), undo
// cancels the queue entry so nothing is delivered, and a message left
// alone reaches its local recipient once the delay has passed.
func TestJMAPScheduledSend(t *testing.T) {
	in := newInstance(t, buildBinary(t))
	in.start()
	defer in.stop()
	cfg := "--config=" + in.cfg
	in.runInput("carols-password\n", "account", "add", "carol@example.test", cfg)
	j := &jmapClient{t: t, in: in, base: "http://" + in.ports["http"]}
	j.init()

	j.call("Settings/set", `{"accountId":"`+j.acct+`","update":{"singleton":{"undoSendSeconds":2}}}`)
	drafts := j.call("Mailbox/query", `{"accountId":"`+j.acct+`","filter":{"role":"drafts"}}`)["ids"].([]any)[0].(string)
	ident := j.call("Identity/get", `{"accountId":"`+j.acct+`"}`)["list"].([]any)[0].(map[string]any)["id"].(string)
	submit := func(subject string) (id, undo string) {
		e := j.call("Email/set", `{"accountId":"`+j.acct+`","create":{"d":{"mailboxIds":{"`+drafts+`":true},
			"keywords":{"$draft":true},"from":[{"email":"`+in.user+`"}],"to":[{"email":"carol@example.test"}],
			"subject":"`+subject+`","bodyValues":{"1":{"value":"hello"}},"textBody":[{"partId":"1"}]}}}`)
		email := e["created"].(map[string]any)["d"].(map[string]any)["id"].(string)
		s := j.call("EmailSubmission/set", `{"accountId":"`+j.acct+`","create":{"s":{"identityId":"`+ident+`","emailId":"`+email+`"}}}`)
		c, ok := s["created"].(map[string]any)["s"].(map[string]any)
		if !ok {
			t.Fatalf("EmailSubmission/set: %v", s)
		}
		return c["id"].(string), c["undoStatus"].(string)
	}

	first, undo := submit("undone")
	if undo != "pending" {
		t.Fatalf("undoStatus %q, want pending", undo)
	}
	held := regexp.MustCompile(`(?m)^\d+\s`).FindAllString(in.run("queue", "held", "--account", in.user, cfg), -1)
	if len(held) != 1 {
		t.Fatalf("queue held lists %d messages, want the submission", len(held))
	}
	u := j.call("EmailSubmission/set", `{"accountId":"`+j.acct+`","update":{"`+first+`":{"undoStatus":"canceled"}}}`)
	if _, ok := u["updated"].(map[string]any)[first]; !ok {
		t.Fatalf("undo: %v", u)
	}
	if out := in.run("queue", "held", cfg); regexp.MustCompile(`(?m)^\d+\s`).MatchString(out) {
		t.Errorf("still held after undo:\n%s", out)
	}

	second, _ := submit("kept")
	got := in.waitForMessage(t, "carol@example.test", "carols-password")
	if !strings.Contains(got, "Subject: kept") {
		t.Errorf("carol's first message is not the one kept (the undone one arrived?):\n%s", got)
	}
	g := j.call("EmailSubmission/get", `{"accountId":"`+j.acct+`","ids":["`+second+`","`+first+`"]}`)["list"].([]any)
	if len(g) != 2 || g[0].(map[string]any)["undoStatus"] != "final" || g[1].(map[string]any)["undoStatus"] != "canceled" {
		t.Errorf("EmailSubmission/get: %v", g)
	}
}

// jmapClient calls JMAP methods as the demo user.
type jmapClient struct {
	t    *testing.T
	in   *instance
	base string
	acct string
}

func (j *jmapClient) init() {
	var session struct {
		PrimaryAccounts map[string]string `json:"primaryAccounts"`
	}
	j.in.jmapCall(j.t, "GET", j.base+"/jmap/session", "", &session)
	j.acct = session.PrimaryAccounts["urn:ietf:params:jmap:mail"]
	if j.acct == "" {
		j.t.Fatalf("no mail account in the session: %+v", session)
	}
}

// call makes one method call and returns its arguments; a method error
// fails the test.
func (j *jmapClient) call(method, args string) map[string]any {
	j.t.Helper()
	var resp struct {
		MethodResponses [][]json.RawMessage `json:"methodResponses"`
	}
	j.in.jmapCall(j.t, "POST", j.base+"/jmap/api", `{"using":["urn:ietf:params:jmap:core","urn:ietf:params:jmap:mail",
		"urn:ietf:params:jmap:submission","urn:freehold:params:jmap:settings","urn:freehold:params:jmap:held"],"methodCalls":[["`+method+`",`+args+`,"0"]]}`, &resp)
	if len(resp.MethodResponses) != 1 {
		j.t.Fatalf("%s: %v", method, resp.MethodResponses)
	}
	var name string
	var out map[string]any
	json.Unmarshal(resp.MethodResponses[0][0], &name)
	json.Unmarshal(resp.MethodResponses[0][1], &out)
	if name != method {
		j.t.Fatalf("%s: %s %v", method, name, out)
	}
	return out
}
