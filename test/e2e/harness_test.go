// Package e2e tests the freehold binary as an administrator runs it: built
// with go build, initialised with `freehold init`, started with
// `freehold serve`, and driven over real sockets.
package e2e

import (
	"bufio"
	"context"
	"fmt"
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// build builds freehold into binDir on its first call, and returns the
// same binary to every later one: all tests drive one build, so the
// package pays for one link, not one per test.
var build = sync.OnceValues(func() (string, error) {
	path := filepath.Join(binDir, "freehold")
	out, err := exec.Command("go", "build", "-o", path, "freehold/cmd/freehold").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return path, nil
})

// buildBinary returns the path of the freehold binary (see build).
func buildBinary(t *testing.T) string {
	t.Helper()
	path, err := build()
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// instance is one data directory and, while running, one server process.
type instance struct {
	t        *testing.T
	bin      string
	dir      string
	cfg      string
	user     string
	password string
	ports    map[string]string // listener name → host:port
	cmd      *exec.Cmd
	logs     *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newInstance runs `freehold init --demo` in a temp dir and rewrites the
// listen addresses to free loopback ports.
func newInstance(t *testing.T, bin string, initArgs ...string) *instance {
	t.Helper()
	dir := t.TempDir()
	in := &instance{t: t, bin: bin, dir: dir, cfg: filepath.Join(dir, "freehold.toml"), ports: map[string]string{}}
	args := append([]string{"init", "--data", dir, "--hostname", "mx.example.test", "--domain", "example.test", "--demo"}, initArgs...)
	out := in.run(args...)
	m := regexp.MustCompile(`demo account: (\S+)\s+password: (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("init printed no demo credentials:\n%s", out)
	}
	in.user, in.password = m[1], m[2]
	cfg, err := os.ReadFile(in.cfg)
	if err != nil {
		t.Fatal(err)
	}
	text := string(cfg)
	for _, name := range []string{"smtp", "submission", "submissions", "imap", "imaps", "http", "https"} {
		addr := freePort(t)
		in.ports[name] = addr
		re := regexp.MustCompile(`(?m)^(\s*` + name + `\s*=\s*)"[^"]*"`)
		if !re.MatchString(text) {
			t.Fatalf("config has no listen.%s:\n%s", name, text)
		}
		text = re.ReplaceAllString(text, `${1}"`+addr+`"`)
	}
	if err := os.WriteFile(in.cfg, []byte(text), 0o640); err != nil {
		t.Fatal(err)
	}
	return in
}

// run runs an admin command to completion and returns its output.
func (in *instance) run(args ...string) string {
	return in.runInput("", args...)
}

func (in *instance) runInput(stdin string, args ...string) string {
	in.t.Helper()
	cmd := exec.Command(in.bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		in.t.Fatalf("freehold %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// start starts `freehold serve` and waits until the SMTP port answers.
func (in *instance) start() {
	in.t.Helper()
	in.logs = &lockedBuffer{}
	in.cmd = exec.Command(in.bin, "serve", "--config", in.cfg)
	in.cmd.Stdout = in.logs
	in.cmd.Stderr = in.logs
	if err := in.cmd.Start(); err != nil {
		in.t.Fatal(err)
	}
	cmd := in.cmd
	in.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", in.ports["smtp"], time.Second)
		if err == nil {
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.HasPrefix(line, "220") {
				return
			}
		}
		if time.Now().After(deadline) {
			in.t.Fatalf("server did not start; logs:\n%s", in.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (in *instance) stop() {
	in.t.Helper()
	if err := in.cmd.Process.Signal(os.Interrupt); err != nil {
		in.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- in.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			in.t.Fatalf("serve exited with %v; logs:\n%s", err, in.logs.String())
		}
	case <-time.After(60 * time.Second):
		in.cmd.Process.Kill()
		in.t.Fatalf("serve did not stop after SIGTERM; logs:\n%s", in.logs.String())
	}
}

// kill sends SIGKILL: no chance to flush anything.
func (in *instance) kill() {
	in.cmd.Process.Kill()
	in.cmd.Wait()
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// waitForMessage logs in over IMAP and returns the first message of
// the INBOX once there is one.
func (in *instance) waitForMessage(t *testing.T, user, password string) string {
	t.Helper()
	c, err := imapclient.DialInsecure(in.ports["imap"], nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(user, password).Wait(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := c.Select("INBOX", nil).Wait(); err != nil {
			t.Fatal(err)
		}
		msgs, _ := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
		if len(msgs) == 1 {
			for _, b := range msgs[0].BodySection {
				return string(b.Bytes)
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("nothing arrived for %s; logs:\n%s", user, in.logs.String())
	return ""
}
