package storetest

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"freehold/internal/store"
)

func testAppend(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newAccount(t, s, "alice")
	inbox := mailboxNamed(t, s, a.ID, "INBOX")
	m := msg("hello")
	m.Envelope = store.Envelope{
		Date:       time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		Subject:    "Héllo",
		From:       []store.EnvelopeAddress{{Name: "Bob", Address: "bob@example.net"}},
		Sender:     []store.EnvelopeAddress{{Address: "s@example.net"}},
		ReplyTo:    []store.EnvelopeAddress{{Address: "r@example.net"}},
		To:         []store.EnvelopeAddress{{Name: "Alice", Address: "alice@example.org"}, {Address: "x@example.org"}},
		Cc:         []store.EnvelopeAddress{{Address: "cc@example.org"}},
		Bcc:        []store.EnvelopeAddress{{Address: "bcc@example.org"}},
		MessageID:  "abc@example.net",
		InReplyTo:  []string{"parent@example.net"},
		References: []string{"root@example.net", "parent@example.net"},
	}
	m.HasAttachment = true
	m.Keywords = []string{"$Seen", "Work", "$seen"}
	e1 := must(s.Append(c, a.ID, inbox.ID, m))(t)
	if e1.UID != 1 || e1.MessageID == 0 || !slices.Equal(e1.Keywords, []string{"$seen", "work"}) || e1.Size != m.Size ||
		!e1.ReceivedAt.Equal(m.ReceivedAt) || e1.ModSeq == 0 {
		t.Fatalf("Append = %+v", e1)
	}
	e2 := appendN(t, s, a.ID, inbox.ID, 1, store.KeywordDeleted)[0]
	if e2.UID != 2 || e2.ModSeq <= e1.ModSeq {
		t.Fatalf("second Append = %+v", e2)
	}
	got := must(s.Entries(c, a.ID, inbox.ID))(t)
	if len(got) != 2 || !reflect.DeepEqual(got[0], e1) || got[1].UID != 2 {
		t.Fatalf("Entries = %+v, want [%+v ...]", got, e1)
	}
	msgs := must(s.Messages(c, a.ID, []store.MessageID{e2.MessageID, 9999999, e1.MessageID}))(t)
	if len(msgs) != 2 || msgs[0].ID != e2.MessageID || msgs[1].ID != e1.MessageID {
		t.Fatalf("Messages returned %+v", msgs)
	}
	got1 := msgs[1]
	if got1.AccountID != a.ID || got1.BlobID != m.BlobID || got1.Size != m.Size || !got1.ReceivedAt.Equal(m.ReceivedAt) ||
		got1.Preview != m.Preview || !got1.HasAttachment || got1.ThreadID == 0 || got1.ModSeq != e1.ModSeq ||
		!slices.Equal(got1.Keywords, e1.Keywords) || !slices.Equal(got1.Mailboxes, []store.MailboxID{inbox.ID}) {
		t.Fatalf("Message = %+v", got1)
	}
	if !reflect.DeepEqual(got1.Envelope, m.Envelope) {
		t.Fatalf("Envelope = %+v\nwant %+v", got1.Envelope, m.Envelope)
	}
	st := status(t, s, a.ID, inbox.ID)
	if st.Messages != 2 || st.Unseen != 1 || st.Deleted != 1 || st.Size != m.Size+e2.Size || st.UIDNext != 3 || st.HighestModSeq != e2.ModSeq {
		t.Fatalf("MailboxStatus = %+v", st)
	}
	_, err := s.Append(c, a.ID, inbox.ID+1000, msg("x"))
	wantErr(t, err, store.ErrNotFound)
	b := newAccount(t, s, "bob")
	_, err = s.Append(c, b.ID, inbox.ID, msg("x")) // alice's INBOX
	wantErr(t, err, store.ErrNotFound)
}

