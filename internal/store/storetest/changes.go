package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"freehold/internal/store"
)

func testUpdateKeywords(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newAccount(t, s, "alice")
	inbox := mailboxNamed(t, s, a.ID, "INBOX")
	arch := mailboxNamed(t, s, a.ID, "Archive")
	es := appendN(t, s, a.ID, inbox.ID, 3)
	must(s.Copy(c, a.ID, store.CopyRequest{From: inbox.ID, To: arch.ID, UIDs: []store.UID{1}}))(t)
	before := must(s.HighestModSeq(c, a.ID))(t)

	changed, failed := must2(s.UpdateKeywords(c, a.ID, store.KeywordUpdate{Mailbox: inbox.ID, UIDs: []store.UID{1, 2, 77},
		Mode: store.KeywordsAdd, Keywords: []string{"$Seen", "Label"}}))(t)
	if len(failed) != 0 || len(changed) != 2 || changed[0].UID != 1 || changed[1].UID != 2 ||
		!slices.Equal(changed[0].Keywords, []string{"$seen", "label"}) || changed[0].ModSeq <= before {
		t.Fatalf("add: changed %+v failed %v", changed, failed)
	}
	ms := changed[0].ModSeq
	// The change shows in every mailbox holding the message.
	archE := must(s.Entries(c, a.ID, arch.ID))(t)
	if archE[0].ModSeq != ms || !slices.Equal(archE[0].Keywords, []string{"$seen", "label"}) {
		t.Fatalf("copy in Archive: %+v", archE[0])
	}
	if st := status(t, s, a.ID, arch.ID); st.HighestModSeq != ms || st.Unseen != 0 {
		t.Fatalf("Archive status %+v", st)
	}
	if st := status(t, s, a.ID, inbox.ID); st.Unseen != 1 || st.HighestModSeq != ms {
		t.Fatalf("INBOX status %+v", st)
	}
	// Adding what is there changes nothing.
	changed, _ = must2(s.UpdateKeywords(c, a.ID, store.KeywordUpdate{Mailbox: inbox.ID, UIDs: []store.UID{1}, Mode: store.KeywordsAdd, Keywords: []string{"label"}}))(t)
	if len(changed) != 0 {
		t.Fatalf("no-op update changed %+v", changed)
	}
	changed, _ = must2(s.UpdateKeywords(c, a.ID, store.KeywordUpdate{Mailbox: inbox.ID, UIDs: []store.UID{1, 2, 3}, Mode: store.KeywordsRemove, Keywords: []string{"LABEL"}}))(t)
	if len(changed) != 2 || !slices.Equal(changed[0].Keywords, []string{"$seen"}) {
		t.Fatalf("remove: %+v", changed)
	}
	changed, _ = must2(s.UpdateKeywords(c, a.ID, store.KeywordUpdate{Mailbox: inbox.ID, UIDs: []store.UID{1, 3}, Mode: store.KeywordsReplace, Keywords: []string{"$flagged"}}))(t)
	if len(changed) != 2 || !slices.Equal(changed[1].Keywords, []string{"$flagged"}) {
		t.Fatalf("replace: %+v", changed)
	}
	m := must(s.Messages(c, a.ID, []store.MessageID{es[0].MessageID}))(t)[0]
	if !slices.Equal(m.Keywords, []string{"$flagged"}) || m.ModSeq != changed[0].ModSeq {
		t.Fatalf("message after replace: %+v", m)
	}
	changed, _ = must2(s.UpdateKeywords(c, a.ID, store.KeywordUpdate{Mailbox: inbox.ID, UIDs: []store.UID{1}, Mode: store.KeywordsReplace}))(t)
	if len(changed) != 1 || len(changed[0].Keywords) != 0 {
		t.Fatalf("clear: %+v", changed)
	}
	cs := must(s.Changes(c, a.ID, before, 0))(t)
	if !hasChange(cs, store.ChangeEmail, store.OpUpdated, int64(es[0].MessageID)) {
		t.Fatalf("no Email update logged: %+v", cs)
	}
}

