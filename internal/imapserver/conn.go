package imapserver

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/flate"

	"freehold/internal/imapserver/imapwire"
	"freehold/internal/imapserver/inflate"
	"freehold/internal/store"
)

// state is where a connection stands (RFC 9051 §3). Command table entries
// hold a mask of the states they are allowed in.
type state uint8

const (
	stateNotAuth state = 1 << iota
	stateAuth
	stateSelected
	stateLogout
)

const (
	anyState  = stateNotAuth | stateAuth | stateSelected
	authState = stateAuth | stateSelected
)

// maxCommandLine caps a command's octets outside literals.
const maxCommandLine = 1 << 20

// Buffer sizes: small, so that idle connections stay cheap; large
// responses go out in several writes.
const (
	readBufSize  = 2048
	writeBufSize = 4096
)

// conn is one client connection. All of its fields are owned by the
// goroutine running serve, except wake and shutdown, which other
// goroutines set to interrupt a blocking read (see wakeReader).
type conn struct {
	srv *Server
	nc  net.Conn
	log *slog.Logger

	loopback bool
	tlsConn  *tls.Conn // non-nil once TLS is up
	deflate  *deflater // non-nil once COMPRESS is active
	br       *bufio.Reader
	out      io.Writer // where output goes: the TCP, TLS or DEFLATE stream
	dec      *imapwire.Decoder
	enc      *imapwire.Encoder

	state   state
	acct    store.Account
	enabled enabled
	sel     *selected // non-nil in stateSelected
	// saved is the result of the last SEARCH ... SAVE (RFC 5182), as UIDs.
	saved []store.UID

	readDeadline time.Time
	// onWake is run by wakeReader, on this goroutine, when the hub
	// interrupts a read during IDLE.
	onWake   func() error
	wake     atomic.Bool
	shutdown atomic.Bool
}

// enabled records what the client turned on with ENABLE (RFC 5161) or
// implicitly (CONDSTORE by using MODSEQ, RFC 7162 §3.1).
type enabled struct {
	rev2      bool
	condstore bool
	qresync   bool
}

func newConn(s *Server, nc net.Conn) *conn {
	id := s.nextID.Add(1)
	c := &conn{srv: s, nc: nc, state: stateNotAuth}
	host, _, _ := net.SplitHostPort(nc.RemoteAddr().String())
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() && !s.testNotLoopback {
		c.loopback = true
	}
	c.log = s.log.With("conn", id, "remote", host)
	c.br = bufio.NewReaderSize(&wakeReader{c: c, r: nc}, readBufSize)
	c.out = nc
	c.dec = imapwire.NewDecoder(c.br)
	c.dec.Literal = c.acceptLiteral
	c.enc = imapwire.NewEncoder(c.getWriter, s.putWriter)
	return c
}

// wakeReader sits between the transport (TCP or TLS) and the decoder. A
// read interrupted by a deadline set in the past by another goroutine
// (the idle hub, or Shutdown) runs the wake-up on this goroutine and
// resumes reading, so a connection needs no second goroutine to be woken.
// Timeouts of TLS reads leave the TLS state intact (they are temporary
// errors), so this is safe under TLS and under COMPRESS, which sits above.
type wakeReader struct {
	c *conn
	r io.Reader
}

func (w *wakeReader) Read(p []byte) (int, error) {
	c := w.c
	for {
		// Checked before every read: a deadline re-armed after Shutdown
		// set its own would otherwise hide the request.
		if c.shutdown.Load() {
			return 0, errShutdown
		}
		if c.wake.Swap(false) && c.onWake != nil {
			if err := c.onWake(); err != nil {
				return 0, err
			}
		}
		n, err := w.r.Read(p)
		var ne net.Error
		if n > 0 || err == nil || !errors.As(err, &ne) || !ne.Timeout() {
			return n, err
		}
		if c.shutdown.Load() {
			return 0, errShutdown
		}
		if time.Now().After(c.readDeadline) {
			return 0, err // autologout
		}
		// Interrupted early: a wake-up. Re-arm and loop to run it.
		c.nc.SetReadDeadline(c.readDeadline)
	}
}

// interrupt makes a blocked read return so that wakeReader looks at the
// wake and shutdown flags. Safe from any goroutine.
func (c *conn) interrupt() {
	c.nc.SetReadDeadline(time.Unix(1, 0))
}

func (c *conn) requestShutdown() {
	c.shutdown.Store(true)
	c.interrupt()
}

// armRead sets the autologout deadline for the next command.
func (c *conn) armRead() {
	c.readDeadline = time.Now().Add(c.srv.opts.AutologoutTimeout)
	c.nc.SetReadDeadline(c.readDeadline)
}

