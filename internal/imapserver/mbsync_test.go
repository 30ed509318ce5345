package imapserver

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"freehold/internal/store"
)

// mbsyncEnv is a Maildir on disk synchronised with INBOX by mbsync.
type mbsyncEnv struct {
	t       *testing.T
	bin     string
	config  string
	maildir string
}

func newMbsync(t *testing.T, e *testEnv) *mbsyncEnv {
	bin, err := exec.LookPath("mbsync")
	if err != nil {
		t.Skip("mbsync (isync) not installed")
	}
	dir := t.TempDir()
	certFile := filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(certFile, e.cert, 0o600); err != nil {
		t.Fatal(err)
	}
	host, port, _ := strings.Cut(e.addr, ":")
	m := &mbsyncEnv{t: t, bin: bin, maildir: filepath.Join(dir, "mail")}
	os.MkdirAll(m.maildir, 0o700)
	cfg := fmt.Sprintf(`IMAPAccount fh
Host %s
Port %s
User alice@example.org
Pass "%s"
SSLType STARTTLS
CertificateFile %s
AuthMechs PLAIN
PipelineDepth 50
Timeout 120

IMAPStore far
Account fh

MaildirStore near
Path %s/
Inbox %s/INBOX
SubFolders Verbatim

Channel box
Far :far:
Near :near:
Patterns INBOX
Create Both
Expunge Both
SyncState *
Sync All
`, host, port, testPassword, certFile, m.maildir, m.maildir)
	m.config = filepath.Join(dir, "mbsyncrc")
	if err := os.WriteFile(m.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return m
}

// statsRE reads mbsync's progress counters (printed on a terminal):
// "F: +1/1 *0/0 #0/0  N: +2000/2000 *0/0 #0/0", far side then near side:
// messages added, flags updated, trashed.
var statsRE = regexp.MustCompile(`F: \+(\d+)/\d+ \*(\d+)/\d+ #(\d+)/\d+  N: \+(\d+)/\d+ \*(\d+)/\d+ #(\d+)/\d+`)

// run syncs and returns mbsync's final counters as
// "far +A *F #T, near +A *F #T". mbsync prints them only to a
// terminal, so it runs under script(1)'s pseudo-terminal.
func (m *mbsyncEnv) run() string {
	m.t.Helper()
	script, err := exec.LookPath("script")
	if err != nil {
		m.t.Skip("script(1) not installed")
	}
	cmdline := fmt.Sprintf("%s -c %s -a", m.bin, m.config)
	out, err := exec.Command(script, "-qefc", cmdline, "/dev/null").CombinedOutput()
	if err != nil {
		m.t.Fatalf("mbsync: %v\n%s", err, out)
	}
	all := statsRE.FindAllStringSubmatch(string(out), -1)
	if len(all) == 0 {
		m.t.Fatalf("no counters in mbsync output:\n%q", out[max(0, len(out)-2000):])
	}
	s := all[len(all)-1]
	return fmt.Sprintf("far +%s *%s #%s, near +%s *%s #%s", s[1], s[2], s[3], s[4], s[5], s[6])
}

// files lists the INBOX Maildir's messages by name.
func (m *mbsyncEnv) files() []string {
	var out []string
	for _, sub := range []string{"cur", "new"} {
		ents, _ := os.ReadDir(filepath.Join(m.maildir, "INBOX", sub))
		for _, e := range ents {
			out = append(out, filepath.Join(sub, e.Name()))
		}
	}
	return out
}

// TestMbsync: a full two-way sync of a 2,000-message mailbox, a re-sync
// that transfers nothing, then flag changes on both sides.
func TestMbsync(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	e := newTestEnv(t)
	a := e.addUser("alice@example.org")
	const n = 2000
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				e.appendMsg(a, "INBOX", testMessage(i, fmt.Sprint("bulk ", i)))
			}
		}()
	}
	wg.Wait()
	m := newMbsync(t, e)

	// First sync: everything comes down; a message written locally
	// beforehand goes up.
	os.MkdirAll(filepath.Join(m.maildir, "INBOX", "cur"), 0o700)
	os.MkdirAll(filepath.Join(m.maildir, "INBOX", "new"), 0o700)
	os.MkdirAll(filepath.Join(m.maildir, "INBOX", "tmp"), 0o700)
	local := "From: me@example.org\r\nSubject: written offline\r\nMessage-ID: <offline@x>\r\n\r\nlocal\r\n"
	if err := os.WriteFile(filepath.Join(m.maildir, "INBOX", "cur", "1700000000.local:2,S"), []byte(local), 0o600); err != nil {
		t.Fatal(err)
	}
	if stats := m.run(); stats != fmt.Sprintf("far +1 *0 #0, near +%d *0 #0", n) {
		t.Fatalf("first sync: %s", stats)
	}
	if got := len(m.files()); got != n+1 {
		t.Fatalf("Maildir holds %d messages, want %d", got, n+1)
	}
	mb, _ := e.st.MailboxByName(context.Background(), a.ID, "INBOX")
	st, _ := e.st.MailboxStatus(context.Background(), a.ID, mb.ID)
	if st.Messages != n+1 {
		t.Fatalf("server holds %d messages", st.Messages)
	}

	// Second sync: nothing to do, on either side.
	before := st.HighestModSeq
	names := m.files()
	if stats := m.run(); stats != "far +0 *0 #0, near +0 *0 #0" {
		t.Fatalf("re-sync transferred something: %s", stats)
	}
	if after := m.files(); strings.Join(after, "\n") != strings.Join(names, "\n") {
		t.Fatal("re-sync changed the Maildir")
	}
	st, _ = e.st.MailboxStatus(context.Background(), a.ID, mb.ID)
	if st.HighestModSeq != before {
		t.Fatalf("re-sync changed the server: modseq %d -> %d", before, st.HighestModSeq)
	}

	// Flags changed on both sides meet.
	entries, _ := e.st.Entries(context.Background(), a.ID, mb.ID)
	if _, _, err := e.st.UpdateKeywords(context.Background(), a.ID, store.KeywordUpdate{
		Mailbox: mb.ID, UIDs: []store.UID{entries[0].UID, entries[1].UID}, Mode: store.KeywordsAdd, Keywords: []string{store.KeywordFlagged},
	}); err != nil {
		t.Fatal(err)
	}
	renamed := 0
	for _, f := range m.files() {
		if renamed == 3 || !strings.HasSuffix(f, ":2,") {
			continue
		}
		old := filepath.Join(m.maildir, "INBOX", f)
		if err := os.Rename(old, old+"S"); err != nil {
			t.Fatal(err)
		}
		renamed++
	}
	if stats := m.run(); stats != "far +0 *3 #0, near +0 *2 #0" {
		t.Fatalf("flag sync: %s", stats)
	}
	flagged := 0
	for _, f := range m.files() {
		if strings.Contains(f[strings.LastIndex(f, ":2,"):], "F") {
			flagged++
		}
	}
	if flagged != 2 {
		t.Fatalf("%d flagged files locally, want 2", flagged)
	}
	st, _ = e.st.MailboxStatus(context.Background(), a.ID, mb.ID)
	if want := uint32(n + 1 - 1 - 3); st.Unseen != want { // the offline one was seen
		t.Fatalf("server unseen %d, want %d", st.Unseen, want)
	}
	if stats := m.run(); stats != "far +0 *0 #0, near +0 *0 #0" {
		t.Fatalf("final re-sync: %s", stats)
	}
}
