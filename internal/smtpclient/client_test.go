package smtpclient_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"freehold/internal/dnsutil"
	"freehold/internal/smtpclient"
	"freehold/internal/smtpclient/mtasts"
	"freehold/internal/smtpclient/smtptest"
	"freehold/internal/testutil/dnstest"
)

type env struct {
	dns  *dnstest.Server
	res  *dnsutil.Resolver
	net  *smtptest.Net
	ca   *smtptest.CA
	opts smtpclient.Options
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{dns: dnstest.New(t), net: smtptest.NewNet(), ca: smtptest.NewCA(t)}
	var err error
	e.res, err = dnsutil.New(dnsutil.Options{Server: e.dns.Addr, Timeout: 300 * time.Millisecond, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	e.opts = smtpclient.Options{
		Resolver: e.res,
		Hostname: "out.freehold.test",
		Dial:     e.net.Dial,
		RootCAs:  e.ca.Pool,
		Timeouts: smtpclient.Timeouts{Connect: time.Second, Command: 2 * time.Second, DataBlock: 2 * time.Second, DataEnd: 2 * time.Second},
	}
	return e
}

// mx publishes host as an MX of domain with address ip, served by addr.
func (e *env) mx(domain string, pref int, host, ip, addr string) {
	e.dns.Add(domain+". 300 IN MX "+itoa(pref)+" "+host+".", host+". 300 IN A "+ip)
	if addr != "" {
		e.net.Route(ip, addr)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

const msg = "From: a@freehold.test\r\nTo: b@example.net\r\nSubject: hi\r\n\r\nline one\r\n.starts with a dot\r\nbare LF follows\nend\r\n"

func envelope(rcpts ...string) smtpclient.Envelope {
	e := smtpclient.Envelope{MailFrom: "a@freehold.test", Size: int64(len(msg)),
		Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(msg)), nil }}
	for _, r := range rcpts {
		e.Rcpts = append(e.Rcpts, smtpclient.Rcpt{Address: r, Notify: "FAILURE"})
	}
	return e
}

func TestDeliverPreferenceAndPerRecipientReplies(t *testing.T) {
	e := newEnv(t)
	srv := smtptest.NewServer(t, smtptest.Options{Rcpt: func(addr string) error {
		switch {
		case strings.HasPrefix(addr, "gone@"):
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user here"}
		case strings.HasPrefix(addr, "busy@"):
			return &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2}, Message: "mailbox full"}
		}
		return nil
	}})
	e.mx("example.net", 10, "mx1.example.net", "192.0.2.1", "")            // refuses connections
	e.mx("example.net", 20, "mx2.example.net", "192.0.2.2", srv.Addr)      // works
	e.mx("example.net", 30, "mx3.example.net", "192.0.2.3", "127.0.0.1:1") // never reached
	c := smtpclient.New(e.opts)
	res := c.Deliver(context.Background(), "example.net", envelope("b@example.net", "gone@example.net", "busy@example.net", "c@example.net"))
	if res.Host != "mx2.example.net" {
		t.Fatalf("host %q", res.Host)
	}
	want := []smtpclient.Outcome{smtpclient.Delivered, smtpclient.Permanent, smtpclient.Temporary, smtpclient.Delivered}
	for i, r := range res.Rcpts {
		if r.Outcome != want[i] {
			t.Errorf("rcpt %d: %v (%s), want %v", i, r.Outcome, r.Detail, want[i])
		}
	}
	if r := res.Rcpts[1]; r.Reply.Code != 550 || r.Status != "5.1.1" || !strings.Contains(r.Detail, "mx2.example.net[192.0.2.2] said: 550 5.1.1 no such user here (in reply to RCPT TO)") {
		t.Errorf("remote answer not quoted: %+v", r)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || len(msgs[0].To) != 2 {
		t.Fatalf("want one transaction with two recipients, got %d messages", len(msgs))
	}
	wantData := "From: a@freehold.test\r\nTo: b@example.net\r\nSubject: hi\r\n\r\nline one\r\n.starts with a dot\r\nbare LF follows\r\nend\r\n"
	if string(msgs[0].Data) != wantData {
		t.Errorf("data:\n%q\nwant\n%q", msgs[0].Data, wantData)
	}
	if msgs[0].From != "a@freehold.test" || msgs[0].Size != int64(len(msg)) || msgs[0].Body != "8BITMIME" {
		t.Errorf("MAIL params: %+v", msgs[0])
	}
}

func TestRoutes(t *testing.T) {
	e := newEnv(t)
	srv := smtptest.NewServer(t, smtptest.Options{})
	e.dns.Add("implicit.example. 300 IN A 192.0.2.9", "null.example. 300 IN MX 0 .")
	e.net.Route("192.0.2.9", srv.Addr)
	e.dns.Fail("broken.example", dnstest.ServFail)
	e.dns.Fail("garbled.example", dnstest.Garbage)
	e.dns.Fail("wrongid.example", dnstest.WrongID)
	e.dns.Add("noaddr.example. 300 IN MX 10 mx.noaddr.example.")
	e.dns.Fail("mx.noaddr.example", dnstest.Garbage)
	c := smtpclient.New(e.opts)
	ctx := context.Background()

	if r := c.Deliver(ctx, "implicit.example", envelope("x@implicit.example")); r.Rcpts[0].Outcome != smtpclient.Delivered {
		t.Errorf("implicit MX: %+v", r.Rcpts[0])
	}
	cases := []struct {
		domain string
		out    smtpclient.Outcome
		status string
	}{
		{"null.example", smtpclient.Permanent, "5.1.10"},
		{"nxdomain.example", smtpclient.Permanent, "5.1.2"},
		{"broken.example", smtpclient.Temporary, "4.4.3"},
		{"garbled.example", smtpclient.Temporary, "4.4.3"},
		{"wrongid.example", smtpclient.Temporary, "4.4.3"},
		{"noaddr.example", smtpclient.Temporary, "4.4.4"},
	}
	for _, cs := range cases {
		r := c.Deliver(ctx, cs.domain, envelope("x@"+cs.domain))
		if r.Rcpts[0].Outcome != cs.out || r.Rcpts[0].Status != cs.status {
			t.Errorf("%s: %+v", cs.domain, r.Rcpts[0])
		}
	}
	// All hosts unreachable: temporary, naming the last failure.
	e.mx("down.example", 10, "mx.down.example", "192.0.2.50", "")
	r := c.Deliver(ctx, "down.example", envelope("x@down.example"))
	if r.Rcpts[0].Outcome != smtpclient.Temporary || !strings.Contains(r.Rcpts[0].Detail, "mx.down.example[192.0.2.50]: connect") {
		t.Errorf("unreachable: %+v", r.Rcpts[0])
	}
}

func TestSizeAndUTF8(t *testing.T) {
	e := newEnv(t)
	srv := smtptest.NewServer(t, smtptest.Options{MaxSize: 10})
	e.mx("small.example", 10, "mx.small.example", "192.0.2.1", srv.Addr)
	c := smtpclient.New(e.opts)
	r := c.Deliver(context.Background(), "small.example", envelope("x@small.example"))
	if r.Rcpts[0].Outcome != smtpclient.Permanent || r.Rcpts[0].Status != "5.3.4" {
		t.Errorf("over SIZE: %+v", r.Rcpts[0])
	}
	addr := smtptest.Raw(t, smtptest.Script(map[string]string{"EHLO": "250-old.test\r\n250 8BITMIME"}, nil))
	e.mx("ascii.example", 10, "mx.ascii.example", "192.0.2.2", addr)
	r = c.Deliver(context.Background(), "ascii.example", envelope("jürgen@ascii.example"))
	if r.Rcpts[0].Outcome != smtpclient.Permanent || r.Rcpts[0].Status != "5.6.7" {
		t.Errorf("UTF-8 to a server without SMTPUTF8: %+v", r.Rcpts[0])
	}
}

func TestOpportunisticTLS(t *testing.T) {
	e := newEnv(t)
	// A certificate nobody trusts, for another name: still encrypted.
	other := smtptest.NewCA(t).Issue(t, "wrong.example")
	srv := smtptest.NewServer(t, smtptest.Options{TLS: &tls.Config{Certificates: []tls.Certificate{other}}})
	e.mx("example.net", 10, "mx.example.net", "192.0.2.1", srv.Addr)
	r := smtpclient.New(e.opts).Deliver(context.Background(), "example.net", envelope("b@example.net"))
	if r.Rcpts[0].Outcome != smtpclient.Delivered || r.TLS != "tls" {
		t.Fatalf("%+v tls=%q", r.Rcpts[0], r.TLS)
	}
	if m := srv.Messages(); len(m) != 1 || !m[0].TLS {
		t.Fatal("message not received over TLS")
	}
	// A server whose TLS is broken gets the message in plain text.
	broken := smtptest.Raw(t, smtptest.Script(map[string]string{"EHLO": "250-broken.test\r\n250 STARTTLS", "STARTTLS": "220 go ahead"},
		func(c net.Conn, cmd string) bool {
			if cmd == "STARTTLS" {
				io.WriteString(c, "220 go ahead\r\n")
				io.WriteString(c, "this is not TLS\r\n")
				return true
			}
			return false
		}))
	e.mx("broken.example", 10, "mx.broken.example", "192.0.2.2", broken)
	r = smtpclient.New(e.opts).Deliver(context.Background(), "broken.example", envelope("b@broken.example"))
	if r.Rcpts[0].Outcome != smtpclient.Delivered || r.TLS != "" {
		t.Fatalf("plain-text fallback: %+v tls=%q", r.Rcpts[0], r.TLS)
	}
}

func TestDANE(t *testing.T) {
	e := newEnv(t)
	cert := e.ca.Issue(t, "mx.secure.example")
	srv := smtptest.NewServer(t, smtptest.Options{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}})
	e.mx("secure.example", 10, "mx.secure.example", "192.0.2.1", srv.Addr)
	e.dns.SetAuthentic(true)
	spki := sha256.Sum256(cert.Leaf.RawSubjectPublicKeyInfo)
	caHash := sha256.Sum256(e.ca.Cert.Raw)
	c := smtpclient.New(e.opts)
	ctx := context.Background()

	tlsa := func(rec string) {
		e.dns.Remove("_25._tcp.mx.secure.example", 52)
		if rec != "" {
			e.dns.Add("_25._tcp.mx.secure.example. 300 IN TLSA " + rec)
		}
	}
	// DANE-EE: the leaf's key.
	tlsa("3 1 1 " + hex.EncodeToString(spki[:]))
	if r := c.Deliver(ctx, "secure.example", envelope("x@secure.example")); r.Rcpts[0].Outcome != smtpclient.Delivered || r.TLS != "dane" {
		t.Fatalf("DANE-EE: %+v tls=%q", r.Rcpts[0], r.TLS)
	}
	// DANE-TA: the CA certificate, with a name check.
	tlsa("2 0 1 " + hex.EncodeToString(caHash[:]))
	if r := c.Deliver(ctx, "secure.example", envelope("x@secure.example")); r.Rcpts[0].Outcome != smtpclient.Delivered || r.TLS != "dane" {
		t.Fatalf("DANE-TA: %+v tls=%q", r.Rcpts[0], r.TLS)
	}
	// A record that matches nothing: refused, nothing sent.
	before := len(srv.Messages())
	tlsa("3 1 1 " + strings.Repeat("ab", 32))
	if r := c.Deliver(ctx, "secure.example", envelope("x@secure.example")); r.Rcpts[0].Outcome != smtpclient.Temporary || r.Rcpts[0].Status != "4.7.5" {
		t.Fatalf("mismatching TLSA: %+v", r.Rcpts[0])
	}
	if len(srv.Messages()) != before {
		t.Fatal("sent despite a DANE failure")
	}
	// The same records, not validated (no AD bit): ignored, opportunistic.
	e.dns.SetAuthentic(false)
	if r := c.Deliver(ctx, "secure.example", envelope("x@secure.example")); r.Rcpts[0].Outcome != smtpclient.Delivered || r.TLS != "tls" {
		t.Fatalf("insecure TLSA: %+v tls=%q", r.Rcpts[0], r.TLS)
	}
	// A signed zone whose TLSA lookup fails does not downgrade.
	e.dns.SetAuthentic(true)
	e.dns.Fail("_25._tcp.mx.secure.example", dnstest.ServFail)
	if r := c.Deliver(ctx, "secure.example", envelope("x@secure.example")); r.Rcpts[0].Outcome != smtpclient.Temporary {
		t.Fatalf("TLSA SERVFAIL: %+v", r.Rcpts[0])
	}
}

