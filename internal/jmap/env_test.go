package jmap

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"freehold/internal/blob/memblob"
	"freehold/internal/message"
	"freehold/internal/store"
	"freehold/internal/store/postgres"
	"freehold/internal/store/sqlite"
	"freehold/internal/testutil/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// fakeSubmitter records what it is asked to send. A held message goes
// into the store's outbound queue, as delivery holds a FUTURERELEASE
// message, so that tests see the queue's hold, release and cancel.
type fakeSubmitter struct {
	mu    sync.Mutex
	reqs  []SubmitRequest
	fail  error
	queue store.Queue // nil: held messages are only recorded
}

func (f *fakeSubmitter) Submit(ctx context.Context, r SubmitRequest) (SubmitResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return SubmitResult{}, f.fail
	}
	f.reqs = append(f.reqs, r)
	if r.HoldUntil.IsZero() || f.queue == nil {
		return SubmitResult{QueueID: store.QueueID(len(f.reqs))}, nil
	}
	m := store.OutboundMessage{Account: r.Account, MailFrom: r.MailFrom, BlobID: "held", Size: int64(len(r.Raw)),
		Created: r.HoldUntil, HoldUntil: r.HoldUntil}
	for _, rc := range r.Rcpts {
		m.Recipients = append(m.Recipients, store.OutboundRecipient{Address: rc})
	}
	id, err := f.queue.Enqueue(ctx, m)
	return SubmitResult{QueueID: id}, err
}

func (f *fakeSubmitter) sent() []SubmitRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]SubmitRequest(nil), f.reqs...)
}

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type testEnv struct {
	t      testing.TB
	st     Store
	blobs  *memblob.Store
	srv    *Server
	http   *httptest.Server
	sub    *fakeSubmitter
	clock  *testClock
	alice  store.Account
	bob    store.Account
	client *http.Client
}

// newEnv opens a real SQLite store with two accounts and serves JMAP over
// a loopback HTTP server. Tests authenticate with Basic auth, whose user
// name is the account address (passwords are web's concern).
func newEnv(t testing.TB) *testEnv {
	t.Helper()
	return newEnvOn(t, func(clock *testClock) (Store, error) {
		return sqlite.OpenStore(context.Background(), filepath.Join(t.TempDir(), "db.sqlite"), sqlite.Options{Now: clock.now})
	})
}

// newPGEnv is newEnv on a throwaway PostgreSQL database (skipped where
// PostgreSQL is not installed).
func newPGEnv(t testing.TB) *testEnv {
	t.Helper()
	dsn := pgtest.Start(t)
	return newEnvOn(t, func(clock *testClock) (Store, error) {
		return postgres.OpenStore(context.Background(), dsn, postgres.Options{Now: clock.now})
	})
}

func newEnvOn(t testing.TB, open func(*testClock) (Store, error)) *testEnv {
	t.Helper()
	ctx := context.Background()
	clock := &testClock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	st, err := open(clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.AddDomain(ctx, "example.org"); err != nil {
		t.Fatal(err)
	}
	e := &testEnv{t: t, st: st, blobs: memblob.New(), sub: &fakeSubmitter{queue: st}, clock: clock}
	for _, a := range []struct {
		addr string
		out  *store.Account
	}{{"alice@example.org", &e.alice}, {"bob@example.org", &e.bob}} {
		acct, err := st.CreateAccount(ctx, store.NewAccount{Address: a.addr, PasswordHash: "x"})
		if err != nil {
			t.Fatal(err)
		}
		*a.out = acct
	}
	e.srv = New(Options{Store: st, Blobs: e.blobs, Submitter: e.sub, Clock: clock.now, Hostname: "mail.example.org"})
	auth := func(w http.ResponseWriter, r *http.Request) (store.Account, bool) {
		user, _, ok := r.BasicAuth()
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			return store.Account{}, false
		}
		acct, err := st.AccountByAddress(r.Context(), user)
		if err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return store.Account{}, false
		}
		return acct, true
	}
	e.http = httptest.NewServer(e.srv.Handler(auth))
	t.Cleanup(e.http.Close)
	e.client = e.http.Client()
	return e
}

var allCaps = []string{CapCore, CapMail, CapSubmit, CapVacation, CapLabels, CapSettings, CapHeld}

// open sends a request to path as acct (Basic auth), with a
// Content-Type when contentType is not empty; the caller closes the body.
func (e *testEnv) open(acct store.Account, method, path string, body io.Reader, contentType string) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.http.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.SetBasicAuth(acct.Address, "x")
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}

