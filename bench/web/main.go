// Command web fills a Freehold data directory with a large mailbox and
// measures what the webmail's first screen costs the server. It is driven
// by bench/web/run.sh, which also measures the browser side (login to the
// first rows, Lighthouse); see there for the one command that runs it all.
//
// Subcommands:
//
//	fill  -config freehold.toml -account a@example.test [-n 100000] [-c 32]
//	      Stores n messages in the account's INBOX straight through the
//	      store API (store.Deliver, blobs written as delivery writes them),
//	      with the server stopped. Every fifth message starts a thread that
//	      the next four answer; a third are read.
//	query -url http://127.0.0.1:8080 -user a@example.test -password p [-runs 20]
//	      Logs in (bearer token) and times the request the webmail sends
//	      for the first page of the inbox: Email/query (inMailbox, newest
//	      first, collapseThreads, 50, calculateTotal) + Email/get of the
//	      row properties + Thread/get, by result references, in one HTTP
//	      request. The first run is the cold one (run it right after the
//	      server starts); then the median and worst of the following runs,
//	      for the threaded and the flat list.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"freehold/internal/app"
	"freehold/internal/blob"
	"freehold/internal/config"
	"freehold/internal/message"
	"freehold/internal/store"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: web fill|query [flags]")
		os.Exit(2)
	}
	ctx := context.Background()
	var err error
	switch os.Args[1] {
	case "fill":
		err = fill(ctx, os.Args[2:])
	case "query":
		err = query(ctx, os.Args[2:])
	default:
		err = fmt.Errorf("unknown subcommand %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "web:", err)
		os.Exit(1)
	}
}

// generator makes the messages of the mailbox: subjects and bodies that
// look like mail to the search index and to the eye.
type generator struct {
	words, names []string
	n            int
	end          time.Time // when the newest message arrived
}

func newGenerator(n int, end time.Time) *generator {
	return &generator{
		words: strings.Fields(`quarterly report budget meeting agenda invoice project
			deadline review draft contract schedule travel holiday team update release notes
			customer feedback proposal minutes planning offsite roadmap hiring security audit
			newsletter invitation reminder payment receipt delivery order summary question`),
		names: strings.Fields(`Alice Bruno Chloé David Emma Farid Grace Hugo Inès Jonas
			Karin Léa Marco Nadia Oscar Paula Quentin Rosa Samir Tania`),
		n:   n,
		end: end,
	}
}

// message builds message i: its raw form and when it arrived. Messages
// arrive three minutes apart, oldest first.
func (g *generator) message(i int) ([]byte, time.Time) {
	words, names := g.words, g.names
	root := i - i%5
	at := g.end.Add(-time.Duration(g.n-i) * 3 * time.Minute)
	name := names[i%len(names)]
	from := fmt.Sprintf("%s <%s%d@example.net>", name, strings.ToLower(name), i%97)
	subject := fmt.Sprintf("%s %s %d", words[root%len(words)], words[(root/7)%len(words)], root)
	if i != root {
		subject = "Re: " + subject
	}
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: bench@example.test\r\nSubject: %s\r\n", from, subject)
	fmt.Fprintf(&b, "Date: %s\r\nMessage-ID: <m%d@bench.example.net>\r\n", at.Format(time.RFC1123Z), i)
	if i != root {
		fmt.Fprintf(&b, "In-Reply-To: <m%d@bench.example.net>\r\nReferences: <m%d@bench.example.net>\r\n", root, root)
	}
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	for line := 0; line < 8; line++ {
		for w := 0; w < 10; w++ {
			b.WriteString(words[(i*31+line*7+w*13)%len(words)])
			b.WriteByte(' ')
		}
		b.WriteString("\r\n")
	}
	return []byte(b.String()), at
}

