package smtpserver

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"freehold/internal/maillog"
	"freehold/internal/store"
)

// maxAuthLine is the longest AUTH line accepted (RFC 4954 §4: 12288
// octets); other command lines are bounded by Options.MaxLineBytes.
const maxAuthLine = 12288

// errShutdown is returned by reads interrupted by Shutdown.
var errShutdown = errors.New("server shutting down")

// conn is one client connection: a state machine driven by command lines.
// Everything below mu is touched only by the connection's own goroutine.
type conn struct {
	srv    *Server
	raw    net.Conn // the TCP connection; deadlines are set on it
	id     string
	remote netip.Addr
	log    *slog.Logger
	ctx    context.Context // cancelled when Shutdown gives up waiting
	cancel context.CancelFunc
	start  time.Time

	// soft is set by Shutdown: a read waiting for a command outside a
	// transaction returns errShutdown. forced is set when Shutdown's
	// context ends: every read fails and writes get a short deadline.
	soft, forced atomic.Bool

	mu   sync.Mutex // guards idle
	idle bool       // waiting for a command with no transaction open

	nc          net.Conn // raw, or the *tls.Conn over it after a handshake
	br          *bufio.Reader
	bw          *bufio.Writer
	readTimeout time.Duration
	idleRead    bool // the current read waits for a command outside a transaction
	line        []byte
	out         []byte

	tlsState *tls.ConnectionState
	helo     string
	ehlo     bool
	account  *store.Account
	tx       *transaction
	data     bytes.Buffer // message buffer, reused between transactions
	errors   int
	txSeq    int
	accepted int
	quit     bool // close after the current reply
}

func newConn(s *Server, nc net.Conn, id string) *conn {
	ctx, cancel := context.WithCancel(context.Background())
	c := &conn{srv: s, raw: nc, nc: nc, id: id, ctx: ctx, cancel: cancel, start: s.now()}
	if ap, err := netip.ParseAddrPort(nc.RemoteAddr().String()); err == nil {
		c.remote = ap.Addr().Unmap()
	}
	c.log = s.log.With("conn", id, "remote", c.remote.String())
	c.readTimeout = s.opts.IdleTimeout
	c.br = bufio.NewReaderSize(deadlineReader{c}, 16<<10)
	c.bw = bufio.NewWriterSize(deadlineWriter{c}, 4<<10)
	return c
}

// deadlineReader reads from the current connection with a fresh deadline
// for every read (RFC 5321 §4.5.3.2 timeouts are per read, not per
// transfer), and gives up when Shutdown asks.
type deadlineReader struct{ c *conn }

func (r deadlineReader) Read(p []byte) (int, error) {
	c := r.c
	c.raw.SetReadDeadline(time.Now().Add(c.readTimeout))
	if c.forced.Load() || (c.idleRead && c.soft.Load()) {
		return 0, errShutdown
	}
	return c.nc.Read(p)
}

// deadlineWriter writes with a deadline; after a forced shutdown the
// deadline is short so that a last 421 cannot hold Shutdown up.
type deadlineWriter struct{ c *conn }

func (w deadlineWriter) Write(p []byte) (int, error) {
	c := w.c
	d := c.srv.opts.WriteTimeout
	if c.forced.Load() {
		d = time.Second
	}
	c.raw.SetWriteDeadline(time.Now().Add(d))
	return c.nc.Write(p)
}

// interruptIfIdle wakes a connection blocked waiting for a command outside
// a transaction, so that it answers 421 and closes.
func (c *conn) interruptIfIdle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.soft.Store(true)
	if c.idle {
		c.raw.SetReadDeadline(time.Now())
	}
}

// interrupt ends whatever the connection is doing: reads fail, the
// context of a running delivery is cancelled.
func (c *conn) interrupt(force bool) {
	if force {
		c.forced.Store(true)
		c.cancel()
	}
	c.raw.SetReadDeadline(time.Now())
}

func (c *conn) setIdle(idle bool) {
	c.mu.Lock()
	c.idle = idle
	c.mu.Unlock()
	c.idleRead = idle
}

