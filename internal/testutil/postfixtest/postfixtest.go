// Package postfixtest runs a real Postfix (Debian's postfix package) on
// loopback for tests: its master daemon in the foreground from a
// configuration in a temporary directory, accepting mail for one domain
// into a Maildir and, optionally, relaying everything else to a given
// host (Freehold's MX, in the tests where Postfix is the sending peer).
package postfixtest

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"freehold/internal/smtpclient/smtptest"
)

// Options configure a Postfix instance.
type Options struct {
	// Hostname is Postfix's myhostname, and the name in its certificate.
	Hostname string
	// Domain is accepted into the Maildir (virtual_mailbox_domains).
	Domain string
	// CA issues Postfix's certificate for STARTTLS.
	CA *smtptest.CA
	// RelayHost, when set (host:port), receives every message for other
	// domains, and clients on loopback may relay; when empty, only
	// 192.0.2.99 may relay, so Postfix refuses relaying from loopback.
	RelayHost string
}

// Postfix is a running instance.
type Postfix struct {
	Addr    string // its SMTP listener
	Maildir string // the "new" directory of the Maildir for Domain
}

const postfixMaster = "/usr/lib/postfix/sbin/master"

// Start starts Postfix, skipping the test where Postfix cannot run (not
// installed, or not root), and stops it when the test ends.
func Start(t testing.TB, o Options) *Postfix {
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

	cert := o.CA.Issue(t, o.Hostname)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})
	certPEM = append(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: o.CA.Cert.Raw})...)
	keyDER, _ := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	must(os.WriteFile(filepath.Join(dir, "cert.pem"), certPEM, 0o644))
	must(os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	addr := ln.Addr().String()
	ln.Close()

	mynetworks, relay := "192.0.2.99/32", ""
	if o.RelayHost != "" {
		host, port, err := net.SplitHostPort(o.RelayHost)
		must(err)
		mynetworks, relay = "127.0.0.0/8", fmt.Sprintf("relayhost = [%s]:%s\n", host, port)
	}
	mainCF := fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %[1]s/queue
data_directory = %[1]s/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = %[2]s
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
myhostname = %[3]s
mydestination =
alias_maps =
alias_database =
virtual_mailbox_domains = %[4]s
virtual_mailbox_base = %[1]s/mail
virtual_mailbox_maps = static:inbox/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
virtual_minimum_uid = 100
smtpd_tls_security_level = may
smtpd_tls_chain_files = %[1]s/key.pem, %[1]s/cert.pem
smtpd_tls_received_header = yes
maillog_file = /dev/stdout
smtp_tls_security_level = may
%[5]s`, dir, mynetworks, o.Hostname, o.Domain, relay)
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
	return &Postfix{Addr: addr, Maildir: filepath.Join(dir, "mail", "inbox", "new")}
}
