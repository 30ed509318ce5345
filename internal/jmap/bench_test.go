package jmap

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"freehold/internal/blob"
	"freehold/internal/store"
)

// fill delivers n messages to acct's INBOX, concurrently so that the
// store's group commit batches them. Every fifth message starts a thread
// the next four reply to.
func fill(b *testing.B, e *testEnv, acct store.Account, n int) {
	ctx := context.Background()
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	work := make(chan int)
	var wg sync.WaitGroup
	var failed error
	var mu sync.Mutex
	for w := 0; w < 64; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				root := i - i%5
				env := store.Envelope{
					Date:      base.Add(time.Duration(i) * time.Minute),
					Subject:   fmt.Sprintf("Subject number %d", root),
					From:      []store.EnvelopeAddress{{Name: fmt.Sprintf("Sender %d", i%97), Address: fmt.Sprintf("s%d@example.net", i%97)}},
					To:        []store.EnvelopeAddress{{Address: acct.Address}},
					MessageID: fmt.Sprintf("m%d@bench", i),
				}
				if i != root {
					env.InReplyTo = []string{fmt.Sprintf("m%d@bench", root)}
					env.References = env.InReplyTo
				}
				raw := fmt.Sprintf("From: s@example.net\r\nSubject: %s\r\nMessage-ID: <%s>\r\n\r\nbody %d\r\n", env.Subject, env.MessageID, i)
				kw := []string(nil)
				if i%3 == 0 {
					kw = []string{store.KeywordSeen}
				}
				_, err := e.st.Deliver(ctx, store.Delivery{
					Message: store.NewMessage{BlobID: blob.Sum([]byte(raw)), Size: int64(len(raw)), ReceivedAt: env.Date,
						Envelope: env, Preview: "body", Keywords: kw},
					Targets: []store.DeliveryTarget{{Account: acct.ID}},
				})
				if err != nil {
					mu.Lock()
					failed = err
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	if failed != nil {
		b.Fatal(failed)
	}
}

// BenchmarkInbox100k measures the server time of what the webmail does
// when it opens a 100,000-message INBOX: Email/query (inMailbox, newest
// first, 50, with the total) and Email/get of those 50 with the list
// properties, in one request as the webmail sends them.
func BenchmarkInbox100k(b *testing.B) {
	const n = 100000
	e := newEnv(b)
	start := time.Now()
	fill(b, e, e.alice, n)
	b.Logf("filled %d messages in %v", n, time.Since(start))
	inbox := mailboxIDString(e.mailboxID(e.alice, "INBOX"))
	acct := accountIDString(e.alice.ID)
	listProps := []string{"id", "threadId", "mailboxIds", "keywords", "size", "receivedAt", "from", "to",
		"subject", "sentAt", "preview", "hasAttachment"}
	req := func(collapse bool) []byte {
		body, _ := json.Marshal(map[string]any{"using": []string{CapCore, CapMail}, "methodCalls": []any{
			[]any{"Email/query", map[string]any{"accountId": acct, "filter": map[string]any{"inMailbox": inbox},
				"sort": []any{map[string]any{"property": "receivedAt", "isAscending": false}}, "collapseThreads": collapse,
				"position": 0, "limit": 50, "calculateTotal": true}, "q"},
			[]any{"Email/get", map[string]any{"accountId": acct, "#ids": map[string]any{"resultOf": "q", "name": "Email/query", "path": "/ids"},
				"properties": listProps}, "g"},
		}})
		return body
	}
	check := func(resp *Response, want int) {
		var q struct {
			IDs   []string `json:"ids"`
			Total int      `json:"total"`
		}
		json.Unmarshal(resp.MethodResponses[0].Args, &q)
		if len(q.IDs) != 50 || q.Total != want || resp.MethodResponses[1].Name != "Email/get" {
			b.Fatalf("unexpected response: %d ids, total %d; %s", len(q.IDs), q.Total, resp.MethodResponses[0].Args)
		}
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		collapse bool
		total    int
	}{{"flat", false, n}, {"threads", true, n / 5}} {
		body := req(tc.collapse)
		t0 := time.Now()
		resp, err := e.srv.Execute(ctx, e.alice, body)
		if err != nil {
			b.Fatal(err)
		}
		check(resp, tc.total)
		b.Logf("%s: first query+get %v", tc.name, time.Since(t0))
		b.Run(tc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				resp, err := e.srv.Execute(ctx, e.alice, body)
				if err != nil {
					b.Fatal(err)
				}
				check(resp, tc.total)
			}
		})
	}
	// What the webmail does on new mail: the thread list again, after one
	// more message arrived (the counts follow the change, not reload).
	b.Run("threads-after-new-mail", func(b *testing.B) {
		body := req(true)
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			raw := fmt.Sprintf("Subject: new %d\r\n\r\nx\r\n", i)
			if _, err := e.st.Deliver(ctx, store.Delivery{Message: store.NewMessage{BlobID: blob.Sum([]byte(raw)),
				Size: int64(len(raw)), ReceivedAt: time.Now(), Envelope: store.Envelope{Subject: "new"}},
				Targets: []store.DeliveryTarget{{Account: e.alice.ID}}}); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if _, err := e.srv.Execute(ctx, e.alice, body); err != nil {
				b.Fatal(err)
			}
		}
	})
	mb, _ := json.Marshal(map[string]any{"using": []string{CapCore, CapMail}, "methodCalls": []any{
		[]any{"Mailbox/get", map[string]any{"accountId": acct, "ids": nil}, "m"}}})
	t0 := time.Now()
	if _, err := e.srv.Execute(ctx, e.alice, mb); err != nil {
		b.Fatal(err)
	}
	b.Logf("Mailbox/get with counts, first: %v", time.Since(t0))
	b.Run("mailboxes-cold", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			e.srv.mu.Lock()
			clear(e.srv.counts)
			e.srv.indexed = 0
			e.srv.mu.Unlock()
			if _, err := e.srv.Execute(ctx, e.alice, mb); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("mailboxes", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := e.srv.Execute(ctx, e.alice, mb); err != nil {
				b.Fatal(err)
			}
		}
	})
}