// serve runs the connection until QUIT, an error or shutdown.
func (c *conn) serve() {
	defer c.srv.unregister(c)
	defer c.close()
	defer func() {
		if r := recover(); r != nil {
			c.panicked(r)
		}
	}()
	c.log.Debug("connection opened")
	if c.srv.opts.ImplicitTLS && !c.handshake() {
		return
	}
	// RFC 5321 §4.3.1: the greeting; RFC 2034 §3: no enhanced code here.
	c.send(reply{code: 220, text: c.srv.opts.Hostname + " ESMTP Freehold"})
	for !c.quit {
		// Replies to pipelined commands are sent together, once the
		// client has nothing more buffered (RFC 2920 §3.2).
		if c.br.Buffered() == 0 && !c.flush() {
			return
		}
		c.setIdle(c.tx == nil)
		// soft stands for the server's shutdown flag: Shutdown sets it on
		// every registered connection, and none is registered after.
		// Reading it needs no lock shared by all connections.
		if c.idleRead && c.soft.Load() {
			c.send(reply{code: 421, status: "4.3.2", text: c.srv.opts.Hostname + " Service shutting down"})
			break
		}
		line, tooLong, err := c.readLine()
		if err != nil {
			c.readFailed(err, "command")
			return
		}
		c.setIdle(false)
		c.handleLine(line, tooLong)
	}
	c.flush()
}

// readFailed answers a read error where an answer makes sense: 421 on
// timeout or shutdown (RFC 5321 §3.8), nothing when the client is gone.
func (c *conn) readFailed(err error, waiting string) {
	switch {
	case errors.Is(err, errShutdown) || c.forced.Load() || (c.soft.Load() && c.idleRead):
		c.send(reply{code: 421, status: "4.3.2", text: c.srv.opts.Hostname + " Service shutting down"})
	case errors.Is(err, os.ErrDeadlineExceeded):
		c.log.Info("timeout", "waiting", waiting)
		c.send(reply{code: 421, status: "4.4.2", text: c.srv.opts.Hostname + " Timeout waiting for " + waiting + ", closing connection"})
	case errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed):
		c.log.Debug("client closed connection", "waiting", waiting)
		return
	default:
		c.log.Debug("read failed", "err", err)
		return
	}
	c.flush()
}

// handleLine dispatches one command line. A panic in a handler is
// recovered here: logged with its stack, answered 421, connection closed.
func (c *conn) handleLine(line []byte, tooLong bool) {
	defer func() {
		if r := recover(); r != nil {
			c.panicked(r)
		}
	}()
	if tooLong {
		c.send(replyLineTooLong)
		return
	}
	verb, arg, err := parseCommand(line)
	if err != nil {
		c.send(reply{code: 500, status: "5.5.2", text: "Syntax error, command unrecognized"}.withDetail("parse", err))
		return
	}
	cmd, ok := commands[verb]
	if !ok {
		c.send(replyUnknownCmd.withDetail("verb "+verb, nil))
		return
	}
	if verb != "AUTH" && len(line) > c.srv.opts.MaxLineBytes {
		c.send(replyLineTooLong)
		return
	}
	if !cmd.states.has(c.state()) {
		c.send(c.sequenceError(verb))
		return
	}
	c.log.Debug("command", "verb", verb)
	c.send(cmd.fn(c, arg))
}

// panicked logs a recovered panic and ends the connection with 421.
func (c *conn) panicked(r any) {
	// Whatever broke may break again while answering: never let a second
	// panic escape the connection.
	defer func() { recover() }()
	c.quit = true
	c.log.Error("panic in SMTP session", "panic", r, "stack", string(debug.Stack()))
	if c.tx != nil {
		c.reject(maillog.StageData, reply{code: 421, status: "4.3.0", text: "internal error"}.withDetail("panic", nil))
	}
	c.send(reply{code: 421, status: "4.3.0", text: c.srv.opts.Hostname + " Internal error, closing connection"})
	c.flush()
}

// send writes a reply and applies the error limit: after MaxErrors failed
// commands the connection is closed with 421. A 421 always closes.
func (c *conn) send(r reply) {
	if r.code == 0 {
		return // the handler already answered, or the connection is gone
	}
	if r.detail != "" && r.failed() {
		c.log.Debug("command failed", "code", r.code, "detail", r.detail)
	}
	c.write(r)
	if r.code == 421 {
		c.quit = true
		return
	}
	if r.failed() {
		c.errors++
		if c.errors >= c.srv.opts.MaxErrors {
			c.log.Info("too many errors, closing", "errors", c.errors)
			c.write(reply{code: 421, status: "4.7.0", text: c.srv.opts.Hostname + " Too many errors, closing connection"})
			c.quit = true
		}
	}
}