// send is open, returning the whole body read.
func (e *testEnv) send(acct store.Account, method, path string, body io.Reader, contentType string) (*http.Response, []byte) {
	e.t.Helper()
	resp := e.open(acct, method, path, body, contentType)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// post sends a raw API request body as acct.
func (e *testEnv) post(acct store.Account, body []byte) (*http.Response, []byte) {
	e.t.Helper()
	return e.send(acct, "POST", "/jmap/api", bytes.NewReader(body), "application/json")
}

// inv is one method call of a test request.
type inv struct {
	name string
	args map[string]any
}

// resp is a decoded method response.
type resp struct {
	Name   string
	Args   map[string]any
	CallID string
}

// call runs method calls as acct (calls get ids c0, c1, ...) and returns
// the responses.
func (e *testEnv) call(acct store.Account, calls ...inv) []resp {
	e.t.Helper()
	var mc []any
	for i, c := range calls {
		if c.args == nil {
			c.args = map[string]any{}
		}
		if _, ok := c.args["accountId"]; !ok {
			c.args["accountId"] = accountIDString(acct.ID)
		}
		mc = append(mc, []any{c.name, c.args, "c" + string(rune('0'+i))})
	}
	body, _ := json.Marshal(map[string]any{"using": allCaps, "methodCalls": mc})
	r, b := e.post(acct, body)
	if r.StatusCode != 200 {
		e.t.Fatalf("status %d: %s", r.StatusCode, b)
	}
	var out struct {
		MethodResponses [][]json.RawMessage `json:"methodResponses"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		e.t.Fatalf("response %s: %v", b, err)
	}
	var res []resp
	for _, mr := range out.MethodResponses {
		var x resp
		json.Unmarshal(mr[0], &x.Name)
		json.Unmarshal(mr[1], &x.Args)
		json.Unmarshal(mr[2], &x.CallID)
		res = append(res, x)
	}
	return res
}

// call1 runs one call and fails unless it answered with its own name.
func (e *testEnv) call1(acct store.Account, name string, args map[string]any) map[string]any {
	e.t.Helper()
	r := e.call(acct, inv{name, args})
	if len(r) == 0 || r[0].Name != name {
		e.t.Fatalf("%s: %+v", name, r)
	}
	return r[0].Args
}

// callErr runs one call and returns the error type it answered with.
func (e *testEnv) callErr(acct store.Account, name string, args map[string]any) string {
	e.t.Helper()
	r := e.call(acct, inv{name, args})
	if len(r) == 0 || r[0].Name != "error" {
		e.t.Fatalf("%s: want an error, got %+v", name, r)
	}
	typ, _ := r[0].Args["type"].(string)
	return typ
}

// deliver stores a raw message for acct in the named mailbox.
func (e *testEnv) deliver(acct store.Account, mailbox string, raw string, keywords ...string) store.MessageID {
	e.t.Helper()
	ctx := context.Background()
	data := []byte(strings.ReplaceAll(raw, "\n", "\r\n"))
	id, size, err := e.blobs.Put(ctx, bytes.NewReader(data))
	if err != nil {
		e.t.Fatal(err)
	}
	env, preview, att := message.Summarize(data)
	d, err := e.st.Deliver(ctx, store.Delivery{
		Message: store.NewMessage{BlobID: id, Size: size, ReceivedAt: e.clock.now(), Envelope: env,
			Preview: preview, HasAttachment: att, Keywords: keywords},
		Targets: []store.DeliveryTarget{{Account: acct.ID, Mailbox: mailbox}},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.clock.advance(time.Second)
	return d[0].Message
}

func (e *testEnv) mailboxID(acct store.Account, name string) store.MailboxID {
	e.t.Helper()
	m, err := e.st.MailboxByName(context.Background(), acct.ID, name)
	if err != nil {
		e.t.Fatal(err)
	}
	return m.ID
}

// list returns a /get response's list.
func list(args map[string]any) []map[string]any {
	var out []map[string]any
	for _, x := range args["list"].([]any) {
		out = append(out, x.(map[string]any))
	}
	return out
}

func strs(v any) []string {
	var out []string
	a, _ := v.([]any)
	for _, x := range a {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

var errNope = errors.New("nope")

// get fetches a path as acct.
func (e *testEnv) get(acct store.Account, path string) ([]byte, int) {
	e.t.Helper()
	resp, b := e.send(acct, "GET", path, nil, "")
	return b, resp.StatusCode
}
