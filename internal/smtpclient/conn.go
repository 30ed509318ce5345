package smtpclient

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// Reply is an SMTP reply (RFC 5321 §4.2).
type Reply struct {
	Code int
	// Enhanced is the enhanced status code (RFC 3463) of the first line,
	// like "5.1.1", when the server sent one.
	Enhanced string
	// Lines are the text of each line, without code and separator.
	Lines []string
}

// Text is the reply's text on one line.
func (r Reply) Text() string { return strings.Join(r.Lines, " ") }

// String is the reply as a DSN quotes it: "550 5.1.1 text".
func (r Reply) String() string {
	if r.Code == 0 {
		return ""
	}
	s := strconv.Itoa(r.Code)
	if r.Enhanced != "" && !strings.HasPrefix(r.Text(), r.Enhanced) {
		s += " " + r.Enhanced
	}
	if t := r.Text(); t != "" {
		s += " " + t
	}
	return s
}

// Permanent reports a 5xx reply.
func (r Reply) Permanent() bool { return r.Code >= 500 }

// Limits on what a server may send (RFC 5321 §4.5.3.1.5 says 512 octets a
// line; we allow more, and bound the number of lines).
const (
	maxReplyLine  = 4096
	maxReplyLines = 200
)

// errProtocol marks a reply that is not SMTP.
var errProtocol = errors.New("smtp: malformed reply")

// conn is one SMTP client connection. It is used by one goroutine.
type conn struct {
	nc  net.Conn
	br  *bufio.Reader
	bw  *bufio.Writer
	to  Timeouts
	ext map[string]string // EHLO keywords (upper case) → parameters
	// broken is set after a read or write failed: the session is no
	// longer in a known state, and is closed without QUIT.
	broken bool
}

func newConn(nc net.Conn, to Timeouts) *conn {
	return &conn{nc: nc, br: bufio.NewReaderSize(nc, 4096), bw: bufio.NewWriterSize(nc, 32*1024), to: to}
}

// watch closes the connection when ctx ends, so that any blocked read or
// write returns. The returned func stops watching.
func (c *conn) watch(ctx context.Context) func() bool {
	return context.AfterFunc(ctx, func() { c.nc.Close() })
}

// readReply reads one reply within timeout: the deadline covers the whole
// reply, so a server that trickles bytes cannot hold us longer.
func (c *conn) readReply(timeout time.Duration) (Reply, error) {
	r, err := c.readReplyOnce(timeout)
	if err != nil {
		c.broken = true
	}
	return r, err
}

func (c *conn) readReplyOnce(timeout time.Duration) (Reply, error) {
	c.nc.SetReadDeadline(time.Now().Add(timeout))
	var r Reply
	for {
		line, err := c.readLine()
		if err != nil {
			return r, err
		}
		if len(line) < 3 {
			return r, fmt.Errorf("%w: %q", errProtocol, line)
		}
		code, err := strconv.Atoi(line[:3])
		if err != nil || code < 200 || code > 599 || (r.Code != 0 && code != r.Code) {
			return r, fmt.Errorf("%w: %q", errProtocol, line)
		}
		r.Code = code
		more := len(line) > 3 && line[3] == '-'
		text := ""
		if len(line) > 4 {
			text = line[4:]
		}
		if len(r.Lines) < maxReplyLines {
			r.Lines = append(r.Lines, text)
		}
		if !more {
			break
		}
	}
	r.Enhanced = enhancedCode(r)
	return r, nil
}

// readLine reads one CRLF- (or LF-) terminated line. A line cut short by
// an error is an error, never a line: bufio's ReadLine would return it
// as complete.
func (c *conn) readLine() (string, error) {
	var b []byte
	for {
		chunk, err := c.br.ReadSlice('\n')
		b = append(b, chunk...)
		if len(b) > maxReplyLine {
			return "", fmt.Errorf("%w: line longer than %d octets", errProtocol, maxReplyLine)
		}
		switch {
		case err == nil:
			return strings.TrimRight(string(b), "\r\n"), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			return "", io.ErrUnexpectedEOF
		default:
			return "", err
		}
	}
}

// enhancedCode extracts the RFC 3463 code starting the first line, when
// its class matches the reply code.
func enhancedCode(r Reply) string {
	if len(r.Lines) == 0 {
		return ""
	}
	f, _, _ := strings.Cut(r.Lines[0], " ")
	parts := strings.Split(f, ".")
	if len(parts) != 3 || parts[0] != strconv.Itoa(r.Code/100) {
		return ""
	}
	for _, p := range parts[1:] {
		if n, err := strconv.Atoi(p); err != nil || n < 0 || n > 999 || len(p) > 3 {
			return ""
		}
	}
	return f
}

// write queues a command line.
func (c *conn) write(line string) error {
	if strings.ContainsAny(line, "\r\n") {
		return errors.New("smtp: line break in command")
	}
	c.nc.SetWriteDeadline(time.Now().Add(c.to.Command))
	_, err := c.bw.WriteString(line + "\r\n")
	if err != nil {
		c.broken = true
	}
	return err
}

