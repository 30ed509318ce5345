package queue_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"freehold/internal/blob"
	"freehold/internal/dnsutil"
	"freehold/internal/maillog"
	"freehold/internal/queue"
	"freehold/internal/smtpclient"
	"freehold/internal/smtpclient/smtptest"
	"freehold/internal/store"
	"freehold/internal/store/sqlite"
	"freehold/internal/store/sqlstore"
	"freehold/internal/testutil/dnstest"
)

// dirBlobs is a blob store in a directory, shared by processes (the crash
// test runs a runner in a child process).
type dirBlobs struct{ dir string }

func (d dirBlobs) Put(_ context.Context, r io.Reader) (blob.ID, int64, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return "", 0, err
	}
	id := blob.Sum(b)
	return id, int64(len(b)), os.WriteFile(filepath.Join(d.dir, id), b, 0o600)
}

func (d dirBlobs) Open(_ context.Context, id blob.ID) (io.ReadCloser, error) {
	f, err := os.Open(filepath.Join(d.dir, id))
	if os.IsNotExist(err) {
		return nil, blob.ErrNotFound
	}
	return f, err
}

func (d dirBlobs) Delete(_ context.Context, id blob.ID) error {
	return os.Remove(filepath.Join(d.dir, id))
}

// syncBuffer is a concurrency-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// localSink records local deliveries (DSNs to local senders).
type localSink struct {
	mu   sync.Mutex
	msgs []queue.LocalMessage
	got  chan struct{}
}

func (l *localSink) Handles(_ context.Context, domain string) bool { return domain == "freehold.test" }

func (l *localSink) DeliverLocal(_ context.Context, m queue.LocalMessage) []error {
	l.mu.Lock()
	l.msgs = append(l.msgs, m)
	l.mu.Unlock()
	select {
	case l.got <- struct{}{}:
	default:
	}
	return make([]error, len(m.Rcpts))
}

func (l *localSink) wait(t *testing.T, n int, d time.Duration) []queue.LocalMessage {
	t.Helper()
	deadline := time.After(d)
	for {
		l.mu.Lock()
		msgs := append([]queue.LocalMessage(nil), l.msgs...)
		l.mu.Unlock()
		if len(msgs) >= n {
			return msgs
		}
		select {
		case <-l.got:
		case <-deadline:
			t.Fatalf("got %d local deliveries, want %d", len(msgs), n)
		}
	}
}

type qenv struct {
	t      *testing.T
	dir    string
	st     *sqlstore.Store
	blobs  dirBlobs
	dns    *dnstest.Server
	net    *smtptest.Net
	local  *localSink
	events *syncBuffer
	opts   queue.Options
	copts  smtpclient.Options
}

func newQEnv(t *testing.T) *qenv {
	t.Helper()
	e := &qenv{t: t, dir: t.TempDir(), dns: dnstest.New(t), net: smtptest.NewNet(),
		local: &localSink{got: make(chan struct{}, 16)}, events: &syncBuffer{}}
	e.blobs = dirBlobs{dir: filepath.Join(e.dir, "blobs")}
	os.Mkdir(e.blobs.dir, 0o700)
	e.open()
	res, err := dnsutil.New(dnsutil.Options{Server: e.dns.Addr, Timeout: 300 * time.Millisecond, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	e.copts = smtpclient.Options{Resolver: res, Hostname: "out.freehold.test", Dial: e.net.Dial,
		Timeouts: smtpclient.Timeouts{Connect: time.Second, Command: time.Second, DataBlock: time.Second, DataEnd: time.Second}}
	e.opts = queue.Options{
		Blobs: e.blobs, Local: e.local, Hostname: "out.freehold.test",
		Backoff: []time.Duration{50 * time.Millisecond}, Lease: 5 * time.Second, Poll: 200 * time.Millisecond,
		MailLog: maillog.New(slog.New(slog.NewJSONHandler(e.events, nil))),
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	return e
}

func (e *qenv) open() {
	st, err := sqlite.OpenStore(context.Background(), filepath.Join(e.dir, "db.sqlite"), sqlite.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	e.st = st
	e.t.Cleanup(func() { st.Close() })
}

// start runs a runner until the test ends (or stop is called).
func (e *qenv) start() (r *queue.Runner, stop func()) {
	opts := e.opts
	opts.Store = e.st
	opts.Client = smtpclient.New(e.copts)
	r = queue.New(opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		r.Run(ctx)
		close(done)
	}()
	stop = func() {
		cancel()
		<-done
	}
	e.t.Cleanup(stop)
	return r, sync.OnceFunc(stop)
}

// mx publishes a domain whose MX is served at addr.
func (e *qenv) mx(domain, ip, addr string) {
	e.dns.Add(domain+". 300 IN MX 10 mx."+domain+".", "mx."+domain+". 300 IN A "+ip)
	e.net.Route(ip, addr)
}

const testMsg = "From: Alice <alice@freehold.test>\r\nTo: b@example.net\r\nSubject: test\r\nMessage-ID: <m1@freehold.test>\r\n\r\nHello.\r\n"

// enqueue stores the message blob and queues it.
func (e *qenv) enqueue(m store.OutboundMessage, raw string) store.QueueID {
	e.t.Helper()
	id, size, err := e.blobs.Put(context.Background(), strings.NewReader(raw))
	if err != nil {
		e.t.Fatal(err)
	}
	m.BlobID, m.Size = id, size
	if m.Created.IsZero() {
		m.Created = time.Now()
	}
	qid, err := e.st.Enqueue(context.Background(), m)
	if err != nil {
		e.t.Fatal(err)
	}
	return qid
}

func rcpts(addrs ...string) []store.OutboundRecipient {
	var out []store.OutboundRecipient
	for _, a := range addrs {
		out = append(out, store.OutboundRecipient{Address: a})
	}
	return out
}

// waitEmpty waits until the queue holds nothing (held messages aside).
func (e *qenv) waitEmpty(d time.Duration) {
	e.t.Helper()
	deadline := time.Now().Add(d)
	for {
		list, err := e.st.QueueList(context.Background())
		if err != nil {
			e.t.Fatal(err)
		}
		if len(list) == 0 {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("queue not empty: %+v", list)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// dropInDataThenProxy starts a peer whose first session answers DATA with
// 354 and hands the connection to inData, which ends the session by
// returning; later sessions are proxied to good, a well-behaved server.
func dropInDataThenProxy(t *testing.T, good *smtptest.Server, inData func(c net.Conn)) string {
	var sessions atomic.Int32
	return smtptest.Raw(t, func(c net.Conn) {
		if sessions.Add(1) == 1 {
			smtptest.Script(nil, func(c net.Conn, cmd string) bool {
				if cmd == "DATA" {
					io.WriteString(c, "354 go on\r\n")
					inData(c)
					return true
				}
				return false
			})(c)
			return
		}
		up, err := net.Dial("tcp", good.Addr)
		if err != nil {
			return
		}
		defer up.Close()
		go io.Copy(up, c)
		io.Copy(c, up)
	})
}
