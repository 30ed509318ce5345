package smtpclient

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"
)

// FuzzReply parses arbitrary server output as SMTP replies.
func FuzzReply(f *testing.F) {
	for _, s := range []string{"220 ok\r\n", "250-a\r\n250-b\r\n250 c\r\n", "550 5.1.1 no\r\n", "250-x\r\n251 y\r\n", "99\r\n", "250 \r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		client, server := net.Pipe()
		go func() {
			server.Write(b)
			server.Close()
		}()
		c := newConn(client, Timeouts{}.withDefaults())
		for range 5 {
			r, err := c.readReply(time.Second)
			if err != nil {
				break
			}
			if r.Code < 200 || r.Code > 599 || len(r.Lines) == 0 {
				t.Fatalf("bad reply accepted: %+v", r)
			}
			_ = r.String()
		}
		client.Close()
	})
}

// FuzzDotStuffing checks that what we send, once un-stuffed as a server
// does, is the message with CRLF line ends.
func FuzzDotStuffing(f *testing.F) {
	f.Add([]byte("a\r\n.b\r\n..c\n.\r\n"))
	f.Add([]byte("."))
	f.Fuzz(func(t *testing.T, msg []byte) {
		client, server := net.Pipe()
		var got bytes.Buffer
		done := make(chan struct{})
		go func() {
			io.Copy(&got, server)
			close(done)
		}()
		c := newConn(client, Timeouts{}.withDefaults())
		if err := c.sendData(bytes.NewReader(msg)); err != nil {
			t.Fatal(err)
		}
		client.Close()
		<-done
		out := got.Bytes()
		if !bytes.HasSuffix(out, []byte(".\r\n")) {
			t.Fatalf("no terminator: %q", out)
		}
		data := out[:len(out)-3]
		var un [][]byte
		for _, l := range bytes.Split(data, []byte("\r\n")) {
			if bytes.HasPrefix(l, []byte(".")) {
				l = l[1:]
			}
			un = append(un, l)
		}
		if got, want := bytes.Join(un, []byte("\r\n")), crlf(msg); !bytes.Equal(got, want) {
			t.Fatalf("round trip:\n%q\n%q", got, want)
		}
	})
}

// crlf is msg with bare LF made CRLF and a final line end added.
func crlf(msg []byte) []byte {
	var out []byte
	for i, b := range msg {
		if b == '\n' && (i == 0 || msg[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, b)
	}
	if len(out) > 0 && !bytes.HasSuffix(out, []byte("\r\n")) {
		out = append(out, "\r\n"...)
	}
	return out
}