func testUnchangedSince(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newAccount(t, s, "alice")
	inbox := mailboxNamed(t, s, a.ID, "INBOX")
	es := appendN(t, s, a.ID, inbox.ID, 3)
	// Message 2 changes after the client's snapshot.
	snap := es[2].ModSeq
	must2(s.UpdateKeywords(c, a.ID, store.KeywordUpdate{Mailbox: inbox.ID, UIDs: []store.UID{2}, Mode: store.KeywordsAdd, Keywords: []string{"$answered"}}))(t)
	changed, failed := must2(s.UpdateKeywords(c, a.ID, store.KeywordUpdate{Mailbox: inbox.ID, UIDs: []store.UID{1, 2, 3},
		Mode: store.KeywordsAdd, Keywords: []string{"$seen"}, UnchangedSince: snap}))(t)
	equalUIDs(t, "failed", failed, []store.UID{2})
	equalUIDs(t, "changed", entryUIDs(changed), []store.UID{1, 3})
	got := must(s.Entries(c, a.ID, inbox.ID))(t)
	if !slices.Equal(got[1].Keywords, []string{"$answered"}) {
		t.Fatalf("failed message was changed: %+v", got[1])
	}
	// UNCHANGEDSINCE equal to the current ModSeq succeeds (RFC 7162 §3.1.3).
	_, failed = must2(s.UpdateKeywords(c, a.ID, store.KeywordUpdate{Mailbox: inbox.ID, UIDs: []store.UID{2},
		Mode: store.KeywordsAdd, Keywords: []string{"$seen"}, UnchangedSince: got[1].ModSeq}))(t)
	if len(failed) != 0 {
		t.Fatalf("failed %v", failed)
	}
}

func testMailboxChanges(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newAccount(t, s, "alice")
	inbox := mailboxNamed(t, s, a.ID, "INBOX")
	appendN(t, s, a.ID, inbox.ID, 4)
	d := must(s.MailboxChanges(c, a.ID, inbox.ID, 0))(t)
	equalUIDs(t, "all since 0", entryUIDs(d.Changed), []store.UID{1, 2, 3, 4})
	if len(d.Expunged) != 0 || d.Highest != status(t, s, a.ID, inbox.ID).HighestModSeq {
		t.Fatalf("delta %+v", d)
	}
	since := d.Highest
	if d := must(s.MailboxChanges(c, a.ID, inbox.ID, since))(t); len(d.Changed)+len(d.Expunged) != 0 || d.Highest != since {
		t.Fatalf("delta with no change: %+v", d)
	}
	must2(s.UpdateKeywords(c, a.ID, store.KeywordUpdate{Mailbox: inbox.ID, UIDs: []store.UID{2}, Mode: store.KeywordsAdd, Keywords: []string{"$seen"}}))(t)
	must(s.Expunge(c, a.ID, inbox.ID, []store.UID{3}))(t)
	appendN(t, s, a.ID, inbox.ID, 1)
	// A change in another mailbox does not show.
	appendN(t, s, a.ID, mailboxNamed(t, s, a.ID, "Sent").ID, 1)
	d = must(s.MailboxChanges(c, a.ID, inbox.ID, since))(t)
	equalUIDs(t, "changed", entryUIDs(d.Changed), []store.UID{2, 5})
	equalUIDs(t, "expunged", d.Expunged, []store.UID{3})
	if d.Highest <= since || d.Highest != d.Changed[1].ModSeq {
		t.Fatalf("Highest %d, since %d, changed %+v", d.Highest, since, d.Changed)
	}
	// Expunging the newest entry still moves HIGHESTMODSEQ.
	must(s.Expunge(c, a.ID, inbox.ID, []store.UID{5}))(t)
	if st := status(t, s, a.ID, inbox.ID); st.HighestModSeq <= d.Highest {
		t.Fatalf("HIGHESTMODSEQ %d did not move past %d on expunge", st.HighestModSeq, d.Highest)
	}
	_, err := s.MailboxChanges(c, a.ID, inbox.ID+1000, 0)
	wantErr(t, err, store.ErrNotFound)
}

