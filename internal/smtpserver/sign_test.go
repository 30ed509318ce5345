package smtpserver

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"freehold/internal/dnsutil"
	"freehold/internal/msgauth"
	"freehold/internal/store"
	"freehold/internal/testutil/dnstest"
)

// testKeys is a msgauth.KeySource with an Ed25519 and an RSA key for
// example.org, and the DNS TXT records publishing them.
type testKeys struct {
	keys []msgauth.SigningKey
	txt  map[string]string
	err  error // returned by SigningKeys when set
}

func newTestKeys(t *testing.T) *testKeys {
	t.Helper()
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rk, err := rsa.GenerateKey(rand.Reader, 1024) // small: key generation time adds up in tests
	if err != nil {
		t.Fatal(err)
	}
	k := &testKeys{txt: map[string]string{}}
	for _, sk := range []struct {
		sel string
		key crypto.Signer
	}{{"ed", ed}, {"rs", rk}} {
		k.keys = append(k.keys, msgauth.SigningKey{Domain: "example.org", Selector: sk.sel, Key: sk.key})
		var rec string
		switch pub := sk.key.Public().(type) {
		case ed25519.PublicKey:
			rec = "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)
		case *rsa.PublicKey:
			der, err := x509.MarshalPKIXPublicKey(pub)
			if err != nil {
				t.Fatal(err)
			}
			rec = "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)
		}
		k.txt[sk.sel+"._domainkey.example.org"] = rec
	}
	return k
}

func (k *testKeys) SigningKeys(_ context.Context, domain string) ([]msgauth.SigningKey, error) {
	if k.err != nil {
		return nil, k.err
	}
	if domain == "example.org" {
		return k.keys, nil
	}
	return nil, nil
}

// verify checks every DKIM signature of raw against the published keys
// and returns the verified signing domains.
func (k *testKeys) verify(t *testing.T, raw string) []string {
	t.Helper()
	vs, err := dkim.VerifyWithOptions(strings.NewReader(raw), &dkim.VerifyOptions{
		LookupTXT: func(name string) ([]string, error) {
			if r, ok := k.txt[strings.TrimSuffix(name, ".")]; ok {
				return []string{r}, nil
			}
			return nil, fmt.Errorf("no TXT record for %s", name)
		},
	})
	if err != nil {
		t.Fatalf("dkim.Verify: %v", err)
	}
	var out []string
	for _, v := range vs {
		if v.Err != nil {
			t.Errorf("signature of %s (%s): %v", v.Domain, v.Identifier, v.Err)
			continue
		}
		out = append(out, v.Domain)
	}
	return out
}

func TestSubmissionDKIMSigned(t *testing.T) {
	e := newRealEnv(t)
	keys := newTestKeys(t)
	ts := e.start(t, Options{Mode: ModeSubmission, ImplicitTLS: true, Signer: msgauth.NewSigner(keys)})
	d := loginSubmission(t, ts, "bob@example.org", "bob-pw")
	// No Date or Message-ID: the server adds them before signing, so the
	// signature covers them. The dot line goes out dot-stuffed.
	d.transaction("bob@example.org", []string{"alice@example.org", "carol@remote.example"},
		"From: Bob <bob@example.org>\r\nTo: alice@example.org, carol@remote.example\r\nSubject: signed\r\n\r\n"+
			"Hello  there,\r\n.dot line\r\n", "250 2.0.0")
	local := e.onlyMessage(t, "alice@example.org")
	q, err := e.st.QueueList(context.Background())
	if err != nil || len(q) != 1 {
		t.Fatalf("queue %v %v", q, err)
	}
	queued := e.body(t, q[0].BlobID)
	for name, raw := range map[string]string{"local copy": local, "queued copy": queued} {
		if n := strings.Count(raw, "DKIM-Signature:"); n != 2 {
			t.Errorf("%s has %d signatures, want 2:\n%s", name, n, raw)
		}
		if got := keys.verify(t, raw); len(got) != 2 || got[0] != "example.org" || got[1] != "example.org" {
			t.Errorf("%s: verified %v", name, got)
		}
		// Our Received is above the signatures, the message below them.
		if r, s := strings.Index(raw, "Received: "), strings.Index(raw, "DKIM-Signature:"); r < 0 || s < r {
			t.Errorf("%s: Received must precede DKIM-Signature:\n%s", name, raw)
		}
		for _, h := range []string{"\r\nDate: ", "\r\nMessage-ID: <"} {
			if !strings.Contains(raw, h) {
				t.Errorf("%s lacks %q", name, h)
			}
		}
	}
	// A changed body no longer verifies: the check above is a real one.
	tampered := strings.Replace(queued, "Hello  there", "Hello there!", 1)
	vs, _ := dkim.VerifyWithOptions(strings.NewReader(tampered), &dkim.VerifyOptions{
		LookupTXT: func(name string) ([]string, error) { return []string{keys.txt[strings.TrimSuffix(name, ".")]}, nil },
	})
	for _, v := range vs {
		if v.Err == nil {
			t.Error("tampered message verified")
		}
	}
	if rcv := ts.mlog.events("received"); len(rcv) != 1 || rcv[0]["signed"] != true {
		t.Errorf("received events: %v", rcv)
	}
}

