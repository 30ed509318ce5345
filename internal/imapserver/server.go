// Package imapserver is Freehold's IMAP server: IMAP4rev2 (RFC 9051) and
// IMAP4rev1 (RFC 3501), with IDLE, ENABLE, CONDSTORE and QRESYNC, UIDPLUS,
// MOVE, SPECIAL-USE and CREATE-SPECIAL-USE, LIST-EXTENDED, LIST-STATUS,
// CHILDREN, NAMESPACE, ID, UNSELECT, LITERAL+, ESEARCH, SEARCHRES, SORT,
// THREAD=REFERENCES and ORDEREDSUBJECT, QUOTA, COMPRESS=DEFLATE, BINARY,
// APPENDLIMIT and STATUS=SIZE, over the store and blob interfaces.
//
// Every connection is one goroutine running a state machine (conn) that
// reads a command, runs its handler from the command table and writes the
// replies. A selected session keeps its own view of the mailbox (message
// sequence numbers to UIDs, flags, the ModSeq it last saw) and brings it
// up to date from the store's change log after commands and, while
// idling, when the store announces a change. Other connections' changes
// reach a session only through the store: there is one truth, and every
// session numbers messages consistently for its own client.
//
// Invariants:
//   - a connection's state is touched only by its own goroutine; other
//     goroutines (the idle hub, Shutdown) only set an atomic flag and a
//     read deadline in the past, and the interrupted read runs the
//     wake-up on the connection's goroutine (see wakeReader);
//   - nothing is written to a connection while a store or hub lock is
//     held; the hub's lock guards only its registry;
//   - a connection between commands holds no output buffer (they are
//     pooled), so that idle connections stay small: about 20 KB each over
//     TLS, heap and stack, as measured by bench/imap.
package imapserver

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/flate"

	"freehold/internal/auth"
	"freehold/internal/blob"
	"freehold/internal/store"
)

// Options configures a Server. Store, Blobs and Auth are required.
type Options struct {
	// TLSConfig enables STARTTLS, or is used for every connection with
	// ImplicitTLS (imaps, port 993).
	TLSConfig   *tls.Config
	ImplicitTLS bool
	// AllowInsecureAuth permits LOGIN and AUTHENTICATE without TLS from
	// any address. Without it, plaintext authentication is refused
	// except on loopback connections.
	AllowInsecureAuth bool

	Store  store.Store
	Blobs  blob.Store
	Auth   *auth.Authenticator
	Logger *slog.Logger

	// MaxAppendSize is the APPENDLIMIT (default 64 MiB).
	MaxAppendSize int64
	// MaxLiteral caps literals outside APPEND (default 64 KiB): a
	// synchronising literal over it is refused with BAD, a
	// non-synchronising one closes the connection.
	MaxLiteral int64
	// AutologoutTimeout closes connections that send nothing for this
	// long (default 30 minutes, RFC 9051 §5.4). IDLE re-arms it on every
	// wake-up the client causes, not on the server's own updates.
	AutologoutTimeout time.Duration
	// Clock returns the current time (default time.Now).
	Clock func() time.Time
	// Hostname is named in the greeting.
	Hostname string
}

func (o *Options) setDefaults() {
	if o.MaxAppendSize <= 0 {
		o.MaxAppendSize = 64 << 20
	}
	if o.MaxLiteral <= 0 {
		o.MaxLiteral = 64 << 10
	}
	if o.AutologoutTimeout <= 0 {
		o.AutologoutTimeout = 30 * time.Minute
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	// The name goes into the greeting verbatim: keep it one token.
	o.Hostname = strings.Map(func(r rune) rune {
		if r <= ' ' || r > '~' {
			return -1
		}
		return r
	}, o.Hostname)
	if o.Hostname == "" {
		o.Hostname = "localhost"
	}
}

// Server serves IMAP on any number of listeners.
type Server struct {
	opts     Options
	log      *slog.Logger
	commands map[string]command
	hub      *hub
	// writers pools output buffers, which connections hold only while
	// they have something to send.
	writers sync.Pool
	// deflaters pools COMPRESS=DEFLATE compressors the same way.
	deflaters sync.Pool

	nextID atomic.Uint64
	// testNotLoopback makes loopback clients count as remote, so that
	// tests on 127.0.0.1 can check the plaintext-authentication rules.
	testNotLoopback bool

	mu        sync.Mutex // guards following
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	closing   bool
	done      chan struct{} // closed when closing and conns is empty
}

// New returns a Server; it listens on nothing until Serve.
func New(opts Options) *Server {
	opts.setDefaults()
	s := &Server{
		opts:      opts,
		log:       opts.Logger,
		commands:  commandTable(),
		listeners: make(map[net.Listener]struct{}),
		conns:     make(map[*conn]struct{}),
		done:      make(chan struct{}),
	}
	s.hub = newHub(opts.Store)
	s.writers.New = func() any { return bufio.NewWriterSize(nil, writeBufSize) }
	s.deflaters.New = func() any {
		// BestSpeed: the level is valid, so NewWriter cannot fail.
		fw, _ := flate.NewWriter(io.Discard, flate.BestSpeed)
		return fw
	}
	return s
}

func (s *Server) putWriter(w *bufio.Writer) {
	w.Reset(nil)
	s.writers.Put(w)
}

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("imapserver: server closed")

// Serve accepts connections on ln until Shutdown. It always returns a
// non-nil error.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
	}()

	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closing := s.closing
			s.mu.Unlock()
			if closing {
				return ErrServerClosed
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			// Anything else (out of file descriptors, a connection reset
			// before it was accepted) passes: back off and go on.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("accept failed", "err", err, "retry_in", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		c := newConn(s, nc)
		if !s.track(c) {
			nc.Close()
			return ErrServerClosed
		}
		go c.serve()
	}
}

func (s *Server) track(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	if s.closing && len(s.conns) == 0 {
		select {
		case <-s.done:
		default:
			close(s.done)
		}
	}
}

// Shutdown stops accepting connections, tells every client BYE (after
// the command it is running, if any) and waits for connections to close
// or ctx to end, when the remaining connections are closed abruptly.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for ln := range s.listeners {
		ln.Close()
	}
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	if len(s.conns) == 0 {
		select {
		case <-s.done:
		default:
			close(s.done)
		}
	}
	s.mu.Unlock()

	for _, c := range conns {
		c.requestShutdown()
	}
	var err error
	select {
	case <-s.done:
	case <-ctx.Done():
		err = ctx.Err()
		s.mu.Lock()
		for c := range s.conns {
			c.nc.Close()
		}
		s.mu.Unlock()
	}
	s.hub.close()
	return err
}
