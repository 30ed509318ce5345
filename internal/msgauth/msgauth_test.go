package msgauth_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"freehold/internal/dnsutil"
	"freehold/internal/msgauth"
	"freehold/internal/msgauth/spf"
	"freehold/internal/testutil/dnstest"
)

// staticKeys is a KeySource with fixed keys.
type staticKeys map[string][]msgauth.SigningKey

func (s staticKeys) SigningKeys(_ context.Context, domain string) ([]msgauth.SigningKey, error) {
	return s[domain], nil
}

type fixture struct {
	srv      *dnstest.Server
	resolver *dnsutil.Resolver
	signer   *msgauth.Signer
	verifier *msgauth.Verifier
	ed       ed25519.PrivateKey
	rsa      *rsa.PrivateKey
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{srv: dnstest.New(t)}
	var err error
	f.resolver, err = dnsutil.New(dnsutil.Options{Server: f.srv.Addr, Timeout: 200 * time.Millisecond, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, f.ed, _ = ed25519.GenerateKey(rand.Reader)
	f.rsa = testRSAKey(t)
	f.signer = msgauth.NewSigner(staticKeys{"example.org": {
		{Domain: "example.org", Selector: "ed", Key: f.ed},
		{Domain: "example.org", Selector: "rs", Key: f.rsa},
	}})
	f.publishKey("ed", "example.org", f.ed)
	f.publishKey("rs", "example.org", f.rsa)
	f.srv.AddTXT("_dmarc.example.org.", "v=DMARC1; p=reject; rua=mailto:dmarc@example.org")
	f.srv.AddTXT("example.org.", "v=spf1 ip4:192.0.2.0/24 -all")
	f.verifier = msgauth.NewVerifier(msgauth.VerifierOptions{Resolver: f.resolver, Hostname: "mx.freehold.test"})
	return f
}

// sharedRSAKey is generated once per test binary: RSA generation is slow.
var sharedRSAKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func testRSAKey(*testing.T) *rsa.PrivateKey { return sharedRSAKey() }

func (f *fixture) publishKey(selector, domain string, key crypto.Signer) {
	switch pub := key.Public().(type) {
	case ed25519.PublicKey:
		f.srv.AddTXT(selector+"._domainkey."+domain+".", "v=DKIM1; k=ed25519; p="+base64.StdEncoding.EncodeToString(pub))
	case *rsa.PublicKey:
		der, _ := x509.MarshalPKIXPublicKey(pub)
		f.srv.AddTXT(selector+"._domainkey."+domain+".", "v=DKIM1; k=rsa; p="+base64.StdEncoding.EncodeToString(der))
	}
}

const testMessage = "From: Alice <alice@example.org>\r\n" +
	"To: bob@example.net\r\n" +
	"Subject: Hello\r\n" +
	"Date: Mon, 02 Mar 2026 10:00:00 +0100\r\n" +
	"Message-ID: <1@example.org>\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"\r\n" +
	"Hello Bob,\r\n" +
	"\r\n" +
	"this is a test.  With  spaces.\r\n"

func (f *fixture) sign(t *testing.T, msg string) []byte {
	t.Helper()
	sig, err := f.signer.Sign(context.Background(), []byte(msg))
	if err != nil {
		t.Fatal(err)
	}
	return append(sig, msg...)
}

func TestSignVerify(t *testing.T) {
	f := newFixture(t)
	signed := f.sign(t, testMessage)
	if n := bytes.Count(signed, []byte("DKIM-Signature:")); n != 2 {
		t.Fatalf("%d signatures, want 2 (ed25519 and rsa)", n)
	}
	hdr := string(signed[:bytes.Index(signed, []byte("\r\n\r\n"))])
	for _, want := range []string{"a=ed25519-sha256", "a=rsa-sha256", "c=relaxed/relaxed", "d=example.org", "s=ed", "s=rs"} {
		if !strings.Contains(strings.ReplaceAll(hdr, "\r\n ", ""), want) {
			t.Errorf("signature lacks %s:\n%s", want, hdr)
		}
	}
	// From is oversigned: listed once more than it occurs.
	if !strings.Contains(strings.ReplaceAll(strings.ReplaceAll(hdr, "\r\n", ""), " ", ""), "From:From") {
		t.Errorf("From not oversigned:\n%s", hdr)
	}

	res := f.verifier.Verify(context.Background(), msgauth.In{
		RemoteIP: netip.MustParseAddr("192.0.2.10"), HELO: "mail.example.org", MailFrom: "alice@example.org", Raw: signed,
	})
	if len(res.DKIM) != 2 || res.DKIM[0].Result != "pass" || res.DKIM[1].Result != "pass" {
		t.Fatalf("DKIM: %+v", res.DKIM)
	}
	if res.SPF.Result != spf.Pass || res.DMARC.Result != "pass" || res.Action != msgauth.Accept {
		t.Fatalf("SPF %v DMARC %+v action %v", res.SPF.Result, res.DMARC, res.Action)
	}
	ar := res.AuthResults
	for _, want := range []string{"Authentication-Results: mx.freehold.test;", "spf=pass smtp.mailfrom=alice@example.org",
		"dkim=pass header.d=example.org header.s=ed", "dmarc=pass header.from=example.org"} {
		if !strings.Contains(ar, want) {
			t.Errorf("Authentication-Results lacks %q:\n%s", want, ar)
		}
	}
	if !strings.HasSuffix(ar, "\r\n") {
		t.Error("header not CRLF-terminated")
	}

	// One byte of body changed: both signatures fail, SPF from a foreign
	// address fails, DMARC fails with p=reject.
	tampered := bytes.Replace(signed, []byte("a test."), []byte("a test!"), 1)
	res = f.verifier.Verify(context.Background(), msgauth.In{
		RemoteIP: netip.MustParseAddr("198.51.100.7"), HELO: "evil.example", MailFrom: "alice@example.org", Raw: tampered,
	})
	if res.DKIM[0].Result != "fail" || res.DKIM[1].Result != "fail" {
		t.Fatalf("tampered DKIM: %+v", res.DKIM)
	}
	if res.SPF.Result != spf.Fail || res.DMARC.Result != "fail" || res.Action != msgauth.Reject {
		t.Fatalf("tampered: SPF %v DMARC %+v action %v", res.SPF.Result, res.DMARC, res.Action)
	}
	if !strings.Contains(res.AuthResults, "dmarc=fail (p=reject dis=REJECT)") {
		t.Errorf("A-R: %s", res.AuthResults)
	}

	// A changed header that is signed breaks it too; an added unsigned
	// header does not.
	added := append([]byte("X-Mailer: relay\r\n"), signed...)
	res = f.verifier.Verify(context.Background(), msgauth.In{RemoteIP: netip.MustParseAddr("198.51.100.7"), HELO: "x.example", MailFrom: "", Raw: added})
	if res.DKIM[0].Result != "pass" || res.DMARC.Result != "pass" || res.SPF.Domain != "x.example" {
		t.Fatalf("unsigned header added: %+v %+v %+v", res.DKIM, res.DMARC, res.SPF)
	}
	added = append([]byte("From: mallory@example.org\r\n"), signed...)
	res = f.verifier.Verify(context.Background(), msgauth.In{RemoteIP: netip.MustParseAddr("198.51.100.7"), HELO: "x.example", Raw: added})
	if res.DKIM[0].Result == "pass" {
		t.Fatal("second From added and the oversigned signature still passes")
	}
}

func TestDMARCPolicies(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	msg := func(from string) []byte {
		return []byte(strings.Replace(testMessage, "alice@example.org", from, 1))
	}
	in := func(raw []byte) msgauth.In {
		return msgauth.In{RemoteIP: netip.MustParseAddr("198.51.100.7"), HELO: "x.example", MailFrom: "bounce@other.example", Raw: raw}
	}
	f.srv.AddTXT("_dmarc.quar.example.", "v=DMARC1; p=quarantine")
	f.srv.AddTXT("_dmarc.org.example.", "v=DMARC1; p=none; sp=reject")
	f.srv.AddTXT("_dmarc.pct.example.", "v=DMARC1; p=reject; pct=0")
	f.srv.AddTXT("_dmarc.garbage.example.", "v=DMARC1; p=reject; rf=nonsense; ri=-3; pct=x%%%")
	f.srv.AddTXT("_dmarc.twice.example.", "v=DMARC1; p=reject")
	f.srv.AddTXT("_dmarc.twice.example.", "v=DMARC1; p=none")
	f.srv.AddTXT("_dmarc.junk.example.", "v=DMARC1; p=whatever")
	f.srv.Fail("_dmarc.broken.example", dnstest.ServFail)
	f.srv.Fail("_dmarc.garbled.example", dnstest.Garbage)

	cases := []struct {
		from, result string
		action       msgauth.Action
	}{
		{"a@quar.example", "fail", msgauth.Quarantine},
		{"a@sub.org.example", "fail", msgauth.Reject}, // sp= of the organizational domain
		{"a@org.example", "fail", msgauth.Accept},
		{"a@pct.example", "fail", msgauth.Quarantine}, // outside the sample: one step down
		{"a@garbage.example", "fail", msgauth.Reject}, // bad optional tags do not void p=
		{"a@twice.example", "none", msgauth.Accept},   // two records: no policy
		{"a@junk.example", "none", msgauth.Accept},
		{"a@nopolicy.example", "none", msgauth.Accept},
		{"a@broken.example", "temperror", msgauth.Accept},
		{"a@garbled.example", "temperror", msgauth.Accept},
	}
	for _, c := range cases {
		res := f.verifier.Verify(ctx, in(msg(c.from)))
		if res.DMARC.Result != c.result || res.Action != c.action {
			t.Errorf("%s: DMARC %s action %v, want %s %v", c.from, res.DMARC.Result, res.Action, c.result, c.action)
		}
	}
	// Two authors: the strictest policy applies.
	two := []byte(strings.Replace(testMessage, "From: Alice <alice@example.org>", "From: a@nopolicy.example, b@example.org", 1))
	if res := f.verifier.Verify(ctx, in(two)); res.Action != msgauth.Reject {
		t.Errorf("two authors: %+v", res.DMARC)
	}
	// No From at all.
	if res := f.verifier.Verify(ctx, in([]byte("Subject: x\r\n\r\nbody\r\n"))); res.DMARC.Result != "permerror" || res.Action != msgauth.Accept {
		t.Errorf("no From: %+v", res.DMARC)
	}
	// Relaxed alignment: a signature by a parent domain aligns, strict
	// alignment refuses it.
	f.srv.AddTXT("_dmarc.news.example.org.", "v=DMARC1; p=reject; adkim=s")
	news := []byte(strings.Replace(testMessage, "alice@example.org", "alice@news.example.org", 1))
	sig, err := f.signer.SignDomain(ctx, "example.org", news)
	if err != nil {
		t.Fatal(err)
	}
	signed := append(sig, news...)
	if res := f.verifier.Verify(ctx, in(signed)); res.DMARC.Result != "fail" {
		t.Errorf("strict alignment: %+v", res.DMARC)
	}
	f.srv.Remove("_dmarc.news.example.org", 16)
	if res := f.verifier.Verify(ctx, in(signed)); res.DMARC.Result != "pass" || !res.DMARC.DKIMAligned {
		t.Errorf("relaxed alignment: %+v", res.DMARC)
	}
}

func TestHostileDKIM(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.srv.AddTXT("bad._domainkey.example.org.", "v=DKIM1; k=rsa; p=!!!notbase64")
	f.srv.AddTXT("short._domainkey.example.org.", "v=DKIM1; k=rsa; p=MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8QuKUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQ==")
	f.srv.Fail("slow._domainkey.example.org", dnstest.Timeout)
	sigs := []string{
		"DKIM-Signature: garbage\r\n",
		"DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=bad; h=from; bh=AAAA; b=AAAA\r\n",
		"DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=short; h=from; bh=AAAA; b=AAAA\r\n",
		"DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=slow; h=from; bh=AAAA; b=AAAA\r\n",
		"DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=none; h=from; bh=AAAA; b=AAAA; l=5\r\n",
		"DKIM-Signature: v=1; a=rsa-sha1; d=example.org; s=rs; h=from; bh=AAAA; b=AAAA\r\n",
		"DKIM-Signature: v=1; a=ed25519-sha256; d=evil.example; s=ed; h=subject; bh=====; b=\r\n",
		"DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=\x00\xff; h=from; bh=AAAA; b=AAAA\r\n",
	}
	raw := []byte(strings.Join(sigs, "") + testMessage)
	start := time.Now()
	res := f.verifier.Verify(ctx, msgauth.In{RemoteIP: netip.MustParseAddr("192.0.2.1"), HELO: "x", MailFrom: "a@example.org", Raw: raw})
	if time.Since(start) > 5*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
	if len(res.DKIM) != 5 { // MaxSignatures
		t.Fatalf("%d results, want 5 (the maximum): %+v", len(res.DKIM), res.DKIM)
	}
	for _, d := range res.DKIM {
		if d.Result == "pass" {
			t.Errorf("garbage signature passed: %+v", d)
		}
	}
	if !strings.Contains(res.AuthResults, "dkim=temperror") {
		t.Errorf("the timed-out key is not a temperror:\n%s", res.AuthResults)
	}
	// Messages that are not messages.
	for _, raw := range []string{"", "\r\n", "no header end", "From: a@example.org", ":\r\n\r\n", "From: <>\r\n\r\n"} {
		res := f.verifier.Verify(ctx, msgauth.In{RemoteIP: netip.MustParseAddr("192.0.2.1"), HELO: "x", Raw: []byte(raw)})
		if res.AuthResults == "" {
			t.Errorf("%q: no Authentication-Results", raw)
		}
	}
}

func TestStripForgedAuthResults(t *testing.T) {
	msg := "Authentication-Results: mx.freehold.test; spf=pass\r\n" +
		"Received: from x\r\n" +
		"Authentication-Results: (comment) MX.Freehold.Test.;\r\n dkim=pass header.d=bank.example\r\n" +
		"Authentication-Results: other.example; dkim=pass\r\n" +
		"Authentication-Results: mx.freehold.test.evil; dkim=pass\r\n" +
		"Subject: x\r\n\r\nAuthentication-Results: mx.freehold.test; in the body\r\n"
	got := string(msgauth.StripForgedAuthResults([]byte(msg), "mx.freehold.test"))
	want := "Received: from x\r\n" +
		"Authentication-Results: other.example; dkim=pass\r\n" +
		"Authentication-Results: mx.freehold.test.evil; dkim=pass\r\n" +
		"Subject: x\r\n\r\nAuthentication-Results: mx.freehold.test; in the body\r\n"
	if got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	clean := []byte("Subject: x\r\n\r\nbody")
	if out := msgauth.StripForgedAuthResults(clean, "mx.freehold.test"); &out[0] != &clean[0] {
		t.Error("unchanged message copied")
	}
}

func TestSignUnknownDomain(t *testing.T) {
	f := newFixture(t)
	sig, err := f.signer.Sign(context.Background(), []byte(strings.Replace(testMessage, "example.org", "unsigned.example", 1)))
	if err != nil || sig != nil {
		t.Fatalf("domain without keys: %q %v", sig, err)
	}
	if _, err := f.signer.Sign(context.Background(), []byte("Subject: no from\r\n\r\n")); err == nil {
		t.Fatal("message without From signed")
	}
	// A message without body is signed as sent (with the blank line).
	sig, err = f.signer.Sign(context.Background(), []byte("From: a@example.org\r\nSubject: x\r\n"))
	if err != nil || len(sig) == 0 {
		t.Fatalf("header-only message: %v", err)
	}
}
