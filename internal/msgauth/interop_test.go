package msgauth_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"freehold/internal/msgauth"
)

// runTool runs an external verifier or signer, skipping the test when it
// is not installed.
func runTool(t *testing.T, stdin []byte, name string, args ...string) string {
	t.Helper()
	if _, err := os.Stat(name); err != nil {
		if _, err := exec.LookPath(name); err != nil {
			t.Skipf("%s not installed", name)
		}
	}
	cmd := exec.Command(name, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, stderr.String())
	}
	return string(out)
}

// TestOurSignaturesVerifyElsewhere checks that dkimpy and Mail::DKIM,
// fetching keys from the test DNS server, accept both our signatures and
// refuse them after a one-byte change.
func TestOurSignaturesVerifyElsewhere(t *testing.T) {
	f := newFixture(t)
	host, port, _ := net.SplitHostPort(f.srv.Addr)
	signed := f.sign(t, testMessage)
	tampered := bytes.Replace(signed, []byte("Hello Bob"), []byte("Hello Bo!"), 1)

	pl, _ := filepath.Abs("testdata/maildkim_verify.pl")
	if _, err := os.Stat("/usr/share/perl5/Mail/DKIM.pm"); err != nil {
		t.Skip("Mail::DKIM not installed (libmail-dkim-perl)")
	}
	// Mail::DKIM (1.20230212) does not know Ed25519 (RFC 8463) and calls
	// that signature "invalid"; it is why we sign with RSA too.
	for _, tool := range []struct {
		name string
		args []string
		want string // results of the Ed25519 and RSA signatures
	}{
		{"/usr/bin/python3", []string{"testdata/dkimpy_verify.py", host, port}, "pass pass"},
		{"/usr/bin/perl", []string{pl, host, port}, "invalid pass"},
	} {
		got := strings.Join(strings.Fields(runTool(t, signed, tool.name, tool.args...)), " ")
		if got != tool.want {
			t.Errorf("%s %s: %q, want %q", tool.name, tool.args[0], got, tool.want)
		}
		got = strings.Join(strings.Fields(runTool(t, tampered, tool.name, tool.args...)), " ")
		if strings.Contains(got, "pass") || len(strings.Fields(got)) != 2 {
			t.Errorf("%s %s on a tampered message: %q, want failures", tool.name, tool.args[0], got)
		}
	}
}

// TestDkimpySignaturesVerifyHere checks that our verifier accepts
// messages signed by dkimpy's dkimsign (RSA and Ed25519, relaxed and
// simple) and refuses them after a one-byte body change.
func TestDkimpySignaturesVerifyHere(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	rsaFile := filepath.Join(dir, "rsa.pem")
	der := x509.MarshalPKCS1PrivateKey(f.rsa)
	if err := os.WriteFile(rsaFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	edFile := filepath.Join(dir, "ed.key")
	if err := os.WriteFile(edFile, []byte(base64.StdEncoding.EncodeToString(f.ed.Seed())), 0o600); err != nil {
		t.Fatal(err)
	}
	f.publishKey("py-rsa", "example.org", f.rsa)
	f.publishKey("py-ed", "example.org", f.ed)

	for _, c := range []struct {
		selector, key, alg, bcanon string
	}{
		{"py-rsa", rsaFile, "rsa-sha256", "relaxed"},
		{"py-rsa", rsaFile, "rsa-sha256", "simple"},
		{"py-ed", edFile, "ed25519-sha256", "relaxed"},
	} {
		// dkimsign prints the signature followed by the message.
		out := runTool(t, []byte(testMessage), "/usr/bin/dkimsign", "--hcanon", "relaxed", "--bcanon", c.bcanon,
			"--signalg", c.alg, c.selector, "example.org", c.key)
		if !strings.HasPrefix(out, "DKIM-Signature:") || !strings.HasSuffix(out, testMessage) {
			t.Fatalf("dkimsign output: %q", out)
		}
		signed := []byte(out)
		in := msgauth.In{RemoteIP: netip.MustParseAddr("198.51.100.1"), HELO: "x.example", MailFrom: "a@x.example", Raw: signed}
		res := f.verifier.Verify(context.Background(), in)
		if len(res.DKIM) != 1 || res.DKIM[0].Result != "pass" || res.DMARC.Result != "pass" {
			t.Errorf("%s/%s: %+v %+v", c.alg, c.bcanon, res.DKIM, res.DMARC)
		}
		in.Raw = bytes.Replace(signed, []byte("With  spaces"), []byte("With  spaced"), 1)
		res = f.verifier.Verify(context.Background(), in)
		if len(res.DKIM) != 1 || res.DKIM[0].Result != "fail" || res.Action != msgauth.Reject {
			t.Errorf("%s/%s tampered: %+v action %v", c.alg, c.bcanon, res.DKIM, res.Action)
		}
	}
}