func testChangesOrder(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newAccount(t, s, "alice")
	inbox := mailboxNamed(t, s, a.ID, "INBOX")
	appendN(t, s, a.ID, inbox.ID, 5)
	all := must(s.Changes(c, a.ID, 0, 0))(t)
	if len(all) < 10 {
		t.Fatalf("only %d changes", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].ModSeq < all[i-1].ModSeq {
			t.Fatalf("changes out of order at %d: %+v", i, all)
		}
	}
	if all[len(all)-1].ModSeq != must(s.HighestModSeq(c, a.ID))(t) || all[0].At.IsZero() {
		t.Fatalf("last change %+v", all[len(all)-1])
	}
	// Paging with a limit returns every change exactly once, never
	// splitting a ModSeq.
	var paged []store.Change
	since := store.ModSeq(0)
	for range 100 {
		page := must(s.Changes(c, a.ID, since, 3))(t)
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		since = page[len(page)-1].ModSeq
	}
	if len(paged) != len(all) {
		t.Fatalf("paged %d changes, want %d", len(paged), len(all))
	}
	for i := range all {
		if all[i].ModSeq != paged[i].ModSeq || all[i].Kind != paged[i].Kind || all[i].ID != paged[i].ID {
			t.Fatalf("page differs at %d: %+v vs %+v", i, paged[i], all[i])
		}
	}
	entries := 0
	for _, ch := range all {
		if ch.Kind == store.ChangeEntry && ch.Op == store.OpCreated {
			if ch.Mailbox != inbox.ID || ch.UID == 0 {
				t.Fatalf("entry change %+v", ch)
			}
			entries++
		}
	}
	if entries != 5 {
		t.Fatalf("%d entry creations, want 5", entries)
	}
	_, err := s.Changes(c, a.ID+1000, 0, 0)
	wantErr(t, err, store.ErrNotFound)
}

func testChangesPruned(t *testing.T, s store.Store) {
	mt, ok := s.(store.Maintenance)
	if !ok {
		t.Skip("store does not implement store.Maintenance")
	}
	c := ctx(t)
	a := newAccount(t, s, "alice")
	inbox := mailboxNamed(t, s, a.ID, "INBOX")
	appendN(t, s, a.ID, inbox.ID, 2)
	old := must(s.HighestModSeq(c, a.ID))(t)
	if n := must(mt.PruneChanges(c, time.Now().Add(-time.Hour)))(t); n != 0 {
		t.Fatalf("pruned %d recent changes", n)
	}
	if n := must(mt.PruneChanges(c, time.Now().Add(time.Hour)))(t); n == 0 {
		t.Fatal("pruned nothing")
	}
	_, err := s.MailboxChanges(c, a.ID, inbox.ID, old-1)
	wantErr(t, err, store.ErrChangesTooOld)
	_, err = s.Changes(c, a.ID, 0, 0)
	wantErr(t, err, store.ErrChangesTooOld)
	// A client up to date when the log was pruned continues.
	appendN(t, s, a.ID, inbox.ID, 1)
	d := must(s.MailboxChanges(c, a.ID, inbox.ID, old))(t)
	equalUIDs(t, "after prune", entryUIDs(d.Changed), []store.UID{3})
	if v := must(mt.SchemaVersion(c))(t); v < 1 {
		t.Fatalf("SchemaVersion = %d", v)
	}
}

func testHighestModSeq(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newAccount(t, s, "alice")
	inbox := mailboxNamed(t, s, a.ID, "INBOX")
	last := must(s.HighestModSeq(c, a.ID))(t)
	step := func(what string, fn func()) {
		t.Helper()
		fn()
		now := must(s.HighestModSeq(c, a.ID))(t)
		if now <= last {
			t.Fatalf("%s: HighestModSeq %d after %d", what, now, last)
		}
		last = now
	}
	var e store.MailboxEntry
	step("append", func() { e = appendN(t, s, a.ID, inbox.ID, 1)[0] })
	step("keywords", func() {
		must2(s.UpdateKeywords(c, a.ID, store.KeywordUpdate{Mailbox: inbox.ID, UIDs: []store.UID{e.UID}, Mode: store.KeywordsAdd, Keywords: []string{"$seen"}}))(t)
	})
	step("copy", func() {
		must(s.Copy(c, a.ID, store.CopyRequest{From: inbox.ID, To: mailboxNamed(t, s, a.ID, "Trash").ID, UIDs: []store.UID{e.UID}}))(t)
	})
	step("expunge", func() { must(s.Expunge(c, a.ID, inbox.ID, []store.UID{e.UID}))(t) })
	step("create mailbox", func() { must(s.CreateMailbox(c, a.ID, store.NewMailbox{Name: "X"}))(t) })
	step("subscribe", func() { noErr(t, s.SetSubscribed(c, a.ID, inbox.ID, false)) })
	step("deliver", func() {
		must(s.Deliver(c, store.Delivery{Message: msg("d"), Targets: []store.DeliveryTarget{{Account: a.ID}}}))(t)
	})
	// Another account's changes do not move this one's.
	b := newAccount(t, s, "bob")
	appendN(t, s, b.ID, mailboxNamed(t, s, b.ID, "INBOX").ID, 2)
	if now := must(s.HighestModSeq(c, a.ID))(t); now != last {
		t.Fatalf("bob's changes moved alice's ModSeq from %d to %d", last, now)
	}
}

