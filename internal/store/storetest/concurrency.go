package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"freehold/internal/store"
)

func testQueue(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newAccount(t, s, "alice")
	m := store.OutboundMessage{
		Account: a.ID, MailFrom: "alice@example.org", BlobID: msg("q").BlobID, Size: 123,
		HoldUntil: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), DSNRet: "HDRS", DSNEnvID: "env1",
		Recipients: []store.OutboundRecipient{
			{Address: "x@remote.example", Notify: "FAILURE", ORcpt: "rfc822;x@remote.example"},
			{Address: "y@remote.example", Status: store.RcptFailed, Attempts: 2, NextAttempt: time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC), LastError: "550 no"},
		},
	}
	id := must(s.Enqueue(c, m))(t)
	id2 := must(s.Enqueue(c, store.OutboundMessage{BlobID: m.BlobID, Size: 1, Recipients: []store.OutboundRecipient{{Address: "z@remote.example"}}}))(t)
	got := must(s.QueueGet(c, id))(t)
	m.ID = id
	if got.Created.IsZero() {
		t.Fatal("Created not set")
	}
	m.Created = got.Created
	if fmt.Sprint(got) != fmt.Sprint(m) {
		t.Fatalf("QueueGet = %+v\nwant %+v", got, m)
	}
	list := must(s.QueueList(c))(t)
	if len(list) != 2 || list[0].ID != id || list[1].ID != id2 || len(list[0].Recipients) != 2 || list[1].MailFrom != "" {
		t.Fatalf("QueueList = %+v", list)
	}
	noErr(t, s.QueueRemove(c, id))
	_, err := s.QueueGet(c, id)
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.QueueRemove(c, id), store.ErrNotFound)
	_, err = s.Enqueue(c, store.OutboundMessage{BlobID: m.BlobID})
	wantErr(t, err, store.ErrInvalid)
}

// testConcurrentDeliver delivers from many goroutines at once, as SMTP
// sessions do, and checks that every message is stored exactly once with
// unique, increasing UIDs.
func testConcurrentDeliver(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newAccount(t, s, "alice")
	b := newAccount(t, s, "bob")
	const workers, each = 16, 8
	var mu sync.Mutex
	var got []store.Delivered
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				targets := []store.DeliveryTarget{{Account: a.ID}}
				if i%2 == 0 {
					targets = append(targets, store.DeliveryTarget{Account: b.ID})
				}
				ds, err := s.Deliver(c, store.Delivery{Message: msg(fmt.Sprintf("c%d-%d", w, i)), Targets: targets})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				got = append(got, ds...)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for _, acct := range []store.AccountID{a.ID, b.ID} {
		inbox := mailboxNamed(t, s, acct, "INBOX")
		es := must(s.Entries(c, acct, inbox.ID))(t)
		want := workers * each
		if acct == b.ID {
			want /= 2
		}
		if len(es) != want {
			t.Fatalf("account %d has %d entries, want %d", acct, len(es), want)
		}
		var fromDeliver []store.UID
		for _, d := range got {
			if d.Account == acct {
				fromDeliver = append(fromDeliver, d.UID)
			}
		}
		slices.Sort(fromDeliver)
		equalUIDs(t, "delivered", fromDeliver, entryUIDs(es))
		for i, e := range es {
			if e.UID != store.UID(i+1) {
				t.Fatalf("UIDs not dense and increasing: %v", entryUIDs(es))
			}
		}
		if st := status(t, s, acct, inbox.ID); st.UIDNext != store.UID(want+1) || st.Messages != uint32(want) {
			t.Fatalf("status %+v", st)
		}
		ids := map[store.MessageID]bool{}
		for _, e := range es {
			if ids[e.MessageID] {
				t.Fatalf("message %d twice", e.MessageID)
			}
			ids[e.MessageID] = true
		}
	}
}
