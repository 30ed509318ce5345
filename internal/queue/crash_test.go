package queue_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"freehold/internal/dnsutil"
	"freehold/internal/queue"
	"freehold/internal/smtpclient"
	"freehold/internal/smtpclient/smtptest"
	"freehold/internal/store"
	"freehold/internal/store/sqlite"
)

// The crash tests run a runner in a child process (this test binary, with
// TestCrashChild selected) and kill it with SIGKILL in the middle of an
// attempt; a runner in the test process then takes over.

const childEnv = "FREEHOLD_QUEUE_CRASH_CHILD"

// pausingClient reports on stdout when a delivery attempt returned, then
// blocks: the parent kills the process between the remote's answer and
// the recording of the outcome.
type pausingClient struct{ c *smtpclient.Client }

func (p pausingClient) Deliver(ctx context.Context, domain string, env smtpclient.Envelope) smtpclient.Result {
	res := p.c.Deliver(ctx, domain, env)
	fmt.Printf("DELIVERED %s\n", res.Rcpts[0].Outcome)
	select {}
}

// TestCrashChild is the child process; it does nothing in a normal run.
func TestCrashChild(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		t.Skip("runs only as the crash tests' child process")
	}
	ctx := context.Background()
	st, err := sqlite.OpenStore(ctx, os.Getenv("CHILD_DB"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := dnsutil.New(dnsutil.Options{Server: os.Getenv("CHILD_DNS")})
	if err != nil {
		t.Fatal(err)
	}
	n := smtptest.NewNet()
	ip, addr, _ := strings.Cut(os.Getenv("CHILD_ROUTE"), "=")
	n.Route(ip, addr)
	client := smtpclient.New(smtpclient.Options{Resolver: res, Hostname: "child.test", Dial: n.Dial,
		Timeouts: smtpclient.Timeouts{Command: 10 * time.Second, DataEnd: 10 * time.Second}})
	var d queue.Deliverer = client
	if os.Getenv("CHILD_PAUSE") != "" {
		d = pausingClient{client}
	}
	r := queue.New(queue.Options{Store: st, Blobs: dirBlobs{dir: os.Getenv("CHILD_BLOBS")}, Client: d,
		Lease: 2 * time.Second, Poll: 100 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	fmt.Println("READY")
	r.Run(ctx)
}

// startChild runs the child runner and returns its stdout lines.
func startChild(t *testing.T, e *qenv, route string, pause bool) (*exec.Cmd, <-chan string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"=1",
		"CHILD_DB="+filepath.Join(e.dir, "db.sqlite"), "CHILD_BLOBS="+e.blobs.dir,
		"CHILD_DNS="+e.dns.Addr, "CHILD_ROUTE="+route)
	if pause {
		cmd.Env = append(cmd.Env, "CHILD_PAUSE=1")
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	return cmd, lines
}

func waitLine(t *testing.T, lines <-chan string, prefix string) string {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("child exited before %q", prefix)
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-timeout:
			t.Fatalf("no %q from the child", prefix)
		}
	}
}

func kill(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
}

// leasedState reads the one recipient of message id.
func leasedState(t *testing.T, e *qenv, id store.QueueID) store.OutboundRecipient {
	t.Helper()
	m, err := e.st.QueueGet(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m.Recipients[0]
}

// TestCrashMidData kills the runner while the remote is receiving the
// message: nothing was accepted, nothing recorded; the message is sent
// once, by the next runner, after the dead runner's lease expires.
func TestCrashMidData(t *testing.T) {
	e := newQEnv(t)
	good := smtptest.NewServer(t, smtptest.Options{})
	inData := make(chan struct{}, 1)
	remote := dropInDataThenProxy(t, good, func(c net.Conn) {
		inData <- struct{}{}
		io.Copy(io.Discard, c)
	})
	e.mx("example.net", "192.0.2.1", remote)
	id := e.enqueue(store.OutboundMessage{MailFrom: "a@freehold.test", Recipients: rcpts("x@example.net")}, testMsg)

	cmd, lines := startChild(t, e, "192.0.2.1="+remote, false)
	waitLine(t, lines, "READY")
	select {
	case <-inData:
	case <-time.After(20 * time.Second):
		t.Fatal("child never reached DATA")
	}
	kill(t, cmd)
	rc := leasedState(t, e, id)
	if rc.Status != store.RcptPending || rc.Attempts != 1 {
		t.Fatalf("after the kill: %+v", rc)
	}
	e.start()
	if m := good.Wait(1, 10*time.Second); len(m) != 1 {
		t.Fatalf("delivered %d times", len(m))
	}
	e.waitEmpty(5 * time.Second)
	if log := e.events.String(); strings.Count(log, `"msg":"sent"`) != 1 || !strings.Contains(log, `"attempt":2`) {
		t.Errorf("mail log:\n%s", log)
	}
}

// TestCrashAfterRemoteAccepted kills the runner after the remote said 250
// but before the outcome was recorded: the store still shows the attempt
// under way, and the next runner sends again (a duplicate, which SMTP
// prefers to a loss) and records the outcome once.
func TestCrashAfterRemoteAccepted(t *testing.T) {
	e := newQEnv(t)
	good := smtptest.NewServer(t, smtptest.Options{})
	e.mx("example.net", "192.0.2.1", good.Addr)
	id := e.enqueue(store.OutboundMessage{MailFrom: "a@freehold.test", Recipients: rcpts("x@example.net")}, testMsg)

	cmd, lines := startChild(t, e, "192.0.2.1="+good.Addr, true)
	waitLine(t, lines, "READY")
	if l := waitLine(t, lines, "DELIVERED"); l != "DELIVERED delivered" {
		t.Fatalf("child: %q", l)
	}
	kill(t, cmd)
	if rc := leasedState(t, e, id); rc.Status != store.RcptPending || rc.Attempts != 1 {
		t.Fatalf("after the kill: %+v", rc)
	}
	e.start()
	if m := good.Wait(2, 10*time.Second); len(m) != 2 {
		t.Fatalf("got %d copies, want the original and one redelivery", len(m))
	}
	e.waitEmpty(5 * time.Second)
	if log := e.events.String(); strings.Count(log, `"msg":"sent"`) != 1 {
		t.Errorf("outcome recorded %d times:\n%s", strings.Count(log, `"msg":"sent"`), log)
	}
}
