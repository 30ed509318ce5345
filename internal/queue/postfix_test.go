package queue_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"freehold/internal/msgauth"
	"freehold/internal/smtpclient/smtptest"
	"freehold/internal/store"
	"freehold/internal/testutil/postfixtest"
)

// TestPostfixPeer delivers through our queue to a real Postfix found
// through the test DNS: two recipients in one transaction over STARTTLS,
// a DKIM-signed message that still verifies (dkimpy, keys from the test
// DNS) after Postfix stored it, and a refusal by Postfix quoted in the
// DSN.
func TestPostfixPeer(t *testing.T) {
	e := newQEnv(t)
	ca := smtptest.NewCA(t)
	pf := postfixtest.Start(t, postfixtest.Options{Hostname: "mx.example.net", Domain: "example.net", CA: ca})
	addr, maildir := pf.Addr, pf.Maildir
	e.dns.Add("example.net. 300 IN MX 10 mx.example.net.", "mx.example.net. 300 IN A 192.0.2.25",
		"elsewhere.example. 300 IN MX 10 mx.example.net.")
	e.net.Route("192.0.2.25", addr)

	// Sign the message as the submission path does, before enqueueing.
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	e.dns.AddTXT("pf._domainkey.freehold.test.", "v=DKIM1; k=ed25519; p="+base64.StdEncoding.EncodeToString(edKey.Public().(ed25519.PublicKey)))
	signer := msgauth.NewSigner(staticKeys{"freehold.test": {{Domain: "freehold.test", Selector: "pf", Key: edKey}}})
	// The submission path adds Date when missing, before signing.
	msg := "Date: Mon, 02 Mar 2026 10:00:00 +0100\r\n" + testMsg
	sig, err := signer.Sign(context.Background(), []byte(msg))
	if err != nil {
		t.Fatal(err)
	}
	r, _ := e.start()
	e.enqueue(store.OutboundMessage{MailFrom: "alice@freehold.test", Recipients: rcpts("x@example.net", "y@example.net")}, string(sig)+msg)
	e.enqueue(store.OutboundMessage{MailFrom: "alice@freehold.test", Recipients: rcpts("z@elsewhere.example")}, testMsg)
	r.Kick()

	var files []string
	deadline := time.Now().Add(20 * time.Second)
	for len(files) < 2 && time.Now().Before(deadline) {
		entries, _ := os.ReadDir(maildir)
		files = files[:0]
		for _, en := range entries {
			files = append(files, filepath.Join(maildir, en.Name()))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(files) != 2 {
		t.Fatalf("Postfix stored %d messages, want 2", len(files))
	}
	got, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	text := string(got)
	for _, want := range []string{"with ESMTPS id", "(using TLS", "by mx.example.net (Postfix)", "Message-ID: <m1@freehold.test>", "Hello."} {
		if !strings.Contains(text, want) {
			t.Errorf("stored message lacks %q:\n%s", want, text)
		}
	}
	// The message as Postfix stored it still verifies with dkimpy.
	host, port, _ := net.SplitHostPort(e.dns.Addr)
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		script, _ := filepath.Abs("../msgauth/testdata/dkimpy_verify.py")
		cmd := exec.Command("/usr/bin/python3", script, host, port)
		cmd.Stdin = strings.NewReader(strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\n", "\r\n"))
		out, err := cmd.CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "pass" {
			t.Errorf("dkimpy on the stored message: %v %s", err, out)
		}
	}
	// Postfix refuses to relay for elsewhere.example; the DSN quotes it.
	dsn := e.local.wait(t, 1, 20*time.Second)[0]
	if !strings.Contains(string(dsn.Raw), "Diagnostic-Code: smtp; 554 5.7.1 <z@elsewhere.example>: Relay access denied") {
		t.Errorf("DSN does not quote Postfix:\n%s", dsn.Raw)
	}
	e.waitEmpty(10 * time.Second)
}

// staticKeys is a msgauth.KeySource with fixed keys.
type staticKeys map[string][]msgauth.SigningKey

func (s staticKeys) SigningKeys(_ context.Context, domain string) ([]msgauth.SigningKey, error) {
	return s[domain], nil
}
