package imapserver

import (
	"bufio"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestPythonImaplib drives the server with Python's imaplib (an
// independent client): STARTTLS, login, append, select, fetch, store,
// search, copy, move, expunge, IDLE and examine.
func TestPythonImaplib(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	e := newTestEnv(t)
	a := e.addUser("alice@example.org")
	host, port, _ := net.SplitHostPort(e.addr)
	cmd := exec.Command(py, "testdata/imaplib_scenario.py", host, port, "alice@example.org", testPassword)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	var got []string
	for sc.Scan() {
		got = append(got, sc.Text())
		if sc.Text() == "IDLING" {
			time.Sleep(50 * time.Millisecond)
			e.deliver(a, testMessage(7, "delivered while idling"))
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("imaplib scenario: %v\nstdout: %q\nstderr: %s", err, got, stderr.String())
	}
	if len(got) == 0 || got[len(got)-1] != "PASS" {
		t.Fatalf("scenario output %q, stderr %s", got, stderr.String())
	}
}