func testDeliver(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newAccount(t, s, "alice")
	b := newAccount(t, s, "bob")
	work := must(s.CreateMailbox(c, b.ID, store.NewMailbox{Name: "Work"}))(t)
	m := msg("delivered")
	m.Keywords = []string{"$Junk"}
	ds := must(s.Deliver(c, store.Delivery{Message: m, Targets: []store.DeliveryTarget{
		{Account: a.ID, Mailbox: "Nonexistent"},
		{Account: b.ID, Mailbox: "Work", Keywords: []string{"$seen"}},
	}}))(t)
	if len(ds) != 2 {
		t.Fatalf("Deliver returned %+v", ds)
	}
	inboxA := mailboxNamed(t, s, a.ID, "INBOX")
	if ds[0].Account != a.ID || ds[0].Mailbox != inboxA.ID || ds[0].UID != 1 ||
		ds[1].Account != b.ID || ds[1].Mailbox != work.ID || ds[1].UID != 1 || ds[0].Message == ds[1].Message {
		t.Fatalf("Deliver returned %+v", ds)
	}
	ma := must(s.Messages(c, a.ID, []store.MessageID{ds[0].Message}))(t)
	mb := must(s.Messages(c, b.ID, []store.MessageID{ds[1].Message}))(t)
	if len(ma) != 1 || len(mb) != 1 || ma[0].BlobID != m.BlobID || mb[0].BlobID != m.BlobID {
		t.Fatalf("messages %+v %+v", ma, mb)
	}
	if !slices.Equal(ma[0].Keywords, []string{"$junk"}) || !slices.Equal(mb[0].Keywords, []string{"$junk", "$seen"}) {
		t.Fatalf("keywords %v %v", ma[0].Keywords, mb[0].Keywords)
	}
	// Each account sees only its own copy.
	if got := must(s.Messages(c, a.ID, []store.MessageID{ds[1].Message}))(t); len(got) != 0 {
		t.Fatalf("alice sees bob's message: %+v", got)
	}
	for _, acct := range []store.AccountID{a.ID, b.ID} {
		if u := must(s.AccountUsage(c, acct))(t); u.Messages != 1 || u.Bytes != m.Size {
			t.Fatalf("usage of %d: %+v", acct, u)
		}
	}
	// An empty mailbox name means INBOX.
	ds = must(s.Deliver(c, store.Delivery{Message: msg("second"), Targets: []store.DeliveryTarget{{Account: a.ID}}}))(t)
	if ds[0].Mailbox != inboxA.ID || ds[0].UID != 2 {
		t.Fatalf("second Deliver = %+v", ds)
	}
	cs := must(s.Changes(c, b.ID, 0, 0))(t)
	if !hasChange(cs, store.ChangeEmail, store.OpCreated, int64(mb[0].ID)) {
		t.Fatalf("no Email creation in %+v", cs)
	}
}

func testDeliverAtomic(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newAccount(t, s, "alice")
	b := newAccount(t, s, "bob")
	m := msg("big")
	noErr(t, s.SetQuota(c, b.ID, m.Size-1))
	_, err := s.Deliver(c, store.Delivery{Message: m, Targets: []store.DeliveryTarget{{Account: a.ID}, {Account: b.ID}}})
	wantErr(t, err, store.ErrQuotaExceeded)
	var de *store.DeliveryError
	if !errors.As(err, &de) || de.Account != b.ID {
		t.Fatalf("error %v does not name account %d", err, b.ID)
	}
	_, err = s.Deliver(c, store.Delivery{Message: m, Targets: []store.DeliveryTarget{{Account: a.ID}, {Account: b.ID + 100}}})
	wantErr(t, err, store.ErrNotFound)
	if !errors.As(err, &de) || de.Account != b.ID+100 {
		t.Fatalf("error %v does not name the unknown account", err)
	}
	// Nothing was stored for alice by either failed delivery.
	if u := must(s.AccountUsage(c, a.ID))(t); u.Messages != 0 {
		t.Fatalf("failed delivery left %+v", u)
	}
	if st := status(t, s, a.ID, mailboxNamed(t, s, a.ID, "INBOX").ID); st.Messages != 0 || st.UIDNext != 1 {
		t.Fatalf("failed delivery left INBOX at %+v", st)
	}
}

func testDeliverOutbound(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newAccount(t, s, "alice")
	m := msg("to all")
	out := &store.OutboundMessage{Account: a.ID, MailFrom: "alice@example.org", BlobID: m.BlobID, Size: m.Size,
		Recipients: []store.OutboundRecipient{{Address: "x@remote.example"}}}
	ds := must(s.Deliver(c, store.Delivery{Message: m, Targets: []store.DeliveryTarget{{Account: a.ID, Mailbox: "Sent", Keywords: []string{"$seen"}}}, Outbound: out}))(t)
	if ds[0].Mailbox != mailboxNamed(t, s, a.ID, "Sent").ID {
		t.Fatalf("not in Sent: %+v", ds)
	}
	q := must(s.QueueList(c))(t)
	if len(q) != 1 || q[0].BlobID != m.BlobID || len(q[0].Recipients) != 1 || q[0].Recipients[0].Address != "x@remote.example" {
		t.Fatalf("queue = %+v", q)
	}
	// A failing delivery enqueues nothing.
	noErr(t, s.SetQuota(c, a.ID, 1))
	_, err := s.Deliver(c, store.Delivery{Message: msg("again"), Targets: []store.DeliveryTarget{{Account: a.ID}}, Outbound: out})
	wantErr(t, err, store.ErrQuotaExceeded)
	if q := must(s.QueueList(c))(t); len(q) != 1 {
		t.Fatalf("failed delivery enqueued: %+v", q)
	}
}