func testListen(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newAccount(t, s, "alice")
	b := newAccount(t, s, "bob")
	lctx, cancel := context.WithCancel(c)
	ch := s.Listen(lctx, a.ID)
	chB := s.Listen(lctx, b.ID)
	done := make(chan []store.Delivered, 1)
	go func() {
		ds, err := s.Deliver(c, store.Delivery{Message: msg("wake"), Targets: []store.DeliveryTarget{{Account: a.ID}}})
		if err != nil {
			t.Error(err)
		}
		done <- ds
	}()
	select {
	case m := <-ch:
		if m < 1 {
			t.Fatalf("Listen sent %d", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Listen did not wake after Deliver")
	}
	<-done
	// A burst is coalesced: the reader sees the latest value.
	for range 5 {
		appendN(t, s, a.ID, mailboxNamed(t, s, a.ID, "INBOX").ID, 1)
	}
	want := must(s.HighestModSeq(c, a.ID))(t)
	deadline := time.After(10 * time.Second)
	for got := store.ModSeq(0); got != want; {
		select {
		case got = <-ch:
		case <-deadline:
			t.Fatalf("Listen never reached %d", want)
		}
	}
	select {
	case m := <-chB:
		t.Fatalf("bob's channel woke with %d on alice's change", m)
	default:
	}
	cancel()
	for _, c := range []<-chan store.ModSeq{ch, chB} {
		select {
		case _, ok := <-c:
			for ok {
				_, ok = <-c
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Listen channel not closed after ctx ended")
		}
	}
}

func testThreads(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newAccount(t, s, "alice")
	inbox := mailboxNamed(t, s, a.ID, "INBOX").ID
	put := func(subject, id string, inReplyTo []string, refs ...string) store.Message {
		m := msg(subject)
		m.Envelope.MessageID, m.Envelope.InReplyTo, m.Envelope.References = id, inReplyTo, refs
		e := must(s.Append(c, a.ID, inbox, m))(t)
		return must(s.Messages(c, a.ID, []store.MessageID{e.MessageID}))(t)[0]
	}
	root := put("root", "root@x", nil)
	reply := put("re", "reply@x", []string{"root@x"}, "root@x")
	deeper := put("re2", "deep@x", nil, "root@x", "reply@x")
	other := put("other", "other@x", nil)
	// A message arriving before its parent: the parent joins its thread.
	orphan := put("orphan", "o2@x", []string{"o1@x"}, "o1@x")
	parent := put("parent", "o1@x", nil)
	if reply.ThreadID != root.ThreadID || deeper.ThreadID != root.ThreadID {
		t.Fatalf("replies not in root's thread: %d %d %d", root.ThreadID, reply.ThreadID, deeper.ThreadID)
	}
	if other.ThreadID == root.ThreadID || orphan.ThreadID == root.ThreadID || orphan.ThreadID == other.ThreadID {
		t.Fatalf("unrelated messages share a thread: %d %d %d", root.ThreadID, other.ThreadID, orphan.ThreadID)
	}
	if parent.ThreadID != orphan.ThreadID {
		t.Fatalf("parent in thread %d, its reply in %d", parent.ThreadID, orphan.ThreadID)
	}
	cs := must(s.Changes(c, a.ID, 0, 0))(t)
	if !hasChange(cs, store.ChangeThread, store.OpCreated, int64(root.ThreadID)) ||
		!hasChange(cs, store.ChangeThread, store.OpUpdated, int64(root.ThreadID)) {
		t.Fatalf("thread changes missing: %+v", cs)
	}
	// Destroying every message of a thread destroys the thread.
	before := must(s.HighestModSeq(c, a.ID))(t)
	es := must(s.Entries(c, a.ID, inbox))(t)
	var del []store.UID
	for _, e := range es {
		if e.MessageID == other.ID {
			del = append(del, e.UID)
		}
	}
	must(s.Expunge(c, a.ID, inbox, del))(t)
	cs = must(s.Changes(c, a.ID, before, 0))(t)
	if !hasChange(cs, store.ChangeThread, store.OpDestroyed, int64(other.ThreadID)) {
		t.Fatalf("thread not destroyed: %+v", cs)
	}
	// A later message referencing a destroyed thread's messages starts anew.
	again := put("again", "other2@x", nil, "other@x")
	if again.ThreadID == other.ThreadID || slices.Contains([]store.ThreadID{root.ThreadID, orphan.ThreadID}, again.ThreadID) {
		t.Fatalf("thread %d reused", again.ThreadID)
	}
}
