package e2e

import (
	"crypto/tls"
	"net/smtp"
	"regexp"
	"strings"
	"testing"
)

// TestScheduledSend submits a message with FUTURERELEASE over submission
// (STARTTLS, AUTH PLAIN), sees it held in the queue for its sender, and
// cancels it from the command line, as a sender's admin would.
func TestScheduledSend(t *testing.T) {
	in := newInstance(t, buildBinary(t))
	in.start()
	defer in.stop()
	cfg := "--config=" + in.cfg

	c, err := smtp.Dial(in.ports["submission"])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	if ok, param := c.Extension("FUTURERELEASE"); !ok || param == "" {
		t.Fatalf("FUTURERELEASE not advertised (%q)", param)
	}
	if err := c.StartTLS(&tls.Config{InsecureSkipVerify: true, ServerName: "mx.example.test"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Auth(smtp.PlainAuth("", in.user, in.password, "127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	id, err := c.Text.Cmd("MAIL FROM:<%s> HOLDFOR=3600", in.user)
	if err != nil {
		t.Fatal(err)
	}
	c.Text.StartResponse(id)
	_, _, err = c.Text.ReadResponse(250)
	c.Text.EndResponse(id)
	if err != nil {
		t.Fatalf("MAIL with HOLDFOR: %v", err)
	}
	if err := c.Rcpt("someone@remote.test"); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("From: " + in.user + "\r\nTo: someone@remote.test\r\nSubject: later\r\n\r\nsee you in an hour\r\n"))
	if err := w.Close(); err != nil {
		t.Fatalf("end of data: %v", err)
	}
	c.Quit()

	out := in.run("queue", "held", "--account", in.user, cfg)
	m := regexp.MustCompile(`(?m)^(\d+)\s`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("queue held lists nothing:\n%s", out)
	}
	if !strings.Contains(in.run("queue", "show", m[1], cfg), "held until") {
		t.Error("queue show does not say the message is held")
	}
	in.run("queue", "cancel", m[1], "--account", in.user, cfg)
	if out := in.run("queue", "held", cfg); regexp.MustCompile(`(?m)^` + m[1] + `\s`).MatchString(out) {
		t.Errorf("still held after cancel:\n%s", out)
	}
}