func testCopy(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newAccount(t, s, "alice")
	inbox := mailboxNamed(t, s, a.ID, "INBOX")
	arch := mailboxNamed(t, s, a.ID, "Archive")
	es := appendN(t, s, a.ID, inbox.ID, 4, store.KeywordSeen)
	appendN(t, s, a.ID, arch.ID, 1)
	pairs := must(s.Copy(c, a.ID, store.CopyRequest{From: inbox.ID, To: arch.ID, UIDs: []store.UID{4, 2, 99, 1}}))(t)
	want := []store.UIDPair{{From: 1, To: 2}, {From: 2, To: 3}, {From: 4, To: 4}}
	if !slices.Equal(pairs, want) {
		t.Fatalf("Copy pairs = %v, want %v", pairs, want)
	}
	equalUIDs(t, "source", uids(t, s, a.ID, inbox.ID), []store.UID{1, 2, 3, 4})
	got := must(s.Entries(c, a.ID, arch.ID))(t)
	equalUIDs(t, "destination", entryUIDs(got), []store.UID{1, 2, 3, 4})
	if got[1].MessageID != es[0].MessageID || !slices.Equal(got[1].Keywords, []string{"$seen"}) {
		t.Fatalf("copy is %+v, source %+v", got[1], es[0])
	}
	// The copy is the same Email, now in two mailboxes.
	m := must(s.Messages(c, a.ID, []store.MessageID{es[0].MessageID}))(t)[0]
	if !slices.Equal(m.Mailboxes, []store.MailboxID{inbox.ID, arch.ID}) {
		t.Fatalf("Mailboxes = %v", m.Mailboxes)
	}
	if u := must(s.AccountUsage(c, a.ID))(t); u.Messages != 5 {
		t.Fatalf("usage after copy: %+v", u)
	}
	_, err := s.Copy(c, a.ID, store.CopyRequest{From: inbox.ID, To: arch.ID + 1000, UIDs: []store.UID{1}})
	wantErr(t, err, store.ErrNotFound)
}

func testMove(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newAccount(t, s, "alice")
	inbox := mailboxNamed(t, s, a.ID, "INBOX")
	trash := mailboxNamed(t, s, a.ID, "Trash")
	es := appendN(t, s, a.ID, inbox.ID, 3)
	before := must(s.HighestModSeq(c, a.ID))(t)
	pairs := must(s.Copy(c, a.ID, store.CopyRequest{From: inbox.ID, To: trash.ID, UIDs: []store.UID{1, 3}, Move: true}))(t)
	if !slices.Equal(pairs, []store.UIDPair{{From: 1, To: 1}, {From: 3, To: 2}}) {
		t.Fatalf("Move pairs = %v", pairs)
	}
	equalUIDs(t, "source after move", uids(t, s, a.ID, inbox.ID), []store.UID{2})
	equalUIDs(t, "destination after move", uids(t, s, a.ID, trash.ID), []store.UID{1, 2})
	m := must(s.Messages(c, a.ID, []store.MessageID{es[0].MessageID}))(t)
	if len(m) != 1 || !slices.Equal(m[0].Mailboxes, []store.MailboxID{trash.ID}) || m[0].ModSeq <= before {
		t.Fatalf("moved message %+v", m)
	}
	d := must(s.MailboxChanges(c, a.ID, inbox.ID, before))(t)
	equalUIDs(t, "expunged by move", d.Expunged, []store.UID{1, 3})
	if len(d.Changed) != 0 {
		t.Fatalf("changed in source: %+v", d.Changed)
	}
	if u := must(s.AccountUsage(c, a.ID))(t); u.Messages != 3 {
		t.Fatalf("usage after move: %+v", u)
	}
}

