package queue_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"freehold/internal/msgauth"
	"freehold/internal/smtpclient/smtptest"
	"freehold/internal/store"
)

const postfixMaster = "/usr/lib/postfix/sbin/master"

// postfix runs a real Postfix on 127.0.0.1 (its master daemon in the
// foreground, from a configuration in a temporary directory), accepting
// mail for example.net into a Maildir. It returns the SMTP address and
// the Maildir's "new" directory.
func postfix(t *testing.T, ca *smtptest.CA) (addr, maildir string) {
	t.Helper()
	if _, err := os.Stat(postfixMaster); err != nil {
		t.Skip("postfix not installed")
	}
	if os.Geteuid() != 0 {
		t.Skip("postfix's master must run as root")
	}
	pf, err := user.Lookup("postfix")
	if err != nil {
		t.Skip("no postfix user")
	}
	drop, err := user.LookupGroup("postdrop")
	if err != nil {
		t.Skip("no postdrop group")
	}
	uid, _ := strconv.Atoi(pf.Uid)
	gid, _ := strconv.Atoi(drop.Gid)

	dir := t.TempDir()
	// Postfix's daemons, running as postfix and nobody, must reach it.
	for d := dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	q := filepath.Join(dir, "queue")
	must(os.MkdirAll(filepath.Join(q, "pid"), 0o755))
	for _, sub := range []string{"active", "bounce", "corrupt", "defer", "deferred", "flush", "hold", "incoming", "private", "saved", "trace"} {
		must(os.Mkdir(filepath.Join(q, sub), 0o700))
		must(os.Chown(filepath.Join(q, sub), uid, 0))
	}
	for sub, mode := range map[string]os.FileMode{"maildrop": 0o730, "public": 0o710} {
		must(os.Mkdir(filepath.Join(q, sub), mode))
		must(os.Chown(filepath.Join(q, sub), uid, gid))
		must(os.Chmod(filepath.Join(q, sub), mode))
	}
	must(os.Mkdir(filepath.Join(dir, "data"), 0o700))
	must(os.Chown(filepath.Join(dir, "data"), uid, 0))
	must(os.Mkdir(filepath.Join(dir, "mail"), 0o755))
	must(os.Chown(filepath.Join(dir, "mail"), 65534, 65534))

	cert := ca.Issue(t, "mx.example.net")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})
	certPEM = append(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})...)
	keyDER, _ := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	must(os.WriteFile(filepath.Join(dir, "cert.pem"), certPEM, 0o644))
	must(os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	addr = ln.Addr().String()
	ln.Close()

	mainCF := fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %[1]s/queue
data_directory = %[1]s/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 192.0.2.99/32
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
myhostname = mx.example.net
mydestination =
alias_maps =
alias_database =
virtual_mailbox_domains = example.net
virtual_mailbox_base = %[1]s/mail
virtual_mailbox_maps = static:inbox/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
virtual_minimum_uid = 100
smtpd_tls_security_level = may
smtpd_tls_chain_files = %[1]s/key.pem, %[1]s/cert.pem
smtpd_tls_received_header = yes
maillog_file = /dev/stdout
`, dir)
	masterCF := addr + " inet n - n - - smtpd\n"
	for _, svc := range []string{
		"pickup unix n - n 60 1 pickup", "cleanup unix n - n - 0 cleanup", "qmgr unix n - n 300 1 qmgr",
		"tlsmgr unix - - n 1000? 1 tlsmgr", "rewrite unix - - n - - trivial-rewrite",
		"bounce unix - - n - 0 bounce", "defer unix - - n - 0 bounce", "trace unix - - n - 0 bounce",
		"verify unix - - n - 1 verify", "flush unix n - n 1000? 0 flush", "proxymap unix - - n - - proxymap",
		"smtp unix - - n - - smtp", "showq unix n - n - - showq", "error unix - - n - - error",
		"retry unix - - n - - error", "discard unix - - n - - discard", "virtual unix - n n - - virtual",
		"anvil unix - - n - 1 anvil", "scache unix - - n - 1 scache", "postlog unix-dgram n - n - 1 postlogd",
	} {
		masterCF += svc + "\n"
	}
	must(os.WriteFile(filepath.Join(dir, "main.cf"), []byte(mainCF), 0o644))
	must(os.WriteFile(filepath.Join(dir, "master.cf"), []byte(masterCF), 0o644))

	cmd := exec.Command(postfixMaster, "-c", dir, "-d")
	// Its own process group: the master signals its group on exit.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	logFile, err := os.Create(filepath.Join(t.TempDir(), "postfix.log"))
	must(err)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	must(cmd.Start())
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
		if t.Failed() {
			b, _ := os.ReadFile(logFile.Name())
			t.Logf("postfix log:\n%s", b)
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logFile.Name())
			t.Fatalf("postfix did not start: %v\n%s", err, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return addr, filepath.Join(dir, "mail", "inbox", "new")
}

// TestPostfixPeer delivers through our queue to a real Postfix found
// through the test DNS: two recipients in one transaction over STARTTLS,
// a DKIM-signed message that still verifies (dkimpy, keys from the test
// DNS) after Postfix stored it, and a refusal by Postfix quoted in the
// DSN.
func TestPostfixPeer(t *testing.T) {
	e := newQEnv(t)
	ca := smtptest.NewCA(t)
	addr, maildir := postfix(t, ca)
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
