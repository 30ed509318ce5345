package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestAdminCommands drives the documented admin CLI against a data
// directory, as an administrator would.
func TestAdminCommands(t *testing.T) {
	in := newInstance(t, buildBinary(t))
	cfg := "--config=" + in.cfg
	// Admin commands open the metadata store alone: a temporary blob
	// file, as a running server's Put leaves while it writes, must stay.
	inflight := filepath.Join(in.dir, "blobs", "tmp", "in-flight")
	if err := os.WriteFile(inflight, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	if out := in.run("domain", "add", "Other.Test", cfg); !strings.Contains(out, "other.test added") {
		t.Errorf("domain add: %q", out)
	}
	if out := in.run("domain", "list", cfg); !strings.Contains(out, "example.test") || !strings.Contains(out, "other.test") {
		t.Errorf("domain list: %q", out)
	}
	in.runInput("a-long-password\n", "account", "add", "bob@other.test", cfg)
	in.runInput("another-password\n", "account", "passwd", "bob@other.test", cfg)
	out := in.run("account", "list", cfg)
	if !strings.Contains(out, "bob@other.test") || !strings.Contains(out, "MESSAGES") || !strings.Contains(out, in.user) {
		t.Errorf("account list: %q", out)
	}
	in.run("alias", "add", "team@other.test", "bob@other.test", in.user, cfg)
	in.run("alias", "add", "@other.test", "bob@other.test", cfg)
	out = in.run("alias", "list", cfg)
	if !strings.Contains(out, "team@other.test -> bob@other.test, "+in.user) || !strings.Contains(out, "@other.test -> bob@other.test") {
		t.Errorf("alias list: %q", out)
	}

	// Refusals: a short password, a password on argv is impossible, an
	// account in an unknown domain, removing a domain that has accounts.
	for _, c := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"short\n", []string{"account", "add", "carol@other.test", cfg}, "shorter than 8"},
		{"a-long-password\n", []string{"account", "add", "carol@nowhere.test", cfg}, "not local"},
		{"", []string{"domain", "remove", "other.test", cfg}, "still has accounts"},
		{"", []string{"account", "add", "carol@other.test", cfg}, "no password"},
		{"", []string{"frobnicate"}, "unknown command"},
	} {
		cmd := exec.Command(in.bin, c.args...)
		cmd.Stdin = strings.NewReader(c.stdin)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), c.want) {
			t.Errorf("freehold %v: err=%v out=%q; want failure with %q", c.args, err, out, c.want)
		}
	}

	in.run("alias", "remove", "team@other.test", cfg)
	in.run("alias", "remove", "@other.test", cfg)
	in.run("account", "remove", "bob@other.test", cfg)
	in.run("domain", "remove", "other.test", cfg)
	if out := in.run("domain", "list", cfg); strings.Contains(out, "other.test") {
		t.Errorf("domain still listed after remove: %q", out)
	}

	// Outbound administration: DKIM keys made with the domain, rotation,
	// the DNS records to publish, the queue.
	if out := in.run("dkim", "list", "example.test", cfg); strings.Count(out, "active") != 2 {
		t.Errorf("dkim list: %q", out)
	}
	in.run("dkim", "rotate", "example.test", cfg)
	if out := in.run("dkim", "list", "example.test", cfg); strings.Count(out, "pending") != 2 {
		t.Errorf("dkim list after rotate: %q", out)
	}
	out = in.run("dns", "example.test", cfg)
	for _, want := range []string{"example.test. 3600 IN MX 10 mx.example.test.", "_domainkey.example.test.", "v=DMARC1", "_mta-sts.example.test.", "_submissions._tcp.example.test."} {
		if !strings.Contains(out, want) {
			t.Errorf("dns output lacks %q:\n%s", want, out)
		}
	}
	if out := in.run("queue", "list", cfg); !strings.HasPrefix(out, "ID") {
		t.Errorf("queue list: %q", out)
	}
	if _, err := os.Stat(inflight); err != nil {
		t.Errorf("an admin command removed the blob store's temporary file: %v", err)
	}

	// Schema: roll back to the first version, then any normal open
	// migrates forward again.
	out = in.run("schema", cfg)
	var latest int
	if _, err := fmt.Sscanf(out, "schema version %d", &latest); err != nil || latest < 2 {
		t.Fatalf("schema: %q", out)
	}
	if out := in.run("schema", "--to", "1", cfg); out != "schema version 1\n" {
		t.Errorf("schema --to 1: %q", out)
	}
	if out := in.run("schema", cfg); out != "schema version 1\n" {
		t.Errorf("schema after rollback: %q", out)
	}
	in.run("domain", "list", cfg)
	if out := in.run("schema", cfg); out != fmt.Sprintf("schema version %d\n", latest) {
		t.Errorf("schema after reopening: %q; want version %d", out, latest)
	}

	// A config with an unknown key is refused with file and line.
	bad := in.cfg + ".bad"
	data, _ := os.ReadFile(in.cfg)
	os.WriteFile(bad, append(data, []byte("\n[smtp]\nmax_recipientz = 3\n")...), 0o600)
	cmd := exec.Command(in.bin, "serve", "--config", bad)
	outb, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(outb), bad+":") {
		t.Errorf("serve with a bad config: err=%v out=%q", err, outb)
	}
}