func testCopySame(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newAccount(t, s, "alice")
	inbox := mailboxNamed(t, s, a.ID, "INBOX")
	e := appendN(t, s, a.ID, inbox.ID, 1, store.KeywordFlagged)[0]
	pairs := must(s.Copy(c, a.ID, store.CopyRequest{From: inbox.ID, To: inbox.ID, UIDs: []store.UID{e.UID}}))(t)
	if !slices.Equal(pairs, []store.UIDPair{{From: 1, To: 2}}) {
		t.Fatalf("pairs %v", pairs)
	}
	got := must(s.Entries(c, a.ID, inbox.ID))(t)
	if len(got) != 2 || got[1].MessageID == e.MessageID || !slices.Equal(got[1].Keywords, e.Keywords) {
		t.Fatalf("entries %+v", got)
	}
	ms := must(s.Messages(c, a.ID, []store.MessageID{got[0].MessageID, got[1].MessageID}))(t)
	if ms[0].BlobID != ms[1].BlobID || ms[0].ThreadID != ms[1].ThreadID {
		t.Fatalf("duplicate differs: %+v", ms)
	}
}

func testExpunge(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newAccount(t, s, "alice")
	inbox := mailboxNamed(t, s, a.ID, "INBOX")
	arch := mailboxNamed(t, s, a.ID, "Archive")
	es := appendN(t, s, a.ID, inbox.ID, 5)
	must2(s.UpdateKeywords(c, a.ID, store.KeywordUpdate{Mailbox: inbox.ID, UIDs: []store.UID{2, 4, 5}, Mode: store.KeywordsAdd, Keywords: []string{store.KeywordDeleted}}))(t)
	must(s.Copy(c, a.ID, store.CopyRequest{From: inbox.ID, To: arch.ID, UIDs: []store.UID{4}}))(t)
	before := must(s.HighestModSeq(c, a.ID))(t)
	gone := must(s.Expunge(c, a.ID, inbox.ID, nil))(t)
	equalUIDs(t, "expunged $deleted", gone, []store.UID{2, 4, 5})
	equalUIDs(t, "left", uids(t, s, a.ID, inbox.ID), []store.UID{1, 3})
	gone = must(s.Expunge(c, a.ID, inbox.ID, []store.UID{3, 42}))(t)
	equalUIDs(t, "expunged by UID", gone, []store.UID{3})
	if gone := must(s.Expunge(c, a.ID, inbox.ID, []store.UID{}))(t); len(gone) != 0 {
		t.Fatalf("empty UID list expunged %v", gone)
	}
	// Message 4 is still in Archive; 2, 3 and 5 are destroyed.
	ms := must(s.Messages(c, a.ID, []store.MessageID{es[1].MessageID, es[2].MessageID, es[3].MessageID, es[4].MessageID}))(t)
	if len(ms) != 1 || ms[0].ID != es[3].MessageID {
		t.Fatalf("messages left: %+v", ms)
	}
	cs := must(s.Changes(c, a.ID, before, 0))(t)
	if !hasChange(cs, store.ChangeEmail, store.OpDestroyed, int64(es[1].MessageID)) ||
		!hasChange(cs, store.ChangeEmail, store.OpUpdated, int64(es[3].MessageID)) ||
		hasChange(cs, store.ChangeEmail, store.OpDestroyed, int64(es[3].MessageID)) {
		t.Fatalf("changes after expunge: %+v", cs)
	}
	if u := must(s.AccountUsage(c, a.ID))(t); u.Messages != 2 {
		t.Fatalf("usage after expunge: %+v", u)
	}
}

// must2 is must for two results.
func must2[A, B any](a A, b B, err error) func(t *testing.T) (A, B) {
	return func(t *testing.T) (A, B) {
		t.Helper()
		noErr(t, err)
		return a, b
	}
}

func testQuota(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newAccount(t, s, "alice")
	inbox := mailboxNamed(t, s, a.ID, "INBOX")
	m := msg("q")
	noErr(t, s.SetQuota(c, a.ID, 2*m.Size))
	must(s.Append(c, a.ID, inbox.ID, m))(t)
	e := must(s.Append(c, a.ID, inbox.ID, m))(t)
	_, err := s.Append(c, a.ID, inbox.ID, m)
	wantErr(t, err, store.ErrQuotaExceeded)
	_, err = s.Deliver(c, store.Delivery{Message: m, Targets: []store.DeliveryTarget{{Account: a.ID}}})
	wantErr(t, err, store.ErrQuotaExceeded)
	if u := must(s.AccountUsage(c, a.ID))(t); u.Messages != 2 || u.Bytes != 2*m.Size {
		t.Fatalf("usage %+v", u)
	}
	must(s.Expunge(c, a.ID, inbox.ID, []store.UID{e.UID}))(t)
	must(s.Append(c, a.ID, inbox.ID, m))(t)
	noErr(t, s.SetQuota(c, a.ID, 0)) // unlimited
	must(s.Append(c, a.ID, inbox.ID, m))(t)
}
