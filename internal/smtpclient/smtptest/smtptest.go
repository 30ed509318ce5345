// Package smtptest provides what outbound delivery tests need: a test
// certificate authority, a receiving SMTP server (emersion/go-smtp, an
// implementation independent of ours) that records what it is given and
// answers as told, raw listeners for hostile peers, and a dialer that
// maps the addresses DNS hands out to local listeners.
package smtptest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// CA is a test certificate authority.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	Pool *x509.CertPool
}

// NewCA makes a CA.
func NewCA(t testing.TB) *CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Freehold Test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &CA{Cert: cert, Key: key, Pool: pool}
}

// Issue makes a server certificate for names, signed by the CA, with the
// CA certificate in its chain.
func (ca *CA) Issue(t testing.TB, names ...string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: names[0]},
		DNSNames:     names,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der, ca.Cert.Raw}, PrivateKey: key, Leaf: leaf}
}

// Message is what a Server received.
type Message struct {
	From string
	To   []string
	Data []byte
	TLS  bool
	// Params are the MAIL parameters given (BODY, SIZE, RET, ENVID...).
	Body string
	Size int64
	Ret  string
}

// Options configure a Server.
type Options struct {
	TLS *tls.Config // nil: no STARTTLS
	// Rcpt decides the reply to RCPT TO; nil accepts all. Return an
	// *smtp.SMTPError to refuse.
	Rcpt func(addr string) error
	// Data decides the reply at the end of DATA; nil accepts.
	Data func(m *Message) error
	// MaxSize is announced in SIZE.
	MaxSize int64
}

// Server is a receiving SMTP server on 127.0.0.1.
type Server struct {
	Addr string
	srv  *smtp.Server
	opts Options

	mu       sync.Mutex // guards msgs
	msgs     []*Message
	received chan struct{}
}

// NewServer starts a Server, stopped when the test ends.
func NewServer(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{opts: opts, received: make(chan struct{}, 1024)}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		_, isTLS := c.TLSConnectionState()
		return &session{s: s, tls: isTLS}, nil
	}))
	s.srv.Domain = "mx.test"
	s.srv.TLSConfig = opts.TLS
	s.srv.EnableDSN = true
	s.srv.EnableSMTPUTF8 = true
	s.srv.MaxMessageBytes = opts.MaxSize
	s.srv.ReadTimeout = 10 * time.Second
	s.srv.WriteTimeout = 10 * time.Second
	s.srv.ErrorLog = nopLogger{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	go s.srv.Serve(ln)
	t.Cleanup(func() { s.srv.Close() })
	return s
}

type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}
func (nopLogger) Println(...any)        {}

// Messages returns what was received so far.
func (s *Server) Messages() []*Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Message(nil), s.msgs...)
}

// Wait waits until n messages were received, or d passes.
func (s *Server) Wait(n int, d time.Duration) []*Message {
	deadline := time.After(d)
	for {
		if m := s.Messages(); len(m) >= n {
			return m
		}
		select {
		case <-s.received:
		case <-deadline:
			return s.Messages()
		}
	}
}

type session struct {
	s   *Server
	tls bool
	cur *Message
}

func (ss *session) Reset()        { ss.cur = nil }
func (ss *session) Logout() error { return nil }

func (ss *session) Mail(from string, opts *smtp.MailOptions) error {
	ss.cur = &Message{From: from, TLS: ss.tls}
	if opts != nil {
		ss.cur.Body, ss.cur.Size, ss.cur.Ret = string(opts.Body), opts.Size, string(opts.Return)
	}
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if ss.s.opts.Rcpt != nil {
		if err := ss.s.opts.Rcpt(to); err != nil {
			return err
		}
	}
	ss.cur.To = append(ss.cur.To, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.cur.Data = b
	if ss.s.opts.Data != nil {
		if err := ss.s.opts.Data(ss.cur); err != nil {
			return err
		}
	}
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, ss.cur)
	ss.s.mu.Unlock()
	select {
	case ss.s.received <- struct{}{}:
	default:
	}
	return nil
}

// Raw starts a listener whose connections are handled by handle, for
// peers that misbehave. It is stopped when the test ends.
func Raw(t testing.TB, handle func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				go func() { <-done; c.Close() }()
				handle(c)
			}()
		}
	}()
	t.Cleanup(func() { close(done); ln.Close(); wg.Wait() })
	return ln.Addr().String()
}

// Script is a small SMTP dialogue for Raw: it reads lines and answers
// according to the first word of the command, and calls hook (if set)
// with the command before answering; hook returns true when it took over.
func Script(replies map[string]string, hook func(c net.Conn, cmd string) bool) func(net.Conn) {
	return func(c net.Conn) {
		io.WriteString(c, "220 hostile.test ESMTP\r\n")
		buf := make([]byte, 0, 4096)
		tmp := make([]byte, 4096)
		inData := false
		for {
			n, err := c.Read(tmp)
			if err != nil {
				return
			}
			buf = append(buf, tmp[:n]...)
			for {
				i := bytes.Index(buf, []byte("\r\n"))
				if i < 0 {
					break
				}
				line := string(buf[:i])
				buf = buf[i+2:]
				if inData {
					if line == "." {
						inData = false
						if !answer(c, replies, ".") {
							return
						}
					}
					continue
				}
				verb := strings.ToUpper(strings.Fields(line + " x")[0])
				if hook != nil && hook(c, verb) {
					return
				}
				if verb == "DATA" {
					inData = true
				}
				if !answer(c, replies, verb) {
					return
				}
				if verb == "QUIT" {
					return
				}
			}
		}
	}
}

// answer writes the scripted reply to verb, or a plain default one.
func answer(c net.Conn, replies map[string]string, verb string) bool {
	r, ok := replies[verb]
	if !ok {
		switch verb {
		case "EHLO":
			r = "250-hostile.test\r\n250 PIPELINING"
		case "DATA":
			r = "354 go on"
		case "QUIT":
			r = "221 bye"
		default:
			r = "250 ok"
		}
	}
	_, err := io.WriteString(c, r+"\r\n")
	return err == nil
}

// Net maps IP addresses that test DNS hands out to local listeners.
type Net struct {
	mu     sync.Mutex // guards routes
	routes map[string]string
	dialer net.Dialer
}

// NewNet returns an empty Net.
func NewNet() *Net { return &Net{routes: make(map[string]string)} }

// Route sends connections to ip (any port) to addr.
func (n *Net) Route(ip, addr string) {
	n.mu.Lock()
	n.routes[ip] = addr
	n.mu.Unlock()
}

// ErrNoRoute is returned for an address with no route: like a host that
// refuses connections.
var ErrNoRoute = errors.New("smtptest: connection refused")

// Dial is a dial function for smtpclient.Options.
func (n *Net) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	to, ok := n.routes[host]
	n.mu.Unlock()
	if !ok {
		return nil, ErrNoRoute
	}
	return n.dialer.DialContext(ctx, network, to)
}
