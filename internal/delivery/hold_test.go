package delivery

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"freehold/internal/blob/memblob"
	"freehold/internal/queue"
	"freehold/internal/store"
)

const testAuthResults = "Authentication-Results: mx.example.org;\r\n\tspf=pass smtp.mailfrom=x@remote.example;\r\n\tdkim=none;\r\n\tdmarc=none\r\n"

func TestDeliverAuthResultsBelowReceived(t *testing.T) {
	d, st, bl := newTestDeliverer(t)
	env := Envelope{
		From:        "x@remote.example",
		Recipients:  []Recipient{{Address: "alice@example.org", Route: Route{Local: []LocalTarget{{1, "alice@example.org"}}, Remote: []string{"fwd@remote.example"}}}},
		Trace:       testTrace,
		AuthResults: testAuthResults,
	}
	res, err := d.Deliver(context.Background(), env, []byte(testMsg))
	if err != nil {
		t.Fatal(err)
	}
	local := blobText(t, bl, res.Blob)
	i, j := strings.Index(local, "\r\nReceived: "), strings.Index(local, "\r\n"+testAuthResults)
	if !strings.HasPrefix(local, "Return-Path: ") || i < 0 || j < i || !strings.HasSuffix(local, testAuthResults+testMsg) {
		t.Errorf("local form:\n%s", local)
	}
	out := blobText(t, bl, st.deliveries[0].Outbound.BlobID)
	if !strings.HasPrefix(out, "Received: ") || !strings.HasSuffix(out, testAuthResults+testMsg) {
		t.Errorf("forwarded form:\n%s", out)
	}
}

// junkStore is a recStore that also lists mailboxes.
type junkStore struct {
	recStore
	boxes map[store.AccountID][]store.Mailbox
}

func (s *junkStore) Mailboxes(_ context.Context, acct store.AccountID) ([]store.Mailbox, error) {
	if b, ok := s.boxes[acct]; ok {
		return b, nil
	}
	return nil, store.ErrNotFound
}

func TestDeliverQuarantineGoesToJunk(t *testing.T) {
	st := &junkStore{boxes: map[store.AccountID][]store.Mailbox{
		1: {{Name: "INBOX"}, {Name: "Spam", SpecialUse: store.UseJunk}, {Name: "Junk"}},
	}}
	d, err := NewDeliverer(DelivererOptions{Target: st, Blobs: memblob.New(), Hostname: "mx.example.org"})
	if err != nil {
		t.Fatal(err)
	}
	env := Envelope{
		From: "x@remote.example", Quarantine: true, Trace: testTrace,
		Recipients: []Recipient{{Address: "team@example.org", Route: Route{Local: []LocalTarget{{1, "alice@example.org"}, {2, "bob@example.org"}}}}},
	}
	if _, err := d.Deliver(context.Background(), env, []byte(testMsg)); err != nil {
		t.Fatal(err)
	}
	ts := st.deliveries[0].Targets
	// Alice renamed her \Junk mailbox; bob's store answer fails, so he
	// gets the default name.
	if ts[0].Mailbox != "Spam" || ts[1].Mailbox != "Junk" {
		t.Errorf("targets %+v", ts)
	}
	for _, tg := range ts {
		if len(tg.Keywords) != 1 || tg.Keywords[0] != store.KeywordJunk {
			t.Errorf("keywords of %d: %v", tg.Account, tg.Keywords)
		}
	}
}

func TestDeliverHoldQueuesEveryone(t *testing.T) {
	d, st, bl := newTestDeliverer(t)
	hold := testTrace.Time.Add(2 * time.Hour)
	env := Envelope{
		From: "alice@example.org", Account: 1, Trace: testTrace, HoldUntil: hold,
		DSNRet: "HDRS", DSNEnvID: "env 1",
		Recipients: []Recipient{
			{Address: "team@example.org", Notify: "SUCCESS,FAILURE", Route: Route{Local: []LocalTarget{{1, "alice@example.org"}, {2, "bob@example.org"}}}},
			{Address: "Bob+x@example.org", Route: Route{Local: []LocalTarget{{2, "bob@example.org"}}}},
			{Address: "r@remote.example", ORcpt: "rfc822;orig@remote.example", Route: Route{Remote: []string{"r@remote.example"}}},
		},
	}
	res, err := d.Deliver(context.Background(), env, []byte(testMsg))
	if err != nil {
		t.Fatal(err)
	}
	if len(st.deliveries) != 0 || len(st.enqueued) != 1 || res.Queue != 1 || !res.Hold.Equal(hold) {
		t.Fatalf("deliveries %d, enqueued %d, result %+v", len(st.deliveries), len(st.enqueued), res)
	}
	q := st.enqueued[0]
	if !q.HoldUntil.Equal(hold) || q.Account != 1 || q.DSNRet != "HDRS" || q.DSNEnvID != "env 1" {
		t.Errorf("queued %+v", q)
	}
	want := []store.OutboundRecipient{
		{Address: "alice@example.org", Notify: "SUCCESS,FAILURE", ORcpt: "rfc822;team@example.org"},
		{Address: "bob@example.org", Notify: "SUCCESS,FAILURE", ORcpt: "rfc822;team@example.org"},
		{Address: "r@remote.example", ORcpt: "rfc822;orig@remote.example"},
	}
	if len(q.Recipients) != len(want) {
		t.Fatalf("recipients %+v", q.Recipients)
	}
	for i, w := range want {
		if q.Recipients[i] != w {
			t.Errorf("recipient %d: %+v, want %+v", i, q.Recipients[i], w)
		}
	}
	held := blobText(t, bl, q.BlobID)
	if !strings.HasPrefix(held, "Received: ") || strings.Contains(held, "Return-Path") || !strings.HasSuffix(held, testMsg) {
		t.Errorf("held form:\n%s", held)
	}
	if res.MessageID != "m1@remote.example" || len(res.Queued) != 3 {
		t.Errorf("result %+v", res)
	}
}

