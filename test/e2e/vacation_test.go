package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestVacationResponse turns the vacation response on over JMAP (HTTP
// Basic authentication, as a non-browser client does), delivers a message
// over the MX, and sees in the mail log the response queued to the sender
// from the null reverse-path; a second message from the same sender gets
// none.
func TestVacationResponse(t *testing.T) {
	in := newInstance(t, buildBinary(t))
	in.start()
	defer in.stop()
	base := "http://" + in.ports["http"]

	var session struct {
		PrimaryAccounts map[string]string `json:"primaryAccounts"`
	}
	in.jmapCall(t, "GET", base+"/jmap/session", "", &session)
	acct := session.PrimaryAccounts["urn:ietf:params:jmap:mail"]
	if acct == "" {
		t.Fatalf("no mail account in the session: %+v", session)
	}
	var resp struct {
		MethodResponses [][]json.RawMessage `json:"methodResponses"`
	}
	in.jmapCall(t, "POST", base+"/jmap/api", `{"using":["urn:ietf:params:jmap:core","urn:ietf:params:jmap:mail","urn:ietf:params:jmap:vacationresponse"],
		"methodCalls":[["VacationResponse/set",{"accountId":"`+acct+`","update":{"singleton":{"isEnabled":true,"subject":"Away","textBody":"Back on Monday."}}},"0"]]}`, &resp)
	if len(resp.MethodResponses) != 1 || !strings.Contains(string(resp.MethodResponses[0][1]), `"updated"`) {
		t.Fatalf("VacationResponse/set: %s", resp.MethodResponses)
	}

	// A local sender gets the response in their INBOX, whole and signed.
	in.runInput("carols-password\n", "account", "add", "carol@example.test", "--config="+in.cfg)
	if err := sendPlain(in.ports["smtp"], "carol@example.test", in.user, "v0@example.test"); err != nil {
		t.Fatal(err)
	}
	reply := in.waitForMessage(t, "carol@example.test", "carols-password")
	for _, want := range []string{"Subject: Away", "Auto-Submitted: auto-replied", "Back on Monday.", "DKIM-Signature:", "In-Reply-To: <v0@example.test>"} {
		if !strings.Contains(reply, want) {
			t.Errorf("vacation response lacks %q:\n%s", want, reply)
		}
	}

	for i, id := range []string{"v1@sender.test", "v2@sender.test"} {
		if err := sendPlain(in.ports["smtp"], "bob@sender.test", in.user, id); err != nil {
			t.Fatal(err)
		}
		const queued = `msg=queued log=mail`
		const toBob = `from="" to=[bob@sender.test]`
		deadline := time.Now().Add(10 * time.Second)
		n := 0
		for time.Now().Before(deadline) {
			n = 0
			for _, l := range strings.Split(in.logs.String(), "\n") {
				if strings.Contains(l, queued) && strings.Contains(l, toBob) {
					n++
				}
			}
			if n > 0 && i == 0 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if n != 1 {
			t.Fatalf("after message %d: %d vacation responses queued, want 1; logs:\n%s", i+1, n, in.logs.String())
		}
	}
}

// jmapCall makes an HTTP request with Basic authentication and decodes
// the JSON answer into v.
func (in *instance) jmapCall(t *testing.T, method, url, body string, v any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(in.user, in.password)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("%s %s: %s", method, url, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}