func fill(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("fill", flag.ExitOnError)
	cfgPath := fs.String("config", "", "the server's freehold.toml")
	address := fs.String("account", "", "the account whose INBOX is filled")
	n := fs.Int("n", 100000, "messages to store")
	conc := fs.Int("c", 32, "concurrent deliveries (the store commits them in groups)")
	_ = fs.Parse(args)
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	st, blobs, err := app.OpenStorage(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	acct, err := st.AccountByAddress(ctx, *address)
	if err != nil {
		return fmt.Errorf("account %s: %w", *address, err)
	}
	start := time.Now()
	gen := newGenerator(*n, start)
	work := make(chan int)
	var done atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < *conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := deliverOne(ctx, st, blobs, acct.ID, gen, i); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				if d := done.Add(1); d%10000 == 0 {
					fmt.Fprintf(os.Stderr, "fill: %d messages, %.0f/s\n", d, float64(d)/time.Since(start).Seconds())
				}
			}
		}()
	}
	for i := 0; i < *n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	el := time.Since(start)
	fmt.Printf("fill: %d messages in %s (%.0f/s)\n", *n, el.Round(time.Millisecond), float64(*n)/el.Seconds())
	return nil
}

func deliverOne(ctx context.Context, st store.Store, blobs blob.Store, acct store.AccountID, gen *generator, i int) error {
	raw, at := gen.message(i)
	env, preview, att := message.Summarize(raw)
	id, size, err := blobs.Put(ctx, bytes.NewReader(raw))
	if err != nil {
		return err
	}
	var kw []string
	if i%3 == 0 {
		kw = []string{store.KeywordSeen}
	}
	_, err = st.Deliver(ctx, store.Delivery{
		Message: store.NewMessage{BlobID: id, Size: size, ReceivedAt: at, Envelope: env,
			Preview: preview, HasAttachment: att, Keywords: kw},
		Targets: []store.DeliveryTarget{{Account: acct}},
	})
	return err
}

// client is a minimal JMAP client over a bearer token.
type client struct {
	base, token, apiURL, account string
	http                         *http.Client
}

func login(ctx context.Context, base, user, password string) (*client, error) {
	c := &client{base: strings.TrimRight(base, "/"), http: &http.Client{Timeout: time.Minute}}
	body, _ := json.Marshal(map[string]any{"username": user, "password": password, "bearer": true})
	var resp struct {
		Token string `json:"token"`
	}
	if err := c.do(ctx, "POST", "/login", body, &resp); err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	c.token = resp.Token
	var session struct {
		APIURL          string            `json:"apiUrl"`
		PrimaryAccounts map[string]string `json:"primaryAccounts"`
	}
	if err := c.do(ctx, "GET", "/jmap/session", nil, &session); err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	c.apiURL = session.APIURL
	if i := strings.Index(c.apiURL, "://"); i >= 0 {
		// The session's URLs are absolute: keep the path, talk to base.
		c.apiURL = c.apiURL[i+3:]
		c.apiURL = c.apiURL[strings.Index(c.apiURL, "/"):]
	}
	c.account = session.PrimaryAccounts["urn:ietf:params:jmap:mail"]
	return c, nil
}

func (c *client) do(ctx context.Context, method, path string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Freehold", "1")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, b)
	}
	return json.Unmarshal(b, out)
}

type invocation struct {
	Name string
	Args json.RawMessage
	ID   string
}

func (v *invocation) UnmarshalJSON(b []byte) error {
	var a []json.RawMessage
	if err := json.Unmarshal(b, &a); err != nil || len(a) != 3 {
		return errors.New("bad invocation")
	}
	v.Args = a[1]
	if err := json.Unmarshal(a[0], &v.Name); err != nil {
		return err
	}
	return json.Unmarshal(a[2], &v.ID)
}

func (c *client) call(ctx context.Context, calls ...[]any) ([]invocation, error) {
	body, _ := json.Marshal(map[string]any{
		"using":       []string{"urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"},
		"methodCalls": calls,
	})
	var resp struct {
		MethodResponses []invocation `json:"methodResponses"`
	}
	if err := c.do(ctx, "POST", c.apiURL, body, &resp); err != nil {
		return nil, err
	}
	for _, r := range resp.MethodResponses {
		if r.Name == "error" {
			return nil, fmt.Errorf("%s: %s", r.ID, r.Args)
		}
	}
	return resp.MethodResponses, nil
}

