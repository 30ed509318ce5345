package e2e

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"freehold/internal/smtpclient/smtptest"
	"freehold/internal/testutil/dnstest"
	"freehold/internal/testutil/postfixtest"
)

// TestPostfixDeliversToFreehold has a real Postfix relay a message to
// Freehold's MX, as a peer on the internet would: the message lands in
// the INBOX with our Received and Authentication-Results fields, after
// SPF and DMARC were looked up through the configured resolver.
func TestPostfixDeliversToFreehold(t *testing.T) {
	in := newInstance(t, buildBinary(t))
	dns := dnstest.New(t)
	dns.Add(`sender.test. 300 IN TXT "v=spf1 ip4:127.0.0.1 -all"`, `_dmarc.sender.test. 300 IN TXT "v=DMARC1; p=reject"`)
	in.setResolver(dns.Addr)
	in.start()
	defer in.stop()
	pf := postfixtest.Start(t, postfixtest.Options{Hostname: "mx.sender.test", Domain: "sender.test",
		CA: smtptest.NewCA(t), RelayHost: in.ports["smtp"]})

	if err := sendPlain(pf.Addr, "alice@sender.test", in.user, "via-postfix@sender.test"); err != nil {
		t.Fatalf("handing the message to Postfix: %v", err)
	}
	raw := in.waitForMessage(t, in.user, in.password)
	for _, want := range []string{
		"Message-ID: <via-postfix@sender.test>",
		"by mx.sender.test (Postfix)", // Postfix's own Received field
		"Authentication-Results: mx.example.test;",
		"spf=pass",
	} {
		if !strings.Contains(raw, want) {
			t.Errorf("stored message lacks %q:\n%s", want, raw)
		}
	}
	if !regexp.MustCompile(`(?m)^Received: from mx\.sender\.test`).MatchString(raw) {
		t.Errorf("no Received field of ours naming Postfix:\n%s", raw)
	}
}

// setResolver points the instance's DNS at addr.
func (in *instance) setResolver(addr string) {
	in.t.Helper()
	b, err := os.ReadFile(in.cfg)
	if err != nil {
		in.t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^(\s*resolver\s*=\s*)"[^"]*"`)
	if !re.Match(b) {
		in.t.Fatalf("config has no dns.resolver:\n%s", b)
	}
	if err := os.WriteFile(in.cfg, re.ReplaceAll(b, []byte(`${1}"`+addr+`"`)), 0o640); err != nil {
		in.t.Fatal(err)
	}
}
