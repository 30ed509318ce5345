package imapserver

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// panicCatcher records error logs, where the connection reports the
// panics it recovered.
type panicCatcher struct {
	mu     sync.Mutex
	panics []string
}

func (p *panicCatcher) Enabled(context.Context, slog.Level) bool { return true }
func (p *panicCatcher) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		p.mu.Lock()
		p.panics = append(p.panics, r.Message)
		r.Attrs(func(a slog.Attr) bool {
			p.panics = append(p.panics, a.String())
			return true
		})
		p.mu.Unlock()
	}
	return nil
}
func (p *panicCatcher) WithAttrs([]slog.Attr) slog.Handler { return p }
func (p *panicCatcher) WithGroup(string) slog.Handler      { return p }

// FuzzCommand feeds arbitrary client input to a whole session over an
// in-memory pipe. The session must neither panic nor hang: it ends
// within seconds of the client closing.
func FuzzCommand(f *testing.F) {
	login := "a LOGIN alice@example.org \"" + testPassword + "\"\r\nb SELECT INBOX\r\n"
	for _, s := range []string{
		"a CAPABILITY\r\nb NOOP\r\nc LOGOUT\r\n",
		login + "c FETCH 1:* (FLAGS UID ENVELOPE BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (From)]<0.10> BINARY[1] RFC822.SIZE)\r\n",
		login + "c UID SEARCH RETURN (MIN MAX COUNT SAVE) OR (SUBJECT x FROM y) NOT 1:3 SINCE 1-Jan-2020 MODSEQ 5\r\nd FETCH $ FLAGS\r\n",
		login + "c STORE 1 (UNCHANGEDSINCE 9) +FLAGS.SILENT (\\Seen $Junk)\r\nd EXPUNGE\r\ne UID EXPUNGE 1:*\r\n",
		login + "c APPEND INBOX (\\Seen) {12+}\r\nhello world!\r\nd APPEND INBOX {5}\r\nhello\r\n",
		login + "c IDLE\r\nDONE\r\nd SORT (REVERSE DATE SUBJECT) UTF-8 ALL\r\ne THREAD REFERENCES UTF-8 ALL\r\n",
		login + "c COPY 1 Archive\r\nd MOVE 1:* Trash\r\ne CREATE a/b/c (USE (\\Junk))\r\nf RENAME a x\r\ng LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (\"*\" \"%\") RETURN (STATUS (MESSAGES SIZE))\r\n",
		"a LOGIN {3}\r\nabc {2+}\r\nde\r\nb AUTHENTICATE PLAIN\r\n*\r\n",
		login + "c ENABLE QRESYNC\r\nd SELECT INBOX (QRESYNC (1 1 1:5 (1:2 1:2)))\r\ne UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)\r\n",
		"a ID (\"name\" \"x\")\r\nb " + strings.Repeat("(", 100) + "\r\n",
	} {
		f.Add([]byte(s))
	}
	catcher := &panicCatcher{}
	e := newTestEnv(f, func(o *Options) {
		o.Logger = slog.New(catcher)
		o.AllowInsecureAuth = true
		o.MaxLiteral = 1024
		o.MaxAppendSize = 4096
		o.AutologoutTimeout = 5 * time.Second
	})
	a := e.addUser("alice@example.org")
	for i := 0; i < 3; i++ {
		e.appendMsg(a, "INBOX", testMessage(i, "fuzz"))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		fc := &fuzzConn{r: bytes.NewReader(in)}
		c := newConn(e.srv, fc)
		done := make(chan struct{})
		go func() {
			c.serve()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("session did not end at the end of its input %q", in)
		}
		catcher.mu.Lock()
		defer catcher.mu.Unlock()
		if len(catcher.panics) > 0 {
			t.Fatalf("panic for input %q: %v", in, catcher.panics)
		}
	})
}

// fuzzConn is a connection whose client sent in and then half-closed:
// reads return in, then EOF; responses are discarded.
type fuzzConn struct {
	r *bytes.Reader
}

func (f *fuzzConn) Read(p []byte) (int, error)  { return f.r.Read(p) }
func (f *fuzzConn) Write(p []byte) (int, error) { return len(p), nil }
func (f *fuzzConn) Close() error                { return nil }
func (f *fuzzConn) LocalAddr() net.Addr         { return &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 143} }
func (f *fuzzConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(192, 0, 2, 2), Port: 40000}
}
func (f *fuzzConn) SetDeadline(t time.Time) error      { return nil }
func (f *fuzzConn) SetReadDeadline(t time.Time) error  { return nil }
func (f *fuzzConn) SetWriteDeadline(t time.Time) error { return nil }
