package jmap

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// FuzzRequest feeds arbitrary request bodies to the API: the server never
// panics, never answers a request-level failure other than the RFC's
// problems, and no method fails with serverFail (which would mean bad
// input reached a code path that cannot handle it).
func FuzzRequest(f *testing.F) {
	e := newEnv(f)
	e.deliver(e.alice, "INBOX", multipartMsg)
	acct := accountIDString(e.alice.ID)
	seeds := []string{
		`{"using":["urn:ietf:params:jmap:core"],"methodCalls":[["Core/echo",{"a":1},"c"]]}`,
		`{"using":[],"methodCalls":[]}`,
		`not json`,
		`{"using":["urn:ietf:params:jmap:mail"],"methodCalls":[["Mailbox/get",{"accountId":"A1"},"0"],["Email/query",{"accountId":"A1","filter":{"operator":"OR","conditions":[{"text":"x"},{"inMailbox":"M1"}]},"sort":[{"property":"from"}],"collapseThreads":true,"anchor":"E1"},"1"],["Email/get",{"accountId":"A1","#ids":{"resultOf":"1","name":"Email/query","path":"/ids/*"},"properties":["header:From:asAddresses:all","bodyStructure"],"fetchAllBodyValues":true,"maxBodyValueBytes":3},"2"]]}`,
		`{"using":["urn:ietf:params:jmap:mail"],"methodCalls":[["Email/set",{"accountId":"A1","create":{"x":{"mailboxIds":{"M1":true},"bodyStructure":{"type":"multipart/mixed","subParts":[{"partId":"1"}]},"bodyValues":{"1":{"value":"x"}}}},"update":{"E1":{"keywords/$seen":true,"mailboxIds/M2":true}},"destroy":["E9"]},"0"]]}`,
		`{"using":["urn:ietf:params:jmap:mail"],"methodCalls":[["Mailbox/set",{"accountId":"A1","create":{"a":{"name":"x","parentId":"#b"},"b":{"name":"y","parentId":"#a"}}},"0"]]}`,
		`{"using":["urn:ietf:params:jmap:mail","urn:ietf:params:jmap:submission"],"methodCalls":[["EmailSubmission/set",{"accountId":"A1","create":{"s":{"identityId":"I1","emailId":"E1","envelope":{"mailFrom":{"email":"alice@example.org","parameters":{"HOLDUNTIL":"x"}},"rcptTo":[]}}},"onSuccessUpdateEmail":{"#s":{"keywords/$draft":null}}},"0"]]}`,
		`{"using":["urn:ietf:params:jmap:mail"],"methodCalls":[["Email/changes",{"accountId":"A1","sinceState":"0","maxChanges":1},"0"],["Mailbox/queryChanges",{"accountId":"A1","sinceQueryState":"1"},"1"],["Thread/get",{"accountId":"A1","ids":["T1"]},"2"]]}`,
		`{"using":["urn:freehold:params:jmap:labels","urn:freehold:params:jmap:settings","urn:ietf:params:jmap:vacationresponse"],"methodCalls":[["Label/set",{"accountId":"A1","create":{"l":{"name":1}}},"0"],["Settings/set",{"accountId":"A1","update":{"singleton":{"undoSendSeconds":"x"}}},"1"],["VacationResponse/set",{"accountId":"A1","update":{"singleton":{"fromDate":5}}},"2"]]}`,
		`{"using":["urn:ietf:params:jmap:mail"],"methodCalls":[["Email/parse",{"accountId":"A1","blobIds":["G00","Pnope","P1_1-2"]},"0"],["Email/import",{"accountId":"A1","emails":{"a":{"blobId":"P1_1","mailboxIds":{"M1":true}}}},"1"]]}`,
		`{"using":["urn:ietf:params:jmap:mail"],"methodCalls":[["Email/get",{"accountId":"A1","ids":null,"properties":["header:"]},"0"]],"createdIds":{"x":"E1"}}`,
	}
	for _, s := range seeds {
		f.Add(strings.ReplaceAll(s, `"A1"`, `"`+acct+`"`))
	}
	f.Fuzz(func(t *testing.T, body string) {
		resp, err := e.srv.Execute(context.Background(), e.alice, []byte(body))
		if err != nil {
			var re *requestError
			if !errors.As(err, &re) || re.p.Status != 400 {
				t.Fatalf("request error %v", err)
			}
			return
		}
		for _, mr := range resp.MethodResponses {
			if mr.Name == "error" {
				var me MethodError
				json.Unmarshal(mr.Args, &me)
				if me.Type == errServerFail {
					t.Fatalf("serverFail for %q: %s", body, mr.Args)
				}
			}
		}
	})
}
