package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"freehold/internal/store"
	"freehold/internal/store/postgres"
	"freehold/internal/store/storetest"
	"freehold/internal/testutil/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func openDSN(t *testing.T, dsn string) store.Store {
	s, err := postgres.Open(context.Background(), dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// twoNodes opens two stores on one fresh database, as two nodes do, with
// the domain example.org added. The context ends with the test.
func twoNodes(t *testing.T) (a, b store.Store, ctx context.Context) {
	dsn := pgtest.Start(t)
	a, b = openDSN(t, dsn), openDSN(t, dsn)
	t.Cleanup(func() {
		b.Close()
		a.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	if err := a.AddDomain(ctx, "example.org"); err != nil {
		t.Fatal(err)
	}
	return a, b, ctx
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openDSN(t, pgtest.Start(t)) })
}

// TestTwoNodes runs two stores on one database, as two nodes do: a change
// committed by one wakes the other's Listen, and concurrent deliveries
// through both get distinct UIDs.
func TestTwoNodes(t *testing.T) {
	a, b, ctx := twoNodes(t)
	acct, err := a.CreateAccount(ctx, store.NewAccount{Address: "alice@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	ch := b.Listen(ctx, acct.ID)
	msg := func(i int) store.NewMessage {
		return store.NewMessage{BlobID: fmt.Sprintf("%064x", i), Size: 10, ReceivedAt: time.Now()}
	}
	ds, err := a.Deliver(ctx, store.Delivery{Message: msg(0), Targets: []store.DeliveryTarget{{Account: acct.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	want, err := a.HighestModSeq(ctx, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-ch:
		if got != want {
			t.Fatalf("node b heard %d, want %d", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("node b was not told of node a's delivery")
	}

	var wg sync.WaitGroup
	const each = 20
	for n, s := range []store.Store{a, b} {
		wg.Go(func() {
			for i := range each {
				if _, err := s.Deliver(ctx, store.Delivery{Message: msg(1000*(n+1) + i), Targets: []store.DeliveryTarget{{Account: acct.ID}}}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	es, err := b.Entries(ctx, acct.ID, ds[0].Mailbox)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2*each+1 {
		t.Fatalf("%d entries, want %d", len(es), 2*each+1)
	}
	for i, e := range es {
		if e.UID != store.UID(i+1) {
			t.Fatalf("UIDs not unique and dense: entry %d has UID %d", i, e.UID)
		}
	}
}

// TestOppositeOrder delivers to two accounts in opposite orders through
// two nodes at once. The nodes' transactions lock the accounts' rows in
// opposite orders and deadlock; the loser's request is retried, so every
// delivery succeeds.
func TestOppositeOrder(t *testing.T) {
	a, b, ctx := twoNodes(t)
	var ids []store.AccountID
	for _, name := range []string{"x", "y"} {
		acct, err := a.CreateAccount(ctx, store.NewAccount{Address: name + "@example.org"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, acct.ID)
	}
	const each = 30
	var wg sync.WaitGroup
	for n, s := range []store.Store{a, b} {
		targets := []store.DeliveryTarget{{Account: ids[n]}, {Account: ids[1-n]}}
		for w := range 4 {
			wg.Go(func() {
				for i := range each / 4 {
					m := store.NewMessage{BlobID: fmt.Sprintf("%064x", 100000*n+1000*w+i), Size: 10, ReceivedAt: time.Now()}
					if _, err := s.Deliver(ctx, store.Delivery{Message: m, Targets: targets}); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	for _, id := range ids {
		u, err := a.AccountUsage(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if want := int64(2 * 4 * (each / 4)); u.Messages != want {
			t.Fatalf("account %d has %d messages, want %d", id, u.Messages, want)
		}
	}
}

// TestMigrateRoundTrip rolls the PostgreSQL schema back to nothing and
// forward again.
func TestMigrateRoundTrip(t *testing.T) {
	s := openDSN(t, pgtest.Start(t))
	defer s.Close()
	m := s.(store.Maintenance)
	ctx := context.Background()
	top, err := m.SchemaVersion(ctx)
	if err != nil || top < 1 {
		t.Fatalf("SchemaVersion = %d, %v", top, err)
	}
	if err := m.Migrate(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if v, _ := m.SchemaVersion(ctx); v != 0 {
		t.Fatalf("at %d after rolling back everything", v)
	}
	if err := m.Migrate(ctx, -1); err != nil {
		t.Fatal(err)
	}
	if v, _ := m.SchemaVersion(ctx); v != top {
		t.Fatalf("at %d, want %d", v, top)
	}
}
