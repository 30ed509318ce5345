package smtpserver

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"freehold/internal/auth"
	"freehold/internal/blob"
	"freehold/internal/blob/memblob"
	"freehold/internal/delivery"
	"freehold/internal/maillog"
	"freehold/internal/store"
)

// testCert returns a server TLS config with a fresh self-signed
// certificate for mx.test and 127.0.0.1, and a client config trusting it.
func testCert(t testing.TB) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mx.test"},
		DNSNames:              []string{"mx.test", "localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}}}
	client = &tls.Config{RootCAs: pool, ServerName: "mx.test"}
	return server, client
}

// memBackend is an in-memory directory, mail store and blob store. It
// runs the real delivery.Resolver and delivery.Deliverer, so these tests
// exercise the whole pipeline except SQL; store_test.go repeats the key
// scenarios on SQLite and the fs blob store.
type memBackend struct {
	*memblob.Store
	mu        sync.Mutex
	domains   map[string]bool
	accounts  map[string]store.Account
	aliases   map[string][]string
	usage     map[store.AccountID]int64
	delivered []store.Delivery
	queued    []store.OutboundMessage
	deliverFn func(store.Delivery) error // optional hook, called before storing
}

func newMemBackend() *memBackend {
	return &memBackend{domains: map[string]bool{}, accounts: map[string]store.Account{},
		aliases: map[string][]string{}, usage: map[store.AccountID]int64{}, Store: memblob.New()}
}

func (m *memBackend) addAccount(addr, password string, quota int64) store.Account {
	m.mu.Lock()
	defer m.mu.Unlock()
	hash, err := auth.Hash(password, auth.Params{Memory: 64, Time: 1, Threads: 1})
	if err != nil {
		panic(err)
	}
	a := store.Account{ID: store.AccountID(len(m.accounts) + 1), Address: addr, PasswordHash: hash, QuotaBytes: quota}
	m.accounts[addr] = a
	return a
}

func (m *memBackend) HasDomain(_ context.Context, n string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.domains[n], nil
}

func (m *memBackend) AccountByAddress(_ context.Context, a string) (store.Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if acct, ok := m.accounts[a]; ok {
		return acct, nil
	}
	return store.Account{}, store.ErrNotFound
}

func (m *memBackend) Alias(_ context.Context, a string) (store.Alias, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t, ok := m.aliases[a]; ok {
		return store.Alias{Address: a, Targets: t}, nil
	}
	return store.Alias{}, store.ErrNotFound
}

func (m *memBackend) Aliases(context.Context) ([]store.Alias, error) { return nil, nil }

func (m *memBackend) AccountUsage(_ context.Context, id store.AccountID) (store.AccountUsage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, a := range m.accounts {
		if a.ID == id {
			return store.AccountUsage{Account: a, Bytes: m.usage[id]}, nil
		}
	}
	return store.AccountUsage{}, store.ErrNotFound
}

func (m *memBackend) Deliver(ctx context.Context, d store.Delivery) ([]store.Delivered, error) {
	if m.deliverFn != nil {
		if err := m.deliverFn(d); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.delivered = append(m.delivered, d)
	var out []store.Delivered
	for _, t := range d.Targets {
		m.usage[t.Account] += d.Message.Size
		out = append(out, store.Delivered{Account: t.Account, UID: store.UID(len(m.delivered))})
	}
	if d.Outbound != nil {
		m.queued = append(m.queued, *d.Outbound)
	}
	return out, nil
}

func (m *memBackend) Enqueue(_ context.Context, o store.OutboundMessage) (store.QueueID, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.queued = append(m.queued, o)
	return store.QueueID(len(m.queued)), nil
}

// snapshot returns a copy of what was delivered and queued.
func (m *memBackend) snapshot() ([]store.Delivery, []store.OutboundMessage) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]store.Delivery(nil), m.delivered...), append([]store.OutboundMessage(nil), m.queued...)
}

func (m *memBackend) blob(id string) string {
	b, err := blob.ReadAll(context.Background(), m.Store, id)
	if err != nil {
		return ""
	}
	return string(b)
}

// logBuffer collects JSON log lines from several goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// events returns the parsed log lines whose msg is one of names (all when
// names is empty).
func (l *logBuffer) events(names ...string) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(l.b.String(), "\n") {
		if line == "" {
			continue
		}
		m := map[string]any{}
		if json.Unmarshal([]byte(line), &m) != nil {
			continue
		}
		if len(names) == 0 {
			out = append(out, m)
			continue
		}
		for _, n := range names {
			if m["msg"] == n {
				out = append(out, m)
			}
		}
	}
	return out
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// testServer is a running server with its backend and logs.
type testServer struct {
	*Server
	addr      string
	be        *memBackend
	log       *logBuffer // debug log
	mlog      *logBuffer // mail-event log
	clientTLS *tls.Config
}