// failingStore fails every Deliver that includes one account.
type failingStore struct {
	recStore
	fail   store.AccountID
	err    error
	rounds int
}

func (s *failingStore) Deliver(ctx context.Context, d store.Delivery) ([]store.Delivered, error) {
	s.rounds++
	for _, t := range d.Targets {
		if t.Account == s.fail {
			return nil, &store.DeliveryError{Account: s.fail, Err: s.err}
		}
	}
	return s.recStore.Deliver(ctx, d)
}

func TestQueueLocalDeliversReleasedMessage(t *testing.T) {
	dir := newMemDir("example.org")
	dir.account("alice@example.org")
	dir.account("bob@example.org")
	dir.account("carol@example.org")
	dir.aliases["team@example.org"] = []string{"bob@example.org", "carol@example.org"}
	dir.aliases["fwd@example.org"] = []string{"far@remote.example"}
	for _, c := range []struct {
		name   string
		fail   store.AccountID
		err    error
		want   []string // per recipient: "" ok, "perm", "temp"
		rounds int      // store transactions: one more for the failing account
	}{
		{"all delivered", 0, nil, []string{"", "", "", "perm", "perm"}, 1},
		{"bob full", 2, store.ErrQuotaExceeded, []string{"", "temp", "temp", "perm", "perm"}, 2},
		{"carol deleted", 3, store.ErrNotFound, []string{"", "", "perm", "perm", "perm"}, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := &failingStore{fail: c.fail, err: c.err}
			bl := memblob.New()
			d, err := NewDeliverer(DelivererOptions{Target: st, Blobs: bl, Hostname: "mx.example.org"})
			if err != nil {
				t.Fatal(err)
			}
			ql := NewQueueLocal(d, NewResolver(dir, ResolverOptions{}))
			if !ql.Handles(context.Background(), "example.org") || ql.Handles(context.Background(), "remote.example") {
				t.Fatal("Handles")
			}
			raw := "Received: from x\r\n\tby mx.example.org; Sun, 01 Mar 2026 12:00:00 +0000\r\n" + testMsg
			errs := ql.DeliverLocal(context.Background(), queue.LocalMessage{
				MailFrom: "x@remote.example", Raw: []byte(raw),
				Rcpts: []string{"alice@example.org", "bob@example.org", "team@example.org", "nobody@example.org", "not an address"},
			})
			if len(errs) != len(c.want) {
				t.Fatalf("%d results", len(errs))
			}
			for i, w := range c.want {
				got := ""
				switch {
				case errs[i] == nil:
				case errors.Is(errs[i], queue.ErrPermanent):
					got = "perm"
				default:
					got = "temp"
				}
				if got != w {
					t.Errorf("recipient %d: %q (%v), want %q", i, got, errs[i], w)
				}
			}
			if len(st.deliveries) != 1 || st.rounds != c.rounds {
				t.Fatalf("%d deliveries in %d rounds; want 1 in %d", len(st.deliveries), st.rounds, c.rounds)
			}
			stored := blobText(t, bl, st.deliveries[0].Message.BlobID)
			if stored != "Return-Path: <x@remote.example>\r\n"+raw {
				t.Errorf("stored:\n%s", stored)
			}
		})
	}
}

func TestQueueLocalForwardsAliasTargets(t *testing.T) {
	dir := newMemDir("example.org")
	dir.account("alice@example.org")
	dir.aliases["fwd@example.org"] = []string{"alice@example.org", "far@remote.example"}
	d, st, _ := newTestDeliverer(t)
	errs := NewQueueLocal(d, NewResolver(dir, ResolverOptions{})).DeliverLocal(context.Background(), queue.LocalMessage{
		MailFrom: "", Raw: []byte(testMsg), Rcpts: []string{"fwd@example.org"},
	})
	if errs[0] != nil {
		t.Fatal(errs[0])
	}
	ob := st.deliveries[0].Outbound
	if ob == nil || ob.MailFrom != "" || ob.Recipients[0].Address != "far@remote.example" || ob.Recipients[0].ORcpt != "rfc822;fwd@example.org" {
		t.Errorf("outbound %+v", ob)
	}
}