// TestHostilePeers checks that every wait is bounded and that a message
// is never marked delivered unless the server said so after the data.
func TestHostilePeers(t *testing.T) {
	e := newEnv(t)
	e.opts.Timeouts = smtpclient.Timeouts{Connect: 500 * time.Millisecond, Command: 300 * time.Millisecond,
		DataBlock: 300 * time.Millisecond, DataEnd: 300 * time.Millisecond}
	c := smtpclient.New(e.opts)
	silent := func(c net.Conn) { io.Copy(io.Discard, c) }
	trickle := func(c net.Conn) {
		for _, b := range []byte("220 slowly but surely this greeting never ends") {
			if _, err := c.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	dropInData := smtptest.Script(nil, func(c net.Conn, cmd string) bool {
		if cmd == "DATA" {
			io.WriteString(c, "354 go on\r\n")
			buf := make([]byte, 10)
			c.Read(buf)
			return true // hang up mid-DATA
		}
		return false
	})
	noFinalReply := smtptest.Script(map[string]string{".": ""}, func(c net.Conn, cmd string) bool { return false })
	neverReads := smtptest.Script(nil, func(c net.Conn, cmd string) bool {
		if cmd == "DATA" {
			io.WriteString(c, "354 go on\r\n")
			time.Sleep(time.Second) // stop reading: our writes must time out
			return true
		}
		return false
	})
	garbage := func(c net.Conn) { io.WriteString(c, "\x00\xff\xfe garbage\r\n") }
	endless := func(c net.Conn) {
		io.WriteString(c, "220-")
		for range 100000 {
			if _, err := io.WriteString(c, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"); err != nil {
				return
			}
		}
	}
	manyLines := func(c net.Conn) {
		for range 10000 {
			if _, err := io.WriteString(c, "220-more\r\n"); err != nil {
				return
			}
		}
	}
	big := strings.Repeat("0123456789abcdef", 1<<18) // 4 MiB, more than socket buffers
	cases := []struct {
		name   string
		handle func(net.Conn)
		body   string
	}{
		{"silent", silent, msg},
		{"trickle", trickle, msg},
		{"drop mid-DATA", dropInData, msg},
		{"no reply to the final dot", noFinalReply, msg},
		{"never reads the data", neverReads, big},
		{"garbage", garbage, msg},
		{"endless line", endless, msg},
		{"endless reply", manyLines, msg},
	}
	for i, cs := range cases {
		t.Run(cs.name, func(t *testing.T) {
			domain := "hostile" + itoa(i) + ".example"
			ip := "192.0.2." + itoa(i+10)
			e.mx(domain, 10, "mx."+domain, ip, smtptest.Raw(t, cs.handle))
			ev := envelope("x@" + domain)
			body := cs.body
			ev.Size = int64(len(body))
			ev.Open = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(body)), nil }
			start := time.Now()
			r := c.Deliver(context.Background(), domain, ev)
			if el := time.Since(start); el > 3*time.Second {
				t.Errorf("took %v", el)
			}
			if r.Rcpts[0].Outcome != smtpclient.Temporary {
				t.Errorf("%+v, want temporary", r.Rcpts[0])
			}
		})
	}
	// The caller's context bounds everything too.
	domain := "ctx.example"
	e.mx(domain, 10, "mx."+domain, "192.0.2.99", smtptest.Raw(t, silent))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	r := smtpclient.New(e.opts).Deliver(ctx, domain, envelope("x@"+domain))
	if time.Since(start) > time.Second || r.Rcpts[0].Outcome != smtpclient.Temporary {
		t.Errorf("context: %v %+v", time.Since(start), r.Rcpts[0])
	}
}