// rowProps are the webmail's ROW_PROPS (web/src/lib/state/mail.svelte.ts).
var rowProps = []string{"id", "threadId", "mailboxIds", "keywords", "from", "to", "subject",
	"receivedAt", "preview", "hasAttachment", "size"}

// firstPage is the webmail's first list request (web/src/lib/state/list.svelte.ts).
func firstPage(account, inbox string, collapse bool) [][]any {
	ref := func(id, name, path string) map[string]any {
		return map[string]any{"resultOf": id, "name": name, "path": path}
	}
	return [][]any{
		{"Email/query", map[string]any{"accountId": account, "filter": map[string]any{"inMailbox": inbox},
			"sort": []any{map[string]any{"property": "receivedAt", "isAscending": false}}, "collapseThreads": collapse,
			"position": 0, "limit": 50, "calculateTotal": true}, "q"},
		{"Email/get", map[string]any{"accountId": account, "#ids": ref("q", "Email/query", "/ids"), "properties": rowProps}, "e"},
		{"Thread/get", map[string]any{"accountId": account, "#ids": ref("e", "Email/get", "/list/*/threadId")}, "t"},
	}
}

func query(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("query", flag.ExitOnError)
	base := fs.String("url", "", "the server's web origin")
	user := fs.String("user", "", "account address")
	password := fs.String("password", "", "account password")
	runs := fs.Int("runs", 20, "timed runs after the first")
	_ = fs.Parse(args)
	c, err := login(ctx, *base, *user, *password)
	if err != nil {
		return err
	}
	mb, err := c.call(ctx, []any{"Mailbox/get", map[string]any{"accountId": c.account, "ids": nil,
		"properties": []string{"role", "totalEmails"}}, "m"})
	if err != nil {
		return err
	}
	var boxes struct {
		List []struct {
			ID, Role    string
			TotalEmails int
		}
	}
	if err := json.Unmarshal(mb[0].Args, &boxes); err != nil {
		return err
	}
	inbox, total := "", 0
	for _, m := range boxes.List {
		if m.Role == "inbox" {
			inbox, total = m.ID, m.TotalEmails
		}
	}
	fmt.Printf("query: INBOX holds %d messages\n", total)
	for _, collapse := range []bool{true, false} {
		name := map[bool]string{true: "threads", false: "flat"}[collapse]
		var times []time.Duration
		for r := 0; r <= *runs; r++ {
			t0 := time.Now()
			resp, err := c.call(ctx, firstPage(c.account, inbox, collapse)...)
			if err != nil {
				return err
			}
			times = append(times, time.Since(t0))
			if err := checkPage(resp); err != nil {
				return err
			}
		}
		rest := slices.Clone(times[1:])
		slices.Sort(rest)
		fmt.Printf("query %s: first %.1f ms, then median %.1f ms, worst %.1f ms (%d runs; Email/query + Email/get + Thread/get, 50 rows, with total)\n",
			name, ms(times[0]), ms(rest[len(rest)/2]), ms(rest[len(rest)-1]), len(rest))
	}
	return nil
}

func checkPage(resp []invocation) error {
	if len(resp) != 3 {
		return fmt.Errorf("%d responses", len(resp))
	}
	var q struct {
		IDs   []string `json:"ids"`
		Total int      `json:"total"`
	}
	var g struct {
		List []map[string]any `json:"list"`
	}
	if err := json.Unmarshal(resp[0].Args, &q); err != nil {
		return err
	}
	if err := json.Unmarshal(resp[1].Args, &g); err != nil {
		return err
	}
	if len(q.IDs) != 50 || len(g.List) != 50 {
		return fmt.Errorf("page of %d ids, %d emails (total %d)", len(q.IDs), len(g.List), q.Total)
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