// write buffers a reply; flush sends it.
func (c *conn) write(r reply) {
	c.out = r.format(c.out[:0])
	c.bw.Write(c.out)
}

// flush sends buffered replies; false when the connection is broken.
func (c *conn) flush() bool {
	if err := c.bw.Flush(); err != nil {
		c.log.Debug("write failed", "err", err)
		c.quit = true
		return false
	}
	return true
}

// readLine reads one command line without its line end. Lines longer than
// maxAuthLine are consumed to their end and reported as tooLong. A bare LF
// ends a command line too; bare line ends only matter in message data.
func (c *conn) readLine() (line []byte, tooLong bool, err error) {
	c.readTimeout = c.srv.opts.IdleTimeout
	c.line = c.line[:0]
	for {
		chunk, err := c.br.ReadSlice('\n')
		if len(c.line)+len(chunk) <= maxAuthLine+2 {
			c.line = append(c.line, chunk...)
		} else {
			tooLong = true
		}
		if err == nil {
			break
		}
		if err != bufio.ErrBufferFull {
			return nil, false, err
		}
	}
	line = bytes.TrimSuffix(c.line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	return line, tooLong, nil
}

// handshake runs a TLS server handshake on the connection (STARTTLS or
// implicit TLS) and swaps the reader and writer onto it. Bytes the client
// sent before the handshake are dropped with the old reader, so that
// plaintext pipelined after STARTTLS cannot be injected into the TLS
// session (the CVE-2011-0411 class of bug).
func (c *conn) handshake() bool {
	tc := tls.Server(c.raw, c.srv.opts.TLSConfig)
	c.raw.SetDeadline(time.Now().Add(c.srv.opts.IdleTimeout))
	if c.forced.Load() || c.soft.Load() {
		return false
	}
	if err := tc.HandshakeContext(c.ctx); err != nil {
		c.log.Info("TLS handshake failed", "err", err)
		return false
	}
	c.raw.SetDeadline(time.Time{})
	st := tc.ConnectionState()
	c.nc, c.tlsState = tc, &st
	c.br = bufio.NewReaderSize(deadlineReader{c}, 16<<10)
	c.bw = bufio.NewWriterSize(deadlineWriter{c}, 4<<10)
	c.log.Debug("TLS established", "version", tls.VersionName(st.Version), "cipher", tls.CipherSuiteName(st.CipherSuite))
	return true
}

// close ends the connection and logs a summary.
func (c *conn) close() {
	c.cancel()
	// A TLS close_notify must not wait on a client that stopped reading.
	c.raw.SetWriteDeadline(time.Now().Add(time.Second))
	c.nc.Close()
	c.raw.Close()
	c.log.Info("connection closed", "duration", c.srv.now().Sub(c.start).Round(time.Millisecond),
		"accepted", c.accepted, "errors", c.errors)
}

// mailSession describes the connection for the mail-event log.
func (c *conn) mailSession() maillog.Session {
	s := maillog.Session{Conn: c.id, Remote: c.remote.String(), Mode: c.srv.opts.Mode.String(), Helo: c.helo, TLS: c.tlsState != nil}
	if c.account != nil {
		s.User = c.account.Address
	}
	return s
}

// reject logs a refused command or message and returns the reply. At the
// data stage the event names every recipient of the transaction.
func (c *conn) reject(stage string, r reply) reply {
	var to []string
	if c.tx != nil && stage == maillog.StageData {
		to = c.tx.rcptAddresses()
	}
	return c.logRejected(stage, to, r)
}

// rejectRcpt logs a refused recipient and returns the reply.
func (c *conn) rejectRcpt(rcpt string, r reply) reply {
	return c.logRejected(maillog.StageRcpt, []string{rcpt}, r)
}

// logRejected writes the mail-event log entry of a refusal: the log
// gets r's detail when it has one, the client only r's text.
func (c *conn) logRejected(stage string, to []string, r reply) reply {
	e := maillog.Rejected{Session: c.mailSession(), Stage: stage, To: to, Code: r.code, Status: r.status, Reason: r.text}
	if r.detail != "" {
		e.Reason = r.detail
	}
	if c.tx != nil {
		e.From = c.tx.from
	}
	c.srv.mlog.Rejected(c.ctx, e)
	return r
}
