package imapserver

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"freehold/internal/auth"
	"freehold/internal/blob"
	"freehold/internal/blob/memblob"
	"freehold/internal/message"
	"freehold/internal/store"
	"freehold/internal/store/sqlite"
	"freehold/internal/tlsutil"
)

// testEnv is a server on a loopback port over a fresh store.
type testEnv struct {
	t     testing.TB
	st    store.Store
	blobs blob.Store
	srv   *Server
	addr  string
	tls   *tls.Config // client config trusting the server
	cert  []byte      // the server's certificate, PEM
}

const testPassword = "correct horse battery staple"

// fastParams keep argon2id cheap in tests.
var fastParams = auth.Params{Memory: 64, Time: 1, Threads: 1}

// newTestEnv starts a server; mods are func(*Options), applied before New,
// or func(*Server), applied before Serve.
func newTestEnv(t testing.TB, mods ...any) *testEnv {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir()+"/store.db", sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.AddDomain(ctx, "example.org"); err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := tlsutil.SelfSigned([]string{"localhost", "127.0.0.1"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{t: t, st: st, blobs: memblob.New(), cert: certPEM}
	opts := Options{
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}},
		Store:     st,
		Blobs:     e.blobs,
		Auth:      auth.NewAuthenticator(st),
		Hostname:  "imap.example.org",
	}
	for _, m := range mods {
		if f, ok := m.(func(*Options)); ok {
			f(&opts)
		}
	}
	e.srv = New(opts)
	for _, m := range mods {
		if f, ok := m.(func(*Server)); ok {
			f(e.srv)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.addr = ln.Addr().String()
	go e.srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		e.srv.Shutdown(ctx)
	})
	e.tls = &tls.Config{InsecureSkipVerify: true}
	return e
}

// addUser creates an account with testPassword.
func (e *testEnv) addUser(addr string) store.Account {
	e.t.Helper()
	h, err := auth.Hash(testPassword, fastParams)
	if err != nil {
		e.t.Fatal(err)
	}
	a, err := e.st.CreateAccount(context.Background(), store.NewAccount{Address: addr, PasswordHash: h})
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// appendMsg stores a message in a mailbox directly through the store.
func (e *testEnv) appendMsg(a store.Account, mailbox, raw string, kws ...string) store.MailboxEntry {
	e.t.Helper()
	ctx := context.Background()
	mb, err := e.st.MailboxByName(ctx, a.ID, mailbox)
	if err != nil {
		e.t.Fatal(err)
	}
	id, size, err := e.blobs.Put(ctx, strings.NewReader(raw))
	if err != nil {
		e.t.Fatal(err)
	}
	env, preview, att := message.Summarize([]byte(raw))
	ent, err := e.st.Append(ctx, a.ID, mb.ID, store.NewMessage{
		BlobID: id, Size: size, ReceivedAt: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC),
		Envelope: env, Preview: preview, HasAttachment: att, Keywords: kws,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return ent
}

// testMessage builds a small RFC 5322 message.
func testMessage(n int, subject string) string {
	return fmt.Sprintf("From: Alice <alice@example.org>\r\nTo: bob@example.org\r\nSubject: %s\r\n"+
		"Date: Fri, 1 Mar 2024 12:%02d:00 +0000\r\nMessage-ID: <m%d@example.org>\r\n\r\nHello number %d.\r\n",
		subject, n%60, n, n)
}

// tclient speaks raw IMAP for transcript-style tests.
type tclient struct {
	t    testing.TB
	nc   net.Conn
	r    *bufio.Reader
	tagN int
}

func (e *testEnv) dial() *tclient {
	e.t.Helper()
	nc, err := net.Dial("tcp", e.addr)
	if err != nil {
		e.t.Fatal(err)
	}
	c := &tclient{t: e.t, nc: nc, r: bufio.NewReader(nc)}
	e.t.Cleanup(func() { nc.Close() })
	greet := c.line()
	if !strings.HasPrefix(greet, "* OK") {
		e.t.Fatalf("greeting: %q", greet)
	}
	return c
}

// login dials and logs in as addr.
func (e *testEnv) login(addr string) *tclient {
	c := e.dial()
	c.ok("LOGIN %s %q", addr, testPassword)
	return c
}

// line reads one response line, with any literals it carries inlined.
func (c *tclient) line() string {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	var sb strings.Builder
	for {
		s, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("read: %v (after %q)", err, sb.String()+s)
		}
		s = strings.TrimSuffix(s, "\r\n")
		sb.WriteString(s)
		n, ok := trailingLiteral(s)
		if !ok {
			return sb.String()
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(c.r, buf); err != nil {
			c.t.Fatalf("read literal: %v", err)
		}
		sb.WriteString("\r\n")
		sb.Write(buf)
	}
}

func trailingLiteral(s string) (int, bool) {
	if !strings.HasSuffix(s, "}") {
		return 0, false
	}
	i := strings.LastIndexByte(s, '{')
	if i < 0 {
		return 0, false
	}
	n, err := strconv.Atoi(s[i+1 : len(s)-1])
	return n, err == nil
}

// send writes a raw line (CRLF added).
func (c *tclient) send(format string, args ...any) {
	c.t.Helper()
	if _, err := fmt.Fprintf(c.nc, format+"\r\n", args...); err != nil {
		c.t.Fatal(err)
	}
}

// cmd sends a tagged command and returns the untagged lines and the
// tagged completion.
func (c *tclient) cmd(format string, args ...any) ([]string, string) {
	c.t.Helper()
	c.tagN++
	tag := fmt.Sprintf("t%d", c.tagN)
	c.send(tag+" "+format, args...)
	return c.until(tag)
}

// until reads lines until the one tagged tag.
func (c *tclient) until(tag string) ([]string, string) {
	c.t.Helper()
	var lines []string
	for {
		l := c.line()
		if strings.HasPrefix(l, tag+" ") {
			return lines, strings.TrimPrefix(l, tag+" ")
		}
		lines = append(lines, l)
	}
}

// ok runs a command that must succeed and returns its untagged lines.
func (c *tclient) ok(format string, args ...any) []string {
	c.t.Helper()
	lines, done := c.cmd(format, args...)
	if !strings.HasPrefix(done, "OK") {
		c.t.Fatalf("%s: got %q (untagged %q)", fmt.Sprintf(format, args...), done, lines)
	}
	return lines
}

// fails runs a command that must end with the given status (NO or BAD).
func (c *tclient) fails(status, format string, args ...any) string {
	c.t.Helper()
	lines, done := c.cmd(format, args...)
	if !strings.HasPrefix(done, status+" ") {
		c.t.Fatalf("%s: want %s, got %q (untagged %q)", fmt.Sprintf(format, args...), status, done, lines)
	}
	return done
}

// has reports whether some line contains all the substrings.
func has(lines []string, subs ...string) bool {
	for _, l := range lines {
		all := true
		for _, s := range subs {
			if !strings.Contains(l, s) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

func mustHave(t testing.TB, lines []string, subs ...string) {
	t.Helper()
	if !has(lines, subs...) {
		t.Fatalf("no line with %q in:\n%s", subs, strings.Join(lines, "\n"))
	}
}

func (e *testEnv) mustAccount(addr string) store.Account {
	e.t.Helper()
	a, err := e.st.AccountByAddress(context.Background(), addr)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}
