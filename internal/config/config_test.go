package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const good = `hostname = "mail.example.org"
data_dir = "/var/lib/freehold"

[listen]
smtp = "0.0.0.0:25"
http = ""

[smtp]
idle_timeout = "10m"
`

func TestParseGood(t *testing.T) {
	c, err := Parse("f.toml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen.SMTP != "0.0.0.0:25" || c.Listen.HTTP != "" || c.Listen.IMAP != Default().Listen.IMAP {
		t.Errorf("listen = %+v", c.Listen)
	}
	if c.SMTP.IdleTimeout.D().Minutes() != 10 {
		t.Errorf("idle_timeout = %v", c.SMTP.IdleTimeout.D())
	}
	if c.Path("blobs") != "/var/lib/freehold/blobs" {
		t.Errorf("Path = %q", c.Path("blobs"))
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		text string
		line int
		key  string
		msg  string
	}{
		{good + "\n[listen]\n", 0, "", ""}, // duplicate table: a parse error
		{"hostname = \"a.b\"\ndata_dir = \"/x\"\nsmtpp = 1\n", 3, "smtpp", "unknown key"},
		{"hostname = \"a.b\"\ndata_dir = \"/x\"\n[listen]\nimap = \"nope\"\n", 4, "listen.imap", "not host:port"},
		{"hostname = \"a.b\"\ndata_dir = \"/x\"\n[smtp]\nidle_timeout = \"forever\"\n", 4, "", "forever"},
		{"hostname = \"a.b\"\ndata_dir = \"/x\"\n[storage]\nbackend = \"mysql\"\n", 4, "storage.backend", "must be"},
		{"data_dir = \"/x\"\n", 0, "hostname", "required"},
		{"hostname = \"a.b\"\ndata_dir = \"/x\"\n[listen]\n  bogus = \"1:2\"\n", 4, "listen.bogus", "unknown key"},
	}
	for _, c := range cases {
		_, err := Parse("f.toml", []byte(c.text))
		var ce *Error
		if !errors.As(err, &ce) {
			t.Errorf("Parse(%q) err = %v; want *Error", c.text, err)
			continue
		}
		if c.line != 0 && ce.Line != c.line {
			t.Errorf("Parse(%q) line = %d; want %d (%v)", c.text, ce.Line, c.line, err)
		}
		if c.key != "" && ce.Key != c.key {
			t.Errorf("Parse(%q) key = %q; want %q", c.text, ce.Key, c.key)
		}
		if !strings.Contains(err.Error(), c.msg) || !strings.HasPrefix(err.Error(), "f.toml") {
			t.Errorf("Parse(%q) = %q; want file name and %q", c.text, err, c.msg)
		}
	}
}

func TestWriteRoundTrip(t *testing.T) {
	c := Default()
	c.Hostname = "mx.example.net"
	c.DataDir = t.TempDir()
	p := filepath.Join(c.DataDir, "freehold.toml")
	if err := Write(p, c); err != nil {
		t.Fatal(err)
	}
	got, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if got.Hostname != c.Hostname || got.Queue.Expire != c.Queue.Expire || len(got.Queue.Retries) != len(c.Queue.Retries) {
		t.Errorf("round trip: %+v", got)
	}
	if err := Write(p, c); err == nil {
		t.Error("Write over an existing file succeeded")
	}
}

// TestReferenceUpToDate keeps docs/config.md in step with the struct tags.
func TestReferenceUpToDate(t *testing.T) {
	want := Reference()
	got, err := os.ReadFile("../../docs/config.md")
	if err != nil || string(got) != want {
		if os.Getenv("FREEHOLD_UPDATE_DOCS") == "1" {
			if err := os.WriteFile("../../docs/config.md", []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Fatalf("docs/config.md is stale; run FREEHOLD_UPDATE_DOCS=1 go test ./internal/config")
	}
	for _, key := range []string{"hostname", "data_dir", "[listen]", "`smtp`", "`imaps`", "`http`"} {
		if !strings.Contains(want, key) {
			t.Errorf("reference lacks %s", key)
		}
	}
}

func TestEveryFieldDocumented(t *testing.T) {
	ref := Reference()
	if strings.Contains(ref, "): \n") {
		t.Errorf("a field has no doc tag:\n%s", ref)
	}
}

func TestCheck(t *testing.T) {
	c := Default()
	c.DataDir = "/x"
	var ce *Error
	if err := c.Check("new.toml"); !errors.As(err, &ce) || ce.Key != "hostname" || ce.File != "new.toml" {
		t.Errorf("Check without hostname = %v", err)
	}
	c.Hostname = "mx.example.org"
	if err := c.Check("new.toml"); err != nil {
		t.Errorf("Check of a valid config = %v", err)
	}
}
