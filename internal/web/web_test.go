package web

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"freehold/internal/auth"
	"freehold/internal/blob/memblob"
	"freehold/internal/store"
	"freehold/internal/store/sqlite"
)

type env struct {
	t     *testing.T
	srv   *Server
	http  *httptest.Server
	st    interface{ Close() error }
	now   time.Time
	mu    sync.Mutex
	alice store.Account
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
}

func newEnv(t *testing.T) *env {
	ctx := context.Background()
	st, err := sqlite.OpenStore(ctx, filepath.Join(t.TempDir(), "db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	st.AddDomain(ctx, "example.org")
	hash, _ := auth.Hash("correct horse", auth.Params{Memory: 64, Time: 1, Threads: 1})
	alice, err := st.CreateAccount(ctx, store.NewAccount{Address: "alice@example.org", PasswordHash: hash})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, st: st, now: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC), alice: alice}
	spa := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "spa") })
	e.srv = New(Options{Store: st, Blobs: memblob.New(), Auth: auth.NewAuthenticator(st),
		SPA: spa, Clock: e.clock, Hostname: "mail.example.org"})
	e.http = httptest.NewServer(e.srv)
	t.Cleanup(e.http.Close)
	return e
}

// browser is a client with a cookie jar.
func (e *env) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (e *env) do(c *http.Client, method, path, body string, hdr map[string]string) (*http.Response, string) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.http.URL+path, strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var spaHeaders = map[string]string{"Content-Type": "application/json", "X-Freehold": "1"}

const sessionReq = `{"using":["urn:ietf:params:jmap:core","urn:ietf:params:jmap:mail"],"methodCalls":[["Mailbox/get",{"accountId":"A1","ids":null,"properties":["name"]},"0"]]}`