// standardBackend has example.org and example.net, accounts alice and
// bob, an alias and a catch-all.
func standardBackend() *memBackend {
	be := newMemBackend()
	be.domains["example.org"] = true
	be.domains["example.net"] = true
	be.addAccount("alice@example.org", "alice-pw", 0)
	be.addAccount("bob@example.org", "bob-pw", 0)
	be.addAccount("postmaster@example.org", "pm-pw", 0)
	be.aliases["team@example.org"] = []string{"alice@example.org", "bob@example.org"}
	be.aliases["sales@example.org"] = []string{"alice@example.org"}
	be.aliases["@example.net"] = []string{"bob@example.org"}
	return be
}

// newTestServer builds a server over be with o's settings (Resolver,
// Deliverer, Authenticator, loggers and TLS are filled in) without
// starting it.
func newTestServer(t testing.TB, be *memBackend, o Options) *testServer {
	t.Helper()
	ts := &testServer{be: be, log: &logBuffer{}, mlog: &logBuffer{}}
	var serverTLS *tls.Config
	serverTLS, ts.clientTLS = testCert(t)
	if o.Mode == 0 {
		o.Mode = ModeMX
	}
	if o.Hostname == "" {
		o.Hostname = "mx.test"
	}
	if o.TLSConfig == nil {
		o.TLSConfig = serverTLS
	}
	if o.Resolver == nil {
		o.Resolver = delivery.NewResolver(be, delivery.ResolverOptions{})
	}
	if o.Deliverer == nil {
		d, err := delivery.NewDeliverer(delivery.DelivererOptions{Target: be, Blobs: be, Hostname: o.Hostname})
		if err != nil {
			t.Fatal(err)
		}
		o.Deliverer = d
	}
	if o.Authenticator == nil {
		o.Authenticator = auth.NewAuthenticator(authDir{be})
	}
	if o.Postmaster == "" {
		o.Postmaster = "postmaster@example.org"
	}
	o.Logger = slog.New(slog.NewJSONHandler(ts.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	o.MailLog = maillog.New(slog.New(slog.NewJSONHandler(ts.mlog, nil)))
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ts.Server = s
	return ts
}

// startServer starts a test server on 127.0.0.1:0 and shuts it down at
// the end of the test.
func startServer(t testing.TB, be *memBackend, o Options) *testServer {
	t.Helper()
	ts := newTestServer(t, be, o)
	s := ts.Server
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = ln.Addr().String()
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		if err := <-served; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
		if t.Failed() {
			t.Logf("server log:\n%s\nmail log:\n%s", ts.log, ts.mlog)
		}
	})
	return ts
}

// pipeSession runs one session of ts over an in-memory pipe and returns
// the client end; the session ends when the client end is closed.
func pipeSession(ts *testServer) (client net.Conn, done <-chan struct{}) {
	cs, ss := net.Pipe()
	c := newConn(ts.Server, ss, "pipe")
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		c.serve()
	}()
	return cs, ch
}

// authDir adapts memBackend to the full store.Directory the
// Authenticator takes; only AccountByAddress is used.
type authDir struct{ *memBackend }

func (authDir) AddDomain(context.Context, string) error         { return nil }
func (authDir) RemoveDomain(context.Context, string) error      { return nil }
func (authDir) Domains(context.Context) ([]store.Domain, error) { return nil, nil }
func (authDir) CreateAccount(context.Context, store.NewAccount) (store.Account, error) {
	return store.Account{}, errors.New("not supported")
}
func (authDir) Account(context.Context, store.AccountID) (store.Account, error) {
	return store.Account{}, store.ErrNotFound
}
func (authDir) Accounts(context.Context) ([]store.AccountUsage, error)     { return nil, nil }
func (authDir) SetPassword(context.Context, store.AccountID, string) error { return nil }
func (authDir) SetQuota(context.Context, store.AccountID, int64) error     { return nil }
func (authDir) DeleteAccount(context.Context, store.AccountID) error       { return nil }
func (authDir) SetAlias(context.Context, store.Alias) error                { return nil }
func (authDir) RemoveAlias(context.Context, string) error                  { return nil }

// ehloMX is the EHLO reply of an MX with default options before
// STARTTLS, as transcript lines for dialog.run.
const ehloMX = `
		s: 250-mx.test
		s: 250-PIPELINING
		s: 250-SIZE
		s: 250-8BITMIME
		s: 250-SMTPUTF8
		s: 250-ENHANCEDSTATUSCODES
		s: 250-CHUNKING
		s: 250-LIMITS
		s: 250-DSN
		s: 250 STARTTLS
`

// ehloSubmission is the EHLO reply of a submission server with default
// options before STARTTLS, as transcript lines.
const ehloSubmission = `
		s: 250-mx.test
		s: 250-PIPELINING
		s: 250-SIZE
		s: 250-8BITMIME
		s: 250-SMTPUTF8
		s: 250-ENHANCEDSTATUSCODES
		s: 250-CHUNKING
		s: 250-LIMITS
		s: 250-DSN
		s: 250-FUTURERELEASE 2592000
		s: 250 STARTTLS
`

