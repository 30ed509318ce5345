package imapserver

import (
	"bufio"
	"compress/flate"
	"io"
	"net"
	"strings"
	"testing"
)

// flateConn compresses writes and decompresses reads, as a COMPRESS
// client does.
type flateConn struct {
	net.Conn
	r io.Reader
	w *flate.Writer
}

func (f *flateConn) Read(p []byte) (int, error) { return f.r.Read(p) }
func (f *flateConn) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err == nil {
		err = f.w.Flush()
	}
	return n, err
}

func TestCompress(t *testing.T) {
	e := newTestEnv(t)
	a := e.addUser("alice@example.org")
	for i := 0; i < 20; i++ {
		e.appendMsg(a, "INBOX", testMessage(i, strings.Repeat("compressible ", 20)))
	}
	c := e.login("alice@example.org")
	c.fails("BAD", "COMPRESS LZMA")
	c.ok("COMPRESS DEFLATE")
	fw, _ := flate.NewWriter(c.nc, flate.DefaultCompression)
	fc := &flateConn{Conn: c.nc, r: flate.NewReader(c.r), w: fw}
	c.nc, c.r = fc, bufio.NewReader(fc)
	lines := c.ok("CAPABILITY")
	if has(lines, "COMPRESS=") {
		t.Fatal("COMPRESS still offered")
	}
	c.ok("SELECT INBOX")
	lines = c.ok("FETCH 1:* (ENVELOPE BODY.PEEK[])")
	if len(lines) != 20 {
		t.Fatalf("FETCH over DEFLATE: %d lines", len(lines))
	}
	if done := c.fails("NO", "COMPRESS DEFLATE"); !strings.Contains(done, "COMPRESSIONACTIVE") {
		t.Fatal(done)
	}
	c.send("i1 IDLE")
	if l := c.line(); !strings.HasPrefix(l, "+") {
		t.Fatal(l)
	}
	e.deliver(a, testMessage(99, "pushed"))
	if l := c.line(); l != "* 21 EXISTS" {
		t.Fatalf("IDLE over DEFLATE: %q", l)
	}
	c.send("DONE")
	c.until("i1")
	c.ok("LOGOUT")
}