func TestLoginCookieFlow(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	// Not logged in: 401 without a Basic challenge for the webmail.
	resp, _ := e.do(b, "POST", "/jmap/api", sessionReq, spaHeaders)
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != "" {
		t.Errorf("anonymous: %d %v", resp.StatusCode, resp.Header)
	}
	resp, _ = e.do(b, "POST", "/login", `{"username":"alice@example.org","password":"wrong"}`, spaHeaders)
	if resp.StatusCode != 401 {
		t.Errorf("wrong password: %d", resp.StatusCode)
	}
	resp, body := e.do(b, "POST", "/login", `{"username":"Alice@Example.org","password":"correct horse"}`, spaHeaders)
	if resp.StatusCode != 200 || !strings.Contains(body, `"accountId":"A1"`) {
		t.Fatalf("login: %d %s", resp.StatusCode, body)
	}
	var c *http.Cookie
	for _, x := range resp.Cookies() {
		c = x
	}
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || len(c.Value) < 40 {
		t.Fatalf("cookie: %+v", c)
	}
	resp, body = e.do(b, "POST", "/jmap/api", sessionReq, spaHeaders)
	if resp.StatusCode != 200 || !strings.Contains(body, "INBOX") {
		t.Fatalf("api with cookie: %d %s", resp.StatusCode, body)
	}
	for _, p := range []string{"/jmap/session", "/.well-known/jmap"} {
		resp, body = e.do(b, "GET", p, "", map[string]string{"Sec-Fetch-Site": "same-origin"})
		if resp.StatusCode != 200 || !strings.Contains(body, "urn:ietf:params:jmap:core") {
			t.Errorf("session at %s: %d %s", p, resp.StatusCode, body)
		}
	}
	// Cross-site protection.
	resp, _ = e.do(b, "POST", "/jmap/api", sessionReq, map[string]string{"Content-Type": "application/json"})
	if resp.StatusCode != 403 {
		t.Errorf("POST without X-Freehold: %d", resp.StatusCode)
	}
	resp, _ = e.do(b, "POST", "/jmap/api", sessionReq, map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"})
	if resp.StatusCode != 403 {
		t.Errorf("cross-site POST: %d", resp.StatusCode)
	}
	resp, _ = e.do(b, "POST", "/jmap/api", sessionReq, map[string]string{"Content-Type": "application/json", "Origin": "https://evil.example"})
	if resp.StatusCode != 403 {
		t.Errorf("foreign Origin: %d", resp.StatusCode)
	}
	resp, _ = e.do(b, "POST", "/jmap/api", sessionReq, map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "same-origin"})
	if resp.StatusCode != 200 {
		t.Errorf("same-origin POST without header: %d", resp.StatusCode)
	}
	resp, _ = e.do(b, "GET", "/jmap/eventsource?types=*&closeafter=state&ping=0", "", map[string]string{"Sec-Fetch-Site": "cross-site"})
	if resp.StatusCode != 403 {
		t.Errorf("cross-site eventsource: %d", resp.StatusCode)
	}
	resp, _ = e.do(b, "POST", "/login", `{"username":"alice@example.org","password":"correct horse"}`,
		map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"})
	if resp.StatusCode != 403 {
		t.Errorf("cross-site login: %d", resp.StatusCode)
	}
	// Logout ends the session in the store.
	resp, _ = e.do(b, "POST", "/logout", "", map[string]string{"X-Freehold": "1"})
	if resp.StatusCode != 204 {
		t.Errorf("logout: %d", resp.StatusCode)
	}
	if _, err := e.srv.o.Store.WebSession(context.Background(), tokenHash(c.Value)); err == nil {
		t.Errorf("session still stored after logout")
	}
	stale := &http.Client{}
	resp, _ = e.do(stale, "POST", "/jmap/api", sessionReq, map[string]string{"Content-Type": "application/json", "X-Freehold": "1",
		"Cookie": c.Name + "=" + c.Value})
	if resp.StatusCode != 401 {
		t.Errorf("old cookie after logout: %d", resp.StatusCode)
	}
}

func TestSessionExpiry(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	if resp, _ := e.do(b, "POST", "/login", `{"username":"alice@example.org","password":"correct horse"}`, spaHeaders); resp.StatusCode != 200 {
		t.Fatal(resp.StatusCode)
	}
	e.advance(8 * 24 * time.Hour) // past half the lifetime: renewed
	if resp, _ := e.do(b, "POST", "/jmap/api", sessionReq, spaHeaders); resp.StatusCode != 200 {
		t.Errorf("renewing use: %d", resp.StatusCode)
	}
	e.advance(10 * 24 * time.Hour) // within the renewed lifetime
	if resp, _ := e.do(b, "POST", "/jmap/api", sessionReq, spaHeaders); resp.StatusCode != 200 {
		t.Errorf("after renewal: %d", resp.StatusCode)
	}
	e.advance(15 * 24 * time.Hour)
	if resp, _ := e.do(b, "POST", "/jmap/api", sessionReq, spaHeaders); resp.StatusCode != 401 {
		t.Errorf("expired session: %d", resp.StatusCode)
	}
}

func TestBasicBearerAndForm(t *testing.T) {
	e := newEnv(t)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	basic := func(user, pass string) map[string]string {
		return map[string]string{"Content-Type": "application/json",
			"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))}
	}
	resp, body := e.do(c, "POST", "/jmap/api", sessionReq, basic("alice@example.org", "correct horse"))
	if resp.StatusCode != 200 {
		t.Fatalf("basic: %d %s", resp.StatusCode, body)
	}
	resp, _ = e.do(c, "POST", "/jmap/api", sessionReq, basic("alice@example.org", "nope"))
	if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") {
		t.Errorf("bad basic: %d %v", resp.StatusCode, resp.Header)
	}
	_, body = e.do(c, "POST", "/login", `{"username":"alice@example.org","password":"correct horse","bearer":true}`, spaHeaders)
	var lr map[string]string
	json.Unmarshal([]byte(body), &lr)
	if lr["token"] == "" {
		t.Fatalf("bearer login: %s", body)
	}
	resp, body = e.do(c, "POST", "/jmap/api", sessionReq, map[string]string{"Content-Type": "application/json",
		"Authorization": "Bearer " + lr["token"]})
	if resp.StatusCode != 200 {
		t.Errorf("bearer: %d %s", resp.StatusCode, body)
	}
	form := url.Values{"username": {"alice@example.org"}, "password": {"correct horse"}}.Encode()
	resp, _ = e.do(c, "POST", "/login", form, map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": e.http.URL})
	if resp.StatusCode != 303 || len(resp.Cookies()) != 1 {
		t.Errorf("form login: %d %v", resp.StatusCode, resp.Cookies())
	}
}

func TestRoutes(t *testing.T) {
	e := newEnv(t)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, _ := e.do(c, "GET", "/.well-known/jmap", "", nil)
	if resp.StatusCode != 401 {
		t.Errorf("anonymous well-known: %d %v", resp.StatusCode, resp.Header)
	}
	if resp, body := e.do(c, "GET", "/healthz", "", nil); resp.StatusCode != 200 || body != "ok\n" {
		t.Errorf("healthz: %d %q", resp.StatusCode, body)
	}
	if resp, _ := e.do(c, "GET", "/readyz", "", nil); resp.StatusCode != 200 {
		t.Errorf("readyz: %d", resp.StatusCode)
	}
	if resp, body := e.do(c, "GET", "/inbox/123", "", nil); resp.StatusCode != 200 || body != "spa" {
		t.Errorf("spa: %d %q", resp.StatusCode, body)
	}
	if resp, _ := e.do(c, "GET", "/jmap/session", "", nil); resp.StatusCode != 401 {
		t.Errorf("anonymous session: %d", resp.StatusCode)
	}
	e.st.Close()
	if resp, _ := e.do(c, "GET", "/readyz", "", nil); resp.StatusCode != 503 {
		t.Errorf("readyz with the store closed: %d", resp.StatusCode)
	}
}