func (c *conn) serve() {
	defer c.srv.untrack(c)
	defer c.nc.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("panic in IMAP connection", "panic", r, "stack", string(debug.Stack()))
			c.enc.Raw("* BYE Internal server error\r\n")
			c.flush()
		}
	}()
	defer c.unselect()

	if c.srv.opts.ImplicitTLS {
		if err := c.startTLS(ctx); err != nil {
			c.log.Debug("TLS handshake failed", "err", err)
			return
		}
	}
	c.enc.Raw("* OK [CAPABILITY ").Raw(c.capabilities()).Raw("] ").Raw(c.srv.opts.Hostname).Raw(" Freehold IMAP ready\r\n")
	if c.flush() != nil {
		return
	}
	for c.state != stateLogout {
		if err := c.command(ctx); err != nil {
			c.logEnd(err)
			return
		}
	}
}

func (c *conn) logEnd(err error) {
	switch {
	case errors.Is(err, errShutdown):
		c.enc.Raw("* BYE Server shutting down\r\n")
		c.flush()
	case errors.Is(err, errClose):
	case isTimeout(err):
		c.enc.Raw("* BYE Autologout; idle for too long\r\n")
		c.flush()
	case isNetErr(err):
		c.log.Debug("connection ended", "err", err)
	default:
		c.log.Info("connection closed", "err", err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// getWriter lends the encoder an output buffer from the server's pool.
func (c *conn) getWriter() *bufio.Writer {
	w := c.srv.writers.Get().(*bufio.Writer)
	w.Reset(c.out)
	return w
}

// flush sends buffered output, through the compressor if any, and gives
// the output buffer back: a connection between commands holds none.
func (c *conn) flush() error {
	c.nc.SetWriteDeadline(time.Now().Add(c.srv.opts.AutologoutTimeout))
	if err := c.enc.Flush(); err != nil {
		return err
	}
	c.enc.ReleaseIdle()
	if c.deflate != nil {
		return c.deflate.Flush()
	}
	return nil
}

// cmd is one command being run.
type cmd struct {
	tag  string
	name string // upper case, without "UID "
	uid  bool
	// code and text make the tagged OK; handlers set them.
	code string
	text string
	// replied is set by handlers that wrote the tagged reply themselves
	// (STARTTLS, COMPRESS: it must precede the switch of layers).
	replied bool
	// wantHighest asks for [HIGHESTMODSEQ n] on the tagged OK, with n
	// taken after the closing poll, as QRESYNC clients expect after
	// EXPUNGE (RFC 7162 §3.2.10).
	wantHighest bool
}

// command reads and runs one command. It returns an error only when the
// connection must end.
func (c *conn) command(ctx context.Context) error {
	c.dec.Reset()
	c.dec.MaxLiteral = c.srv.opts.MaxLiteral
	c.dec.MaxLine = maxCommandLine
	c.armRead()
	if c.shutdown.Load() {
		return errShutdown
	}
	var k cmd
	if !c.dec.Tag(&k.tag) {
		if err := c.dec.Err(); err != nil && !isSyntax(err) {
			return err
		}
		c.enc.Raw("* BAD Missing tag\r\n")
		return c.recover(&k, nil)
	}
	var name string
	if !c.dec.ExpectSP() || !c.dec.ExpectAtom(&name) {
		return c.recover(&k, c.dec.Err())
	}
	k.name = strings.ToUpper(name)
	if k.name == "UID" {
		if !c.dec.ExpectSP() || !c.dec.ExpectAtom(&name) {
			return c.recover(&k, c.dec.Err())
		}
		k.uid, k.name = true, strings.ToUpper(name)
	}
	def, ok := c.srv.commands[k.name]
	if !ok || k.uid && !def.uid {
		return c.recover(&k, bad("", "Unknown command"))
	}
	if c.state&def.states == 0 {
		return c.recover(&k, bad("", "Command not allowed now"))
	}
	err := def.run(ctx, c, &k)
	if err == nil {
		err = c.dec.Err()
	}
	if err != nil {
		return c.recover(&k, err)
	}
	if k.replied {
		return c.flush()
	}
	if c.sel != nil && def.poll != pollNever {
		if err := c.pollUpdates(ctx, def.poll == pollAll || k.uid); err != nil {
			return err
		}
	}
	if k.wantHighest && c.sel != nil && k.code == "" {
		k.code = "HIGHESTMODSEQ " + itoa(int64(c.sel.modseq))
	}
	if k.text == "" {
		k.text = k.name + " completed"
	}
	c.tagged(k.tag, statusOK, k.code, k.text)
	return c.flush()
}

func isSyntax(err error) bool {
	var se *imapwire.SyntaxError
	return errors.As(err, &se)
}

// recover answers a failed command and puts the connection back at the
// start of a line. It returns an error only if the connection must end.
func (c *conn) recover(k *cmd, err error) error {
	if err != nil && (isNetErr(err) || errors.Is(err, errClose)) {
		return err
	}
	var le *imapwire.LiteralError
	if errors.As(err, &le) && le.NonSync {
		// The client is sending the data without waiting; rather than
		// read an arbitrary amount, answer and hang up (RFC 7888 §4).
		c.tagged(k.tag, statusBAD, "TOOBIG", "Literal too big")
		c.enc.Raw("* BYE Literal too big\r\n")
		c.flush()
		return errClose
	}
	// A refused synchronising literal ends the line (the client sends
	// nothing more); otherwise whatever is left of the line is skipped.
	needDiscard := !c.dec.LineDone()
	if err != nil {
		r, logIt := toReply(err)
		if logIt {
			c.log.Warn("command failed", "cmd", k.name, "err", err)
		}
		if k.tag == "" {
			k.tag = "*"
		}
		c.tagged(k.tag, r.Status, r.Code, r.Text)
	}
	if needDiscard && !c.dec.DiscardLine(c.srv.opts.MaxLiteral+4096) {
		if e := c.dec.Err(); e != nil && isNetErr(e) {
			return e
		}
		c.enc.Raw("* BYE Line too long\r\n")
		c.flush()
		return errClose
	}
	return c.flush()
}

// tagged writes a tagged status response.
func (c *conn) tagged(tag string, st status, code, text string) {
	c.enc.Raw(tag).SP().Raw(string(st)).SP()
	if code != "" {
		c.enc.Byte('[').Raw(code).Raw("] ")
	}
	c.enc.Raw(text).CRLF()
}

// acceptLiteral is the decoder's Literal hook: limits were applied by the
// decoder; a synchronising literal gets its continuation request.
func (c *conn) acceptLiteral(size int64, nonSync bool) error {
	if nonSync {
		return nil
	}
	c.enc.Raw("+ Ready for literal data\r\n")
	return c.flush()
}

// endArgs checks the command line is complete.
func (c *conn) endArgs() error {
	if !c.dec.ExpectCRLF() {
		return c.dec.Err()
	}
	return nil
}

// startTLS runs the TLS handshake on the raw connection and puts the
// reader and writer on top of it.
func (c *conn) startTLS(ctx context.Context) error {
	tc := tls.Server(c.nc, c.srv.opts.TLSConfig)
	c.nc.SetDeadline(time.Now().Add(time.Minute))
	hctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		return err
	}
	c.nc.SetDeadline(time.Time{})
	c.tlsConn = tc
	c.br.Reset(&wakeReader{c: c, r: tc})
	c.out = tc
	return nil
}

// startCompress switches both directions to DEFLATE (RFC 4978). Input
// goes through our own inflater (see package inflate): zlib clients such
// as mbsync end each write with a partial flush, which the library
// decoders would hold back.
func (c *conn) startCompress() error {
	var under io.ReadWriter = c.nc
	if c.tlsConn != nil {
		under = c.tlsConn
	}
	c.deflate = &deflater{srv: c.srv, dst: under}
	c.out = c.deflate
	// A small buffer: the compressed input is mostly short commands.
	src := bufio.NewReaderSize(&wakeReader{c: c, r: under}, 512)
	c.br.Reset(inflate.NewReader(src))
	return nil
}

// deflater compresses a connection's output with a compressor borrowed
// from the server's pool for each burst of output. After a sync flush
// the stream is at a byte-aligned block boundary that refers to nothing
// before it, so the next burst may start from a fresh compressor: an
// idle compressed connection then holds no compressor state (a few
// hundred KB), at the price of no back-references across bursts.
type deflater struct {
	srv *Server
	dst io.Writer
	fw  *flate.Writer
}

func (d *deflater) Write(p []byte) (int, error) {
	if d.fw == nil {
		d.fw = d.srv.deflaters.Get().(*flate.Writer)
		d.fw.Reset(d.dst)
	}
	return d.fw.Write(p)
}

// Flush ends the burst with a sync flush and returns the compressor.
func (d *deflater) Flush() error {
	if d.fw == nil {
		return nil
	}
	err := d.fw.Flush()
	d.fw.Reset(io.Discard)
	d.srv.deflaters.Put(d.fw)
	d.fw = nil
	return err
}

// authenticated moves to the authenticated state.
func (c *conn) authenticated(a store.Account) {
	c.acct = a
	c.state = stateAuth
	c.log = c.log.With("account", a.Address)
	c.log.Info("logged in")
}

// untagged writes "* " followed by text and CRLF.
func (c *conn) untagged(format string, args ...any) {
	c.enc.Raw("* ").Raw(fmt.Sprintf(format, args...)).CRLF()
}
