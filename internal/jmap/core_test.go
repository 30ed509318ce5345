package jmap

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestSession(t *testing.T) {
	e := newEnv(t)
	resp := e.open(e.alice, "GET", "/jmap/session", nil, "")
	defer resp.Body.Close()
	var s map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	caps := s["capabilities"].(map[string]any)
	core := caps[CapCore].(map[string]any)
	for _, k := range []string{"maxSizeUpload", "maxConcurrentUpload", "maxSizeRequest", "maxConcurrentRequests",
		"maxCallsInRequest", "maxObjectsInGet", "maxObjectsInSet"} {
		if _, ok := core[k]; !ok {
			t.Errorf("core capability lacks %s", k)
		}
	}
	id := accountIDString(e.alice.ID)
	if s["primaryAccounts"].(map[string]any)[CapMail] != id {
		t.Errorf("primary account: %v", s["primaryAccounts"])
	}
	if !strings.HasSuffix(s["apiUrl"].(string), "/jmap/api") || s["username"] != e.alice.Address {
		t.Errorf("session: %v", s)
	}
	if _, ok := s["accounts"].(map[string]any)[id]; !ok {
		t.Errorf("accounts: %v", s["accounts"])
	}
}

func TestEcho(t *testing.T) {
	e := newEnv(t)
	r := e.call1(e.alice, "Core/echo", map[string]any{"hello": true, "n": 3})
	if r["hello"] != true || r["n"] != float64(3) {
		t.Errorf("echo: %v", r)
	}
}