func (c *conn) flush() error {
	c.nc.SetWriteDeadline(time.Now().Add(c.to.Command))
	err := c.bw.Flush()
	if err != nil {
		c.broken = true
	}
	return err
}

// cmd sends one command and reads its reply.
func (c *conn) cmd(timeout time.Duration, line string) (Reply, error) {
	if err := c.write(line); err != nil {
		return Reply{}, err
	}
	if err := c.flush(); err != nil {
		return Reply{}, err
	}
	return c.readReply(timeout)
}

// hello sends EHLO, falling back to HELO (RFC 5321 §4.1.1.1), and
// records the extensions.
func (c *conn) hello(name string) (Reply, error) {
	r, err := c.cmd(c.to.Command, "EHLO "+name)
	if err != nil {
		return r, err
	}
	if r.Code == 250 {
		c.ext = map[string]string{}
		for _, l := range r.Lines[1:] {
			k, v, _ := strings.Cut(l, " ")
			c.ext[strings.ToUpper(k)] = v
		}
		return r, nil
	}
	if r.Code != 500 && r.Code != 502 && r.Code != 504 {
		return r, nil
	}
	c.ext = map[string]string{}
	return c.cmd(c.to.Command, "HELO "+name)
}

func (c *conn) has(ext string) bool {
	_, ok := c.ext[ext]
	return ok
}

// startTLS runs STARTTLS (RFC 3207) and the TLS handshake. The caller
// must say EHLO again afterwards.
func (c *conn) startTLS(cfg *tls.Config) (Reply, error) {
	r, err := c.cmd(c.to.Command, "STARTTLS")
	if err != nil || r.Code != 220 {
		return r, err
	}
	if c.br.Buffered() > 0 {
		// Bytes sent before the handshake would be injected into the TLS
		// session (CVE-2011-0411 and its kind).
		return r, &tlsError{errors.New("data after STARTTLS reply")}
	}
	tc := tls.Client(c.nc, cfg)
	c.nc.SetDeadline(time.Now().Add(c.to.Command))
	if err := tc.Handshake(); err != nil {
		return r, &tlsError{err}
	}
	c.nc.SetDeadline(time.Time{})
	c.nc = tc
	c.br.Reset(tc)
	c.bw.Reset(tc)
	return r, nil
}

// tlsError is a failed TLS handshake or certificate check.
type tlsError struct{ err error }

func (e *tlsError) Error() string { return "TLS: " + e.err.Error() }
func (e *tlsError) Unwrap() error { return e.err }

// sendData writes the message with dot-stuffing (RFC 5321 §4.5.2), bare
// LF made CRLF, and the terminating ".", each write within the data block
// timeout (RFC 5321 §4.5.3.2.5).
func (c *conn) sendData(body io.Reader) error {
	err := c.sendDataOnce(body)
	if err != nil {
		c.broken = true
	}
	return err
}

func (c *conn) sendDataOnce(body io.Reader) error {
	w := &dotWriter{c: c, bol: true}
	buf := make([]byte, 32*1024)
	for {
		n, err := body.Read(buf)
		if n > 0 {
			if werr := w.write(buf[:n]); werr != nil {
				return werr
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading message: %w", err)
		}
	}
	if !w.bol {
		if err := w.put("\r\n"); err != nil {
			return err
		}
	}
	if err := w.put(".\r\n"); err != nil {
		return err
	}
	c.nc.SetWriteDeadline(time.Now().Add(c.to.DataBlock))
	return c.bw.Flush()
}

type dotWriter struct {
	c   *conn
	bol bool // at the beginning of a line
	cr  bool // the last byte written was CR
}

func (w *dotWriter) put(s string) error {
	if w.c.bw.Available() < len(s) {
		w.c.nc.SetWriteDeadline(time.Now().Add(w.c.to.DataBlock))
	}
	_, err := w.c.bw.WriteString(s)
	return err
}

func (w *dotWriter) write(p []byte) error {
	start := 0
	flush := func(end int) error {
		if end > start {
			if w.c.bw.Available() < end-start {
				w.c.nc.SetWriteDeadline(time.Now().Add(w.c.to.DataBlock))
			}
			if _, err := w.c.bw.Write(p[start:end]); err != nil {
				return err
			}
		}
		return nil
	}
	for i, b := range p {
		switch {
		case w.bol && b == '.':
			if err := flush(i); err != nil {
				return err
			}
			if err := w.put("."); err != nil {
				return err
			}
			start = i
		case b == '\n' && !w.cr:
			if err := flush(i); err != nil {
				return err
			}
			if err := w.put("\r"); err != nil {
				return err
			}
			start = i
		}
		w.bol = b == '\n'
		w.cr = b == '\r'
	}
	return flush(len(p))
}

// close sends QUIT on a healthy session (RFC 5321 §4.1.1.10), waiting
// briefly for its reply, and closes the connection.
func (c *conn) close() {
	if !c.broken {
		wait := min(c.to.Command, 2*time.Second)
		c.nc.SetDeadline(time.Now().Add(wait))
		if c.write("QUIT") == nil && c.flush() == nil {
			c.readReply(wait)
		}
	}
	c.nc.Close()
}
