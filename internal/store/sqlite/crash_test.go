package sqlite_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"freehold/internal/blob"
	"freehold/internal/store"
	"freehold/internal/store/sqlite"
)

// crashEnv names the database a crash child writes to.
const crashEnv = "FREEHOLD_SQLITE_CRASH_DB"

// TestCrashKeepsAcknowledged kills a process that is delivering as fast
// as it can, then checks that every delivery it acknowledged is in the
// database: a Deliver returns only after its commit.
func TestCrashKeepsAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.v")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []store.MessageID
	var acct store.AccountID
	sc := bufio.NewScanner(out)
	deadline := time.Now().Add(30 * time.Second)
	for sc.Scan() && len(acked) < 300 && time.Now().Before(deadline) {
		f := strings.Fields(sc.Text())
		if len(f) == 3 && f[0] == "ack" {
			a, _ := strconv.ParseInt(f[1], 10, 64)
			m, _ := strconv.ParseInt(f[2], 10, 64)
			acct = store.AccountID(a)
			acked = append(acked, store.MessageID(m))
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	if len(acked) == 0 {
		t.Fatal("child acknowledged nothing")
	}
	s, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Messages(context.Background(), acct, acked)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(acked) {
		t.Fatalf("%d acknowledged deliveries, %d found after the crash", len(acked), len(got))
	}
}

// TestCrashChild is the process TestCrashKeepsAcknowledged kills.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("run by TestCrashKeepsAcknowledged")
	}
	ctx := context.Background()
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddDomain(ctx, "example.org"); err != nil {
		t.Fatal(err)
	}
	a, err := s.CreateAccount(ctx, store.NewAccount{Address: "alice@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				body := fmt.Sprintf("%d-%d", w, i)
				ds, err := s.Deliver(ctx, store.Delivery{
					Message: store.NewMessage{BlobID: blob.Sum([]byte(body)), Size: 100, ReceivedAt: time.Now()},
					Targets: []store.DeliveryTarget{{Account: a.ID}},
				})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				fmt.Printf("ack %d %d\n", a.ID, ds[0].Message)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}