// ehloSubmissionTLS is the EHLO reply of a submission server with
// default options once TLS is active, as transcript lines.
const ehloSubmissionTLS = `
		s: 250-mx.test
		s: 250-PIPELINING
		s: 250-SIZE
		s: 250-8BITMIME
		s: 250-SMTPUTF8
		s: 250-ENHANCEDSTATUSCODES
		s: 250-CHUNKING
		s: 250-LIMITS
		s: 250-DSN
		s: 250-FUTURERELEASE 2592000
		s: 250 AUTH PLAIN LOGIN
`

// dialog drives a connection from a transcript.
type dialog struct {
	t         testing.TB
	c         net.Conn
	r         *bufio.Reader
	clientTLS *tls.Config
}

func dial(t testing.TB, ts *testServer) *dialog {
	t.Helper()
	c, err := net.DialTimeout("tcp", ts.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	return &dialog{t: t, c: c, r: bufio.NewReader(c), clientTLS: ts.clientTLS}
}

func dialTLS(t testing.TB, ts *testServer) *dialog {
	d := dial(t, ts)
	d.startTLS()
	return d
}

func (d *dialog) startTLS() {
	d.t.Helper()
	tc := tls.Client(d.c, d.clientTLS)
	if err := tc.Handshake(); err != nil {
		d.t.Fatalf("TLS handshake: %v", err)
	}
	d.c, d.r = tc, bufio.NewReader(tc)
}

// run plays a transcript. Lines (leading white space ignored):
//
//	c: TEXT   the client sends TEXT and CRLF
//	c! TEXT   the client sends TEXT as a Go string literal body, as is
//	s: TEXT   the server's next line starts with TEXT
//	starttls  the client starts TLS
//	closed    the server closed the connection
func (d *dialog) run(script string) {
	d.t.Helper()
	for _, line := range strings.Split(script, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case line == "c:":
			d.send("\r\n")
		case strings.HasPrefix(line, "c: "):
			d.send(line[3:] + "\r\n")
		case strings.HasPrefix(line, "c! "):
			s, err := strconv.Unquote(`"` + line[3:] + `"`)
			if err != nil {
				d.t.Fatalf("bad c! line %q: %v", line, err)
			}
			d.send(s)
		case strings.HasPrefix(line, "s: "):
			got := d.readLine()
			if !strings.HasPrefix(got, line[3:]) {
				d.t.Fatalf("expected server line %q, got %q", line[3:], got)
			}
		case line == "starttls":
			d.startTLS()
		case line == "closed":
			if l, err := d.r.ReadString('\n'); err == nil {
				d.t.Fatalf("expected close, got %q", l)
			}
		default:
			d.t.Fatalf("bad transcript line %q", line)
		}
	}
}

func (d *dialog) send(s string) {
	d.t.Helper()
	if _, err := io.WriteString(d.c, s); err != nil {
		d.t.Fatalf("write: %v", err)
	}
}

func (d *dialog) readLine() string {
	d.t.Helper()
	l, err := d.r.ReadString('\n')
	if err != nil {
		d.t.Fatalf("read: %v (got %q)", err, l)
	}
	return strings.TrimRight(l, "\r\n")
}

// readReply reads a whole (possibly multi-line) reply.
func (d *dialog) readReply() string {
	d.t.Helper()
	var lines []string
	for {
		l := d.readLine()
		lines = append(lines, l)
		if len(l) < 4 || l[3] != '-' {
			return strings.Join(lines, "\n")
		}
	}
}

// hello reads the greeting, sends EHLO name and returns the whole EHLO
// reply.
func (d *dialog) hello(name string) string {
	d.t.Helper()
	d.run("s: 220\nc: EHLO " + name)
	return d.readReply()
}

// transaction sends MAIL FROM:<from>, one RCPT TO per recipient and DATA,
// each of which must succeed, then msg dot-stuffed and the end of data.
// It fails the test unless the reply to the end of data starts with want.
func (d *dialog) transaction(from string, rcpts []string, msg, want string) {
	d.t.Helper()
	script := "c: MAIL FROM:<" + from + ">\ns: 250\n"
	for _, r := range rcpts {
		script += "c: RCPT TO:<" + r + ">\ns: 250\n"
	}
	d.run(script + "c: DATA\ns: 354")
	d.send(dotStuffString(msg) + ".\r\n")
	if r := d.readReply(); !strings.HasPrefix(r, want) {
		d.t.Fatalf("end of data: got %q, want %q", r, want)
	}
}

func dotStuffString(s string) string { return string(dotStuff([]byte(s))) }

func dialErr(addr string) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
	}
	return c, err
}