func TestNoPipeliningAndRefusals(t *testing.T) {
	e := newEnv(t)
	var got bytes.Buffer
	addr := smtptest.Raw(t, smtptest.Script(map[string]string{"EHLO": "250 plain.test", "MAIL": "553 5.7.1 sender refused"},
		func(c net.Conn, cmd string) bool { got.WriteString(cmd + " "); return false }))
	e.mx("plain.example", 10, "mx.plain.example", "192.0.2.1", addr)
	r := smtpclient.New(e.opts).Deliver(context.Background(), "plain.example", envelope("a@plain.example", "b@plain.example"))
	for _, rr := range r.Rcpts {
		if rr.Outcome != smtpclient.Permanent || rr.Reply.Code != 553 || !strings.Contains(rr.Detail, "in reply to MAIL FROM") {
			t.Errorf("%+v", rr)
		}
	}
	if !strings.HasPrefix(got.String(), "EHLO MAIL QUIT") {
		t.Errorf("without PIPELINING, commands are sent one by one and stop at MAIL: %q", got.String())
	}
	// 421 at RCPT: the next MX host is tried.
	srv := smtptest.NewServer(t, smtptest.Options{})
	closing := smtptest.Raw(t, smtptest.Script(map[string]string{"RCPT": "421 4.3.2 shutting down"}, nil))
	e.mx("two.example", 10, "mx1.two.example", "192.0.2.2", closing)
	e.mx("two.example", 20, "mx2.two.example", "192.0.2.3", srv.Addr)
	r = smtpclient.New(e.opts).Deliver(context.Background(), "two.example", envelope("a@two.example"))
	if r.Rcpts[0].Outcome != smtpclient.Delivered || r.Host != "mx2.two.example" {
		t.Errorf("after 421: %+v via %s", r.Rcpts[0], r.Host)
	}
}

