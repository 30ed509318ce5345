package msgauth_test

import (
	"bytes"
	"context"
	"net/netip"
	"testing"
	"time"

	"freehold/internal/dnsutil"
	"freehold/internal/msgauth"
	"freehold/internal/testutil/dnstest"
)

// FuzzVerify feeds arbitrary messages to the inbound checks and the
// forged-header filter: they must never panic, and the filter must only
// ever remove bytes.
func FuzzVerify(f *testing.F) {
	f.Add([]byte(testMessage))
	f.Add([]byte("DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=x; h=from; bh=; b=\r\n" + testMessage))
	f.Add([]byte("Authentication-Results: mx.freehold.test; spf=pass\r\n\tfolded\r\nFrom: a@b\r\n\r\n"))
	f.Add([]byte("From: =?x-unknown?q?=FF?= <a@example.org>, \"q\\\"\" <b@c>\n\nbody"))
	f.Add([]byte("\r\n\r\n\r\n"))
	srv := dnstest.New(f)
	r, err := dnsutil.New(dnsutil.Options{Server: srv.Addr, Timeout: 50 * time.Millisecond, Attempts: 1})
	if err != nil {
		f.Fatal(err)
	}
	srv.AddTXT("_dmarc.example.org.", "v=DMARC1; p=reject")
	v := msgauth.NewVerifier(msgauth.VerifierOptions{Resolver: r, Hostname: "mx.freehold.test"})
	f.Fuzz(func(t *testing.T, raw []byte) {
		res := v.Verify(context.Background(), msgauth.In{RemoteIP: netip.MustParseAddr("192.0.2.1"), HELO: "h", MailFrom: "a@example.org", Raw: raw})
		if res.AuthResults == "" {
			t.Fatal("no Authentication-Results")
		}
		out := msgauth.StripForgedAuthResults(raw, "mx.freehold.test")
		if len(out) > len(raw) || !bytes.HasSuffix(raw, tail(out)) {
			t.Fatalf("filter added bytes: %q -> %q", raw, out)
		}
	})
}

// tail is the part of a filtered message after its header, which the
// filter never changes.
func tail(b []byte) []byte {
	if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
		return b[i:]
	}
	return nil
}