func TestSubmissionSigningFailures(t *testing.T) {
	e := newRealEnv(t)
	ctx := context.Background()
	if err := e.st.SetAlias(ctx, store.Alias{Address: "al@example.net", Targets: []string{"alice@example.org"}}); err != nil {
		t.Fatal(err)
	}
	keys := newTestKeys(t)
	ts := e.start(t, Options{Mode: ModeSubmission, ImplicitTLS: true, Signer: msgauth.NewSigner(keys)})
	d := loginSubmission(t, ts, "alice@example.org", "alice-pw")
	// Two author domains: no single signing domain, sent unsigned.
	d.transaction("alice@example.org", []string{"bob@example.org"},
		"From: alice@example.org, al@example.net\r\nSubject: two domains\r\n\r\nx\r\n", "250 2.0.0")
	msgs := e.inbox(t, "bob@example.org")
	if len(msgs) != 1 || strings.Contains(e.body(t, msgs[0].BlobID), "DKIM-Signature") {
		t.Fatalf("bob's inbox %+v", msgs)
	}
	// The key store fails: refused for now, nothing stored.
	keys.err = errors.New("key store unreachable")
	d.transaction("alice@example.org", []string{"bob@example.org"}, "From: alice@example.org\r\n\r\nx\r\n", "451 4.3.0")
	if n := len(e.inbox(t, "bob@example.org")); n != 1 {
		t.Errorf("bob has %d messages, want 1", n)
	}
	rej := ts.mlog.events("rejected")
	if len(rej) != 1 || !strings.Contains(rej[0]["reason"].(string), "DKIM signing") {
		t.Errorf("rejected events: %v", rej)
	}
	if rcv := ts.mlog.events("received"); len(rcv) != 1 || rcv[0]["signed"] != nil {
		t.Errorf("received events: %v", rcv)
	}
}

// TestSignedSubmissionVerifiesOnMX sends a message through submission,
// takes the signed form the queue would send, and delivers it to an MX
// whose real msgauth.Verifier resolves the published keys: DKIM passes.
func TestSignedSubmissionVerifiesOnMX(t *testing.T) {
	e := newRealEnv(t)
	keys := newTestKeys(t)
	sub := e.start(t, Options{Mode: ModeSubmission, ImplicitTLS: true, Signer: msgauth.NewSigner(keys)})
	d := loginSubmission(t, sub, "bob@example.org", "bob-pw")
	d.transaction("bob@example.org", []string{"carol@remote.example"}, "From: bob@example.org\r\nSubject: across\r\n\r\nbody\r\n", "250")
	q, err := e.st.QueueList(context.Background())
	if err != nil || len(q) != 1 {
		t.Fatalf("queue %v %v", q, err)
	}
	signed := e.body(t, q[0].BlobID)

	dnsSrv := dnstest.New(t)
	for name, rec := range keys.txt {
		dnsSrv.AddTXT(name+".", rec)
	}
	res, err := dnsutil.New(dnsutil.Options{Server: dnsSrv.Addr, Timeout: time.Second, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	mxEnv := newRealEnv(t)
	v := msgauth.NewVerifier(msgauth.VerifierOptions{Resolver: res, Hostname: "mx.test"})
	mx := mxEnv.start(t, Options{Verifier: v})
	sendMX(t, mx, "alice@example.org", signed, "250")
	stored := mxEnv.onlyMessage(t, "alice@example.org")
	if !strings.Contains(stored, "dkim=pass header.d=example.org header.s=ed") || !strings.Contains(stored, "dkim=pass header.d=example.org header.s=rs") {
		t.Errorf("stored:\n%s", stored)
	}
	if !bytes.HasSuffix([]byte(stored), []byte(signed)) {
		t.Error("the MX must store the signed message unchanged below its own fields")
	}
}