// staticPolicy is a PolicySource with one policy for every domain.
type staticPolicy struct{ p *mtasts.Policy }

func (s staticPolicy) Lookup(context.Context, string) (*mtasts.Policy, error) { return s.p, nil }

func TestMTASTS(t *testing.T) {
	e := newEnv(t)
	good := smtptest.NewServer(t, smtptest.Options{TLS: &tls.Config{Certificates: []tls.Certificate{e.ca.Issue(t, "mx.sts.example")}}})
	wrongName := smtptest.NewServer(t, smtptest.Options{TLS: &tls.Config{Certificates: []tls.Certificate{e.ca.Issue(t, "other.example")}}})
	plain := smtptest.NewServer(t, smtptest.Options{})
	ctx := context.Background()
	deliver := func(policy mtasts.Policy, domain string) smtpclient.RcptResult {
		opts := e.opts
		opts.MTASTS = staticPolicy{&policy}
		r := smtpclient.New(opts).Deliver(ctx, domain, envelope("x@"+domain))
		if r.Rcpts[0].Outcome == smtpclient.Delivered && policy.Mode == mtasts.ModeEnforce && r.TLS != "mta-sts" {
			t.Errorf("%s delivered with tls=%q under an enforced policy", domain, r.TLS)
		}
		return r.Rcpts[0]
	}
	e.mx("sts.example", 10, "mx.sts.example", "192.0.2.1", good.Addr)
	enforce := mtasts.OwnPolicy(mtasts.ModeEnforce, "mx.sts.example")
	if r := deliver(enforce, "sts.example"); r.Outcome != smtpclient.Delivered {
		t.Fatalf("valid certificate: %+v", r)
	}
	// An MX the policy does not list is skipped.
	e.mx("unlisted.example", 10, "mx.unlisted.example", "192.0.2.2", good.Addr)
	if r := deliver(enforce, "unlisted.example"); r.Outcome != smtpclient.Temporary || r.Status != "4.7.5" {
		t.Fatalf("unlisted MX: %+v", r)
	}
	// A certificate for another name, or no STARTTLS: refused.
	e.mx("wrong.example", 10, "mx.sts.example", "192.0.2.1", "")
	e.net.Route("192.0.2.1", wrongName.Addr)
	if r := deliver(enforce, "wrong.example"); r.Outcome != smtpclient.Temporary {
		t.Fatalf("wrong certificate name: %+v", r)
	}
	e.net.Route("192.0.2.1", plain.Addr)
	if r := deliver(enforce, "wrong.example"); r.Outcome != smtpclient.Temporary || !strings.Contains(r.Detail, "STARTTLS") {
		t.Fatalf("no STARTTLS: %+v", r)
	}
	if len(wrongName.Messages())+len(plain.Messages()) != 0 {
		t.Fatal("message sent despite the policy")
	}
	// In testing mode, failures are only logged.
	e.net.Route("192.0.2.1", wrongName.Addr)
	if r := deliver(mtasts.OwnPolicy(mtasts.ModeTesting, "mx.sts.example"), "wrong.example"); r.Outcome != smtpclient.Delivered {
		t.Fatalf("testing mode: %+v", r)
	}
}
