package queue_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"freehold/internal/queue"
	"freehold/internal/smtpclient"
	"freehold/internal/smtpclient/smtptest"
	"freehold/internal/store"
	"freehold/internal/store/postgres"
	"freehold/internal/testutil/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// countingClient counts the recipients one node attempted.
type countingClient struct {
	c *smtpclient.Client
	n atomic.Int32
}

func (c *countingClient) Deliver(ctx context.Context, domain string, env smtpclient.Envelope) smtpclient.Result {
	c.n.Add(int32(len(env.Rcpts)))
	return c.c.Deliver(ctx, domain, env)
}

// TestTwoNodesOnPostgreSQL runs two queue runners, as two nodes of a
// scaled deployment, over one PostgreSQL database: every message goes out
// exactly once, whichever node claims it.
func TestTwoNodesOnPostgreSQL(t *testing.T) {
	dsn := pgtest.Start(t)
	e := newQEnv(t)
	var mu sync.Mutex
	seen := map[string]int{}
	srv := smtptest.NewServer(t, smtptest.Options{Data: func(m *smtptest.Message) error {
		mu.Lock()
		for _, to := range m.To {
			seen[to]++
		}
		mu.Unlock()
		time.Sleep(10 * time.Millisecond)
		return nil
	}})
	for i := range 4 {
		e.mx(fmt.Sprintf("d%d.example", i), fmt.Sprintf("192.0.2.%d", i+1), srv.Addr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var nodes []*postgres.Store
	var clients []*countingClient
	var wg sync.WaitGroup
	for range 2 {
		st, err := postgres.OpenStore(context.Background(), dsn, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		nodes = append(nodes, st)
		cc := &countingClient{c: smtpclient.New(e.copts)}
		clients = append(clients, cc)
		opts := e.opts
		opts.Store, opts.Client, opts.Concurrency, opts.PerDomain = st, cc, 4, 2
		opts.Poll = 50 * time.Millisecond
		r := queue.New(opts)
		wg.Add(1)
		go func() { defer wg.Done(); r.Run(ctx) }()
	}
	const n = 60
	blobID, size, err := e.blobs.Put(context.Background(), strings.NewReader(testMsg))
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		_, err := nodes[i%2].Enqueue(context.Background(), store.OutboundMessage{MailFrom: "a@freehold.test", BlobID: blobID, Size: size,
			Created: time.Now(), Recipients: rcpts(fmt.Sprintf("r%d@d%d.example", i, i%4))})
		if err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		list, err := nodes[0].QueueList(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages left", len(list))
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != n {
		t.Fatalf("%d distinct recipients received, want %d", len(seen), n)
	}
	for rcpt, c := range seen {
		if c != 1 {
			t.Errorf("%s received %d times", rcpt, c)
		}
	}
	a, b := clients[0].n.Load(), clients[1].n.Load()
	if a+b != n {
		t.Errorf("attempts %d + %d, want %d in all", a, b, n)
	}
	t.Logf("node A sent %d, node B %d", a, b)
	if strings.Count(e.events.String(), `"msg":"sent"`) != n {
		t.Errorf("sent events: %d", strings.Count(e.events.String(), `"msg":"sent"`))
	}
}