// problemOf posts body and returns the status and problem type.
func (e *testEnv) problemOf(body string, contentType string) (int, map[string]any) {
	resp, b := e.send(e.alice, "POST", "/jmap/api", strings.NewReader(body), contentType)
	var p map[string]any
	json.Unmarshal(b, &p)
	if resp.StatusCode != 200 && resp.Header.Get("Content-Type") != "application/problem+json" {
		e.t.Errorf("status %d with Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, p
}

func TestRequestErrors(t *testing.T) {
	e := newEnv(t)
	e.srv.limits.MaxCallsInRequest = 2
	e.srv.limits.MaxSizeRequest = 2000
	for _, tc := range []struct {
		name, body, ctype, want, limit string
	}{
		{"not json", `{"using": [`, "application/json", probNotJSON, ""},
		{"wrong content type", `{"using":[],"methodCalls":[]}`, "text/plain", probNotJSON, ""},
		{"not an object", `[1,2]`, "application/json", probNotRequest, ""},
		{"no using", `{"methodCalls":[]}`, "application/json", probNotRequest, ""},
		{"calls not array", `{"using":[],"methodCalls":{}}`, "application/json", probNotRequest, ""},
		{"short invocation", `{"using":[],"methodCalls":[["Core/echo",{}]]}`, "application/json", probNotRequest, ""},
		{"args not object", `{"using":[],"methodCalls":[["Core/echo",[],"a"]]}`, "application/json", probNotRequest, ""},
		{"unknown capability", `{"using":["urn:x:nope"],"methodCalls":[]}`, "application/json", probUnknownCapability, ""},
		{"too many calls", `{"using":["` + CapCore + `"],"methodCalls":[["Core/echo",{},"a"],["Core/echo",{},"b"],["Core/echo",{},"c"]]}`,
			"application/json", probLimit, "maxCallsInRequest"},
		{"too large", `{"using":[],"methodCalls":[],"x":"` + strings.Repeat("a", 3000) + `"}`, "application/json", probLimit, "maxSizeRequest"},
	} {
		status, p := e.problemOf(tc.body, tc.ctype)
		if status != 400 || p["type"] != tc.want {
			t.Errorf("%s: status %d, problem %v; want 400 %s", tc.name, status, p, tc.want)
		}
		if tc.limit != "" && p["limit"] != tc.limit {
			t.Errorf("%s: limit %v, want %s", tc.name, p["limit"], tc.limit)
		}
	}
}

func TestMethodErrors(t *testing.T) {
	e := newEnv(t)
	// A capability not in using makes its methods unknown.
	body := `{"using":["` + CapCore + `"],"methodCalls":[["Mailbox/get",{"accountId":"` + accountIDString(e.alice.ID) + `"},"a"],["Nope/get",{},"b"]]}`
	_, b := e.post(e.alice, []byte(body))
	var r Response
	var raw struct {
		MethodResponses [][]json.RawMessage
	}
	json.Unmarshal(b, &raw)
	_ = r
	for i, mr := range raw.MethodResponses {
		var args map[string]any
		json.Unmarshal(mr[1], &args)
		if string(mr[0]) != `"error"` || args["type"] != errUnknownMethod {
			t.Errorf("call %d: %s", i, b)
		}
	}
	if got := e.callErr(e.alice, "Mailbox/get", map[string]any{"accountId": accountIDString(e.bob.ID)}); got != errAccountNotFound {
		t.Errorf("other account: %s", got)
	}
	if got := e.callErr(e.alice, "Mailbox/get", map[string]any{"accountId": "nonsense"}); got != errAccountNotFound {
		t.Errorf("bad account: %s", got)
	}
	if got := e.callErr(e.alice, "Mailbox/get", map[string]any{"ids": "notalist"}); got != errInvalidArguments {
		t.Errorf("bad ids: %s", got)
	}
	if got := e.callErr(e.alice, "Mailbox/get", map[string]any{"properties": []string{"bogus"}}); got != errInvalidArguments {
		t.Errorf("bad property: %s", got)
	}
	if got := e.callErr(e.alice, "Mailbox/changes", map[string]any{"sinceState": "garbage"}); got != errCannotCalculateChanges {
		t.Errorf("bad state: %s", got)
	}
	e.srv.limits.MaxObjectsInGet = 2
	if got := e.callErr(e.alice, "Mailbox/get", map[string]any{"ids": []string{"M1", "M2", "M3"}}); got != errRequestTooLarge {
		t.Errorf("too many ids: %s", got)
	}
}

func TestResultReferences(t *testing.T) {
	e := newEnv(t)
	r := e.call(e.alice,
		inv{"Mailbox/query", map[string]any{"sort": []any{map[string]any{"property": "name"}}}},
		inv{"Mailbox/get", map[string]any{"#ids": map[string]any{"resultOf": "c0", "name": "Mailbox/query", "path": "/ids"},
			"properties": []string{"name"}}},
		inv{"Core/echo", map[string]any{"#names": map[string]any{"resultOf": "c1", "name": "Mailbox/get", "path": "/list/*/name"}}},
		inv{"Mailbox/get", map[string]any{"#ids": map[string]any{"resultOf": "c0", "name": "Mailbox/get", "path": "/ids"}}},
		inv{"Mailbox/get", map[string]any{"#ids": map[string]any{"resultOf": "c0", "name": "Mailbox/query", "path": "/nope"}}},
		inv{"Mailbox/get", map[string]any{"ids": nil, "#ids": map[string]any{"resultOf": "c0", "name": "Mailbox/query", "path": "/ids"}}},
	)
	if len(list(r[1].Args)) != 6 {
		t.Fatalf("get by reference: %v", r[1])
	}
	names := strs(r[2].Args["names"])
	if strings.Join(names, ",") != "Archive,Drafts,INBOX,Junk,Sent,Trash" {
		t.Errorf("names through /list/*/name: %v", names)
	}
	for i := 3; i <= 4; i++ {
		if r[i].Name != "error" || r[i].Args["type"] != errInvalidResultReference {
			t.Errorf("call %d: %v", i, r[i])
		}
	}
	if r[5].Name != "error" || r[5].Args["type"] != errInvalidArguments {
		t.Errorf("both ids and #ids: %v", r[5])
	}
}

func TestEvalPointer(t *testing.T) {
	var v any
	json.Unmarshal([]byte(`{"list":[{"a":[1,2]},{"a":[3]}],"x~/y":{"z":5},"arr":[7,8]}`), &v)
	for _, tc := range []struct {
		path string
		want string
		err  bool
	}{
		{"/list/*/a", "[1,2,3]", false},
		{"/x~0~1y/z", "5", false},
		{"/arr/1", "8", false},
		{"/arr/01", "", true},
		{"/arr/5", "", true},
		{"list", "", true},
		{"/arr/0/x", "", true},
	} {
		got, err := evalPointer(v, tc.path)
		if (err != nil) != tc.err {
			t.Errorf("%s: err %v", tc.path, err)
			continue
		}
		if err == nil {
			b, _ := json.Marshal(got)
			if string(b) != tc.want {
				t.Errorf("%s: %s, want %s", tc.path, b, tc.want)
			}
		}
	}
}
