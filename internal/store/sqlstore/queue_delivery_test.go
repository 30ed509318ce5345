package sqlstore_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"freehold/internal/store"
	"freehold/internal/store/sqlite"
	"freehold/internal/store/sqlstore"
)

func openSQLite(t *testing.T) *sqlstore.Store {
	t.Helper()
	s, err := sqlite.OpenStore(context.Background(), filepath.Join(t.TempDir(), "db.sqlite"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

const blobA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

func enqueue(t *testing.T, s *sqlstore.Store, m store.OutboundMessage) store.QueueID {
	t.Helper()
	if m.BlobID == "" {
		m.BlobID = blobA
	}
	id, err := s.Enqueue(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func rcpts(addrs ...string) []store.OutboundRecipient {
	var out []store.OutboundRecipient
	for _, a := range addrs {
		out = append(out, store.OutboundRecipient{Address: a})
	}
	return out
}

func TestQueueClaimGroupsAndLeases(t *testing.T) {
	ctx := context.Background()
	s := openSQLite(t)
	now := time.Now()
	id := enqueue(t, s, store.OutboundMessage{MailFrom: "a@example.org", Size: 10,
		Recipients: rcpts("x@one.example", "y@ONE.example", "z@two.example")})

	work, err := s.QueueClaim(ctx, store.QueueClaim{Now: now, Owner: "t", Lease: time.Minute, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(work) != 2 {
		t.Fatalf("want 2 work items (one per domain), got %d", len(work))
	}
	byDomain := map[string]store.QueueWork{}
	for _, w := range work {
		byDomain[w.Domain] = w
		if w.Message.ID != id || w.Message.MailFrom != "a@example.org" || w.Lease == "" {
			t.Fatalf("bad work item %+v", w)
		}
	}
	one := byDomain["one.example"]
	if len(one.Index) != 2 || one.Message.Recipients[1].Address != "y@ONE.example" || one.Message.Recipients[0].Attempts != 1 {
		t.Fatalf("one.example: %+v", one)
	}
	// Leased work is not claimed again.
	again, err := s.QueueClaim(ctx, store.QueueClaim{Now: now, Lease: time.Minute, Limit: 10})
	if err != nil || len(again) != 0 {
		t.Fatalf("claimed leased work: %v %v", again, err)
	}
	// ... until its lease expires.
	later, err := s.QueueClaim(ctx, store.QueueClaim{Now: now.Add(2 * time.Minute), Lease: time.Minute, Limit: 10, Skip: []string{"two.example"}})
	if err != nil || len(later) != 1 || later[0].Domain != "one.example" || later[0].Message.Recipients[0].Attempts != 2 {
		t.Fatalf("expired lease not reclaimed (or skip ignored): %+v %v", later, err)
	}
	// The first lease is gone: its outcome is refused.
	err = s.QueueRecord(ctx, store.QueueAttempt{ID: id, Lease: one.Lease, Results: []store.RecipientResult{{Index: 0, Status: store.RcptDelivered}}})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("stale lease accepted: %v", err)
	}
	// The current lease records; a temporary failure sets the next try.
	next := now.Add(time.Hour)
	err = s.QueueRecord(ctx, store.QueueAttempt{ID: id, Lease: later[0].Lease, Results: []store.RecipientResult{
		{Index: 0, Status: store.RcptDelivered},
		{Index: 1, Status: store.RcptPending, NextAttempt: next, LastError: "451 4.3.0 later"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.QueueGet(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if m.Recipients[0].Status != store.RcptDelivered || m.Recipients[1].LastError != "451 4.3.0 later" || !m.Recipients[1].NextAttempt.Equal(next.UTC().Truncate(0)) && m.Recipients[1].NextAttempt.UnixNano() != next.UnixNano() {
		t.Fatalf("outcome not stored: %+v", m.Recipients)
	}
	due, err := s.QueueNextDue(ctx)
	if err != nil || due.IsZero() || due.After(now.Add(2*time.Minute)) {
		t.Fatalf("next due: %v %v (two.example is still leased until now+1m)", due, err)
	}
	// Retry makes everything due now.
	if err := s.QueueRetry(ctx, id); err != nil {
		t.Fatal(err)
	}
	w3, err := s.QueueClaim(ctx, store.QueueClaim{Now: now.Add(3 * time.Minute), Lease: time.Minute, Limit: 10})
	if err != nil || len(w3) != 2 {
		t.Fatalf("after retry: %+v %v", w3, err)
	}
	// Finishing every recipient removes the message, and a bounce is
	// enqueued in the same transaction.
	for _, w := range w3 {
		var res []store.RecipientResult
		for _, i := range w.Index {
			res = append(res, store.RecipientResult{Index: i, Status: store.RcptFailed, LastError: "550 no"})
		}
		var bounce *store.OutboundMessage
		if w.Domain == "two.example" {
			bounce = &store.OutboundMessage{BlobID: blobA, Size: 5, Recipients: rcpts("a@example.org")}
		}
		if err := s.QueueRecord(ctx, store.QueueAttempt{ID: id, Lease: w.Lease, Results: res, Bounce: bounce}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.QueueGet(ctx, id); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("finished message still queued: %v", err)
	}
	list, _ := s.QueueList(ctx)
	if len(list) != 1 || list[0].MailFrom != "" || list[0].Recipients[0].Address != "a@example.org" {
		t.Fatalf("bounce not queued: %+v", list)
	}
}

func TestQueueClaimConcurrent(t *testing.T) {
	ctx := context.Background()
	s := openSQLite(t)
	for i := range 30 {
		enqueue(t, s, store.OutboundMessage{Size: 1, Recipients: rcpts("r@d" + string(rune('a'+i%5)) + ".example")})
	}
	var mu sync.Mutex
	seen := map[store.QueueID]int{}
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				work, err := s.QueueClaim(ctx, store.QueueClaim{Now: time.Now(), Lease: time.Hour, Limit: 3})
				if err != nil {
					t.Error(err)
					return
				}
				if len(work) == 0 {
					return
				}
				mu.Lock()
				for _, w := range work {
					seen[w.Message.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != 30 {
		t.Fatalf("claimed %d messages, want 30", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("message %d claimed %d times", id, n)
		}
	}
}

func TestQueueHoldAndCancel(t *testing.T) {
	ctx := context.Background()
	s := openSQLite(t)
	hold := time.Now().Add(time.Hour)
	id := enqueue(t, s, store.OutboundMessage{Account: 7, Size: 1, HoldUntil: hold, Recipients: rcpts("r@x.example")})
	other := enqueue(t, s, store.OutboundMessage{Account: 8, Size: 1, HoldUntil: hold, Recipients: rcpts("r@x.example")})

	work, err := s.QueueClaim(ctx, store.QueueClaim{Now: time.Now(), Lease: time.Minute, Limit: 10})
	if err != nil || len(work) != 0 {
		t.Fatalf("held message claimed: %v %v", work, err)
	}
	due, _ := s.QueueNextDue(ctx)
	if due.UnixNano() != hold.UnixNano() {
		t.Fatalf("next due %v, want the hold time %v", due, hold)
	}
	held, err := s.QueueHeld(ctx, 7)
	if err != nil || len(held) != 1 || held[0].ID != id || len(held[0].Recipients) != 1 {
		t.Fatalf("held: %+v %v", held, err)
	}
	if all, _ := s.QueueHeld(ctx, 0); len(all) != 2 {
		t.Fatalf("all held: %d", len(all))
	}
	if err := s.QueueCancel(ctx, other, 7); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("cancelled another account's message: %v", err)
	}
	if err := s.QueueCancel(ctx, id, 7); err != nil {
		t.Fatal(err)
	}
	if _, err := s.QueueGet(ctx, id); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("cancelled message still there")
	}
	// Once released, a message is no longer cancellable.
	work, err = s.QueueClaim(ctx, store.QueueClaim{Now: hold.Add(time.Second), Lease: time.Minute, Limit: 10})
	if err != nil || len(work) != 1 || work[0].Message.ID != other {
		t.Fatalf("release: %+v %v", work, err)
	}
	if err := s.QueueRetry(ctx, 999); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("retry of unknown message: %v", err)
	}
}

func TestDKIMKeysAndMTASTS(t *testing.T) {
	ctx := context.Background()
	s := openSQLite(t)
	k := store.DKIMKey{Domain: "Example.org", Selector: "s1", Algorithm: "ed25519", PrivateKey: []byte{1, 2, 3}, State: store.DKIMActive}
	if err := s.DKIMKeyAdd(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := s.DKIMKeyAdd(ctx, k); !errors.Is(err, store.ErrExists) {
		t.Fatalf("duplicate selector: %v", err)
	}
	k.Selector, k.State = "s2", store.DKIMPending
	if err := s.DKIMKeyAdd(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := s.DKIMKeySetState(ctx, "example.org", "s2", store.DKIMActive); err != nil {
		t.Fatal(err)
	}
	keys, err := s.DKIMKeyList(ctx, "example.org")
	if err != nil || len(keys) != 2 || keys[1].State != store.DKIMActive || string(keys[0].PrivateKey) != "\x01\x02\x03" {
		t.Fatalf("keys: %+v %v", keys, err)
	}
	if err := s.DKIMKeyDelete(ctx, "example.org", "s1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DKIMKeyDelete(ctx, "example.org", "s1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	if all, _ := s.DKIMKeyList(ctx, ""); len(all) != 1 {
		t.Fatalf("all keys: %d", len(all))
	}

	if _, err := s.MTASTSGet(ctx, "x.example"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	p := store.MTASTSPolicy{Domain: "X.example", ID: "1", Policy: "version: STSv1\n", Fetched: time.Now(), Expires: time.Now().Add(time.Hour)}
	if err := s.MTASTSPut(ctx, p); err != nil {
		t.Fatal(err)
	}
	p.ID = "2"
	if err := s.MTASTSPut(ctx, p); err != nil {
		t.Fatal(err)
	}
	got, err := s.MTASTSGet(ctx, "x.example")
	if err != nil || got.ID != "2" || got.Domain != "x.example" || got.Expires.UnixNano() != p.Expires.UnixNano() {
		t.Fatalf("policy: %+v %v", got, err)
	}
}
