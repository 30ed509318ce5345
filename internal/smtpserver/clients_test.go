package smtpserver

import (
	"context"
	"errors"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
)

// Real, independent SMTP clients against the server over loopback TCP.

func lookTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (Debian package %s); skipping the real-client test", name, name)
	}
	return p
}

func runTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s failed: %v\n%s", name, err, out)
	}
	return string(out)
}

func TestSwaksSubmissionSTARTTLSAuth(t *testing.T) {
	swaks := lookTool(t, "swaks")
	ts := startServer(t, standardBackend(), Options{Mode: ModeSubmission})
	for _, mech := range []string{"PLAIN", "LOGIN"} {
		out := runTool(t, swaks, "--server", ts.addr, "--tls", "--auth", mech,
			"--auth-user", "alice@example.org", "--auth-password", "alice-pw",
			"--from", "alice@example.org", "--to", "bob@example.org,carol@remote.example",
			"--h-Subject", "swaks "+mech, "--body", "sent by swaks", "--ehlo", "swaks.test")
		if !strings.Contains(out, "<~  250 2.0.0 Ok: queued") {
			t.Fatalf("swaks transcript:\n%s", out)
		}
	}
	dels, _ := ts.be.snapshot()
	if len(dels) != 2 || dels[0].Message.Envelope.Subject != "swaks PLAIN" || dels[1].Message.Envelope.Subject != "swaks LOGIN" {
		t.Fatalf("deliveries %+v", dels)
	}
	if ob := dels[0].Outbound; ob == nil || ob.Recipients[0].Address != "carol@remote.example" {
		t.Errorf("remote recipient not queued: %+v", ob)
	}
	if s := ts.be.blob(dels[0].Message.BlobID); !strings.Contains(s, "from swaks.test ([127.0.0.1])") || !strings.Contains(s, " with ESMTPSA ") {
		t.Errorf("stored:\n%s", s)
	}
}

func TestSwaksMXRefusesRelay(t *testing.T) {
	swaks := lookTool(t, "swaks")
	ts := startServer(t, standardBackend(), Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, swaks, "--server", ts.addr, "--from", "x@remote.example",
		"--to", "victim@elsewhere.example").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "<** 554 5.7.1 Relay access denied") {
		t.Fatalf("relay attempt: err %v\n%s", err, out)
	}
}

const pySMTP = `
import smtplib, ssl, sys
from email.message import EmailMessage
mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
msg = EmailMessage()
msg["Subject"] = "from smtplib " + mode
msg["From"] = "alice@example.org"
msg["To"] = "bob@example.org"
msg.set_content("Grüße from Python\n.leading dot line\n")
if mode == "mx":
    with smtplib.SMTP(host, port, local_hostname="py.test", timeout=20) as s:
        s.starttls(context=ctx)
        refused = s.send_message(msg, from_addr="sender@remote.example", to_addrs=["bob@example.org", "nobody@example.org", "team@example.org"])
        print("refused", sorted(refused))
elif mode == "submission":
    with smtplib.SMTP(host, port, local_hostname="py.test", timeout=20) as s:
        s.starttls(context=ctx)
        s.login("alice@example.org", "alice-pw")
        print("refused", sorted(s.send_message(msg)))
else:
    with smtplib.SMTP_SSL(host, port, local_hostname="py.test", context=ctx, timeout=20) as s:
        s.login("alice@example.org", "alice-pw")
        print("refused", sorted(s.send_message(msg)))
`

func TestPythonSmtplib(t *testing.T) {
	py := lookTool(t, "python3")
	for _, c := range []struct {
		name string
		o    Options
		want string
	}{
		{"mx", Options{}, "refused ['nobody@example.org']"},
		{"submission", Options{Mode: ModeSubmission}, "refused []"},
		{"implicit", Options{Mode: ModeSubmission, ImplicitTLS: true}, "refused []"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ts := startServer(t, standardBackend(), c.o)
			host, port, _ := net.SplitHostPort(ts.addr)
			out := runTool(t, py, "-c", pySMTP, c.name, host, port)
			if !strings.Contains(out, c.want) {
				t.Fatalf("python output: %s", out)
			}
			dels, _ := ts.be.snapshot()
			if len(dels) != 1 {
				t.Fatalf("%d deliveries", len(dels))
			}
			if got := dels[0].Message.Envelope.Subject; got != "from smtplib "+c.name {
				t.Errorf("subject %q", got)
			}
			s := ts.be.blob(dels[0].Message.BlobID)
			if !strings.Contains(s, "\r\n.leading dot line\r\n") {
				t.Errorf("body not stored verbatim:\n%s", s)
			}
			if c.name == "mx" && len(dels[0].Targets) != 2 {
				t.Errorf("targets %+v", dels[0].Targets)
			}
		})
	}
}

// TestGoSMTPClient uses go-smtp's client, an independent implementation,
// over STARTTLS with AUTH PLAIN, and checks the SIZE it reads from EHLO.
func TestGoSMTPClient(t *testing.T) {
	ts := startServer(t, standardBackend(), Options{Mode: ModeSubmission, MaxMessageBytes: 1 << 20})
	c, err := gosmtp.DialStartTLS(ts.addr, ts.clientTLS)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if size, ok := c.MaxMessageSize(); !ok || size != 1<<20 {
		t.Errorf("SIZE %d %v", size, ok)
	}
	if !c.SupportsAuth("PLAIN") || !c.SupportsAuth("LOGIN") {
		t.Error("AUTH PLAIN and LOGIN should be offered over TLS")
	}
	if err := c.Auth(sasl.NewPlainClient("", "bob@example.org", "bob-pw")); err != nil {
		t.Fatal(err)
	}
	msg := "From: bob@example.org\r\nSubject: go-smtp\r\n\r\n.one\r\n..two\r\n"
	if err := c.SendMail("bob@example.org", []string{"alice@example.org"}, strings.NewReader(msg)); err != nil {
		t.Fatal(err)
	}
	err = c.SendMail("alice@example.org", []string{"bob@example.org"}, strings.NewReader(msg))
	var se *gosmtp.SMTPError
	if !errors.As(err, &se) || se.Code != 550 || se.EnhancedCode != (gosmtp.EnhancedCode{5, 7, 1}) {
		t.Errorf("sending as someone else: %v", err)
	}
	if err := c.Quit(); err != nil {
		t.Error(err)
	}
	dels, _ := ts.be.snapshot()
	if len(dels) != 1 || !strings.HasSuffix(ts.be.blob(dels[0].Message.BlobID), msg) {
		t.Fatalf("deliveries %+v", dels)
	}
}
