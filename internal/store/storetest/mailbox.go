package storetest

import (
	"slices"
	"testing"

	"freehold/internal/store"
)

func testDefaultMailboxes(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newAccount(t, s, "alice")
	mbs := must(s.Mailboxes(c, a.ID))(t)
	if len(mbs) != len(store.DefaultMailboxes) {
		t.Fatalf("got %d mailboxes, want %d", len(mbs), len(store.DefaultMailboxes))
	}
	seen := map[uint32]bool{}
	for i, m := range mbs {
		want := store.DefaultMailboxes[i]
		if m.Name != want.Name || m.SpecialUse != want.SpecialUse || m.AccountID != a.ID {
			t.Errorf("mailbox %d = %+v, want %+v", i, m, want)
		}
		if m.UIDNext != 1 || m.UIDValidity == 0 || !m.Subscribed || m.ModSeq == 0 {
			t.Errorf("mailbox %s = %+v", m.Name, m)
		}
		if seen[m.UIDValidity] {
			t.Errorf("UIDVALIDITY %d used twice", m.UIDValidity)
		}
		seen[m.UIDValidity] = true
	}
	for _, name := range []string{"INBOX", "inbox", "InBoX"} {
		if m := mailboxNamed(t, s, a.ID, name); m.Name != "INBOX" {
			t.Fatalf("MailboxByName(%q) = %+v", name, m)
		}
	}
	_, err := s.MailboxByName(c, a.ID, "sent") // only INBOX is case-insensitive
	wantErr(t, err, store.ErrNotFound)
	m := must(s.Mailbox(c, a.ID, mbs[1].ID))(t)
	if m != mbs[1] {
		t.Fatalf("Mailbox = %+v, want %+v", m, mbs[1])
	}
	b := newAccount(t, s, "bob")
	_, err = s.Mailbox(c, b.ID, mbs[1].ID) // another account's mailbox
	wantErr(t, err, store.ErrNotFound)
	if hm := must(s.HighestModSeq(c, a.ID))(t); hm < 1 {
		t.Fatalf("HighestModSeq of a new account = %d", hm)
	}
}

func testCreateMailbox(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newAccount(t, s, "alice")
	_, err := s.CreateMailbox(c, a.ID, store.NewMailbox{Name: "Work/2025"})
	wantErr(t, err, store.ErrNotFound)
	work := must(s.CreateMailbox(c, a.ID, store.NewMailbox{Name: "Work"}))(t)
	sub := must(s.CreateMailbox(c, a.ID, store.NewMailbox{Name: "Work/2025", SpecialUse: store.UseArchive}))(t)
	if sub.Name != "Work/2025" || sub.SpecialUse != store.UseArchive || sub.UIDNext != 1 || !sub.Subscribed {
		t.Fatalf("CreateMailbox = %+v", sub)
	}
	if got := mailboxNamed(t, s, a.ID, "Work/2025"); got != sub {
		t.Fatalf("MailboxByName = %+v, want %+v", got, sub)
	}
	_, err = s.CreateMailbox(c, a.ID, store.NewMailbox{Name: "Work"})
	wantErr(t, err, store.ErrExists)
	_, err = s.CreateMailbox(c, a.ID, store.NewMailbox{Name: "inbox"})
	wantErr(t, err, store.ErrExists)
	kid := must(s.CreateMailbox(c, a.ID, store.NewMailbox{Name: "inbox/Lists"}))(t)
	if kid.Name != "INBOX/Lists" {
		t.Fatalf("child of INBOX named %q", kid.Name)
	}
	for _, bad := range []string{"", "/x", "x/", "Work//a", "a*b", "a%b", "bad\x01"} {
		_, err = s.CreateMailbox(c, a.ID, store.NewMailbox{Name: bad})
		wantErr(t, err, store.ErrInvalid)
	}
	_, err = s.CreateMailbox(c, a.ID, store.NewMailbox{Name: "Odd", SpecialUse: `\Nonsense`})
	wantErr(t, err, store.ErrInvalid)
	// A mailbox deleted and created again gets a new UIDVALIDITY.
	noErr(t, s.DeleteMailbox(c, a.ID, sub.ID))
	again := must(s.CreateMailbox(c, a.ID, store.NewMailbox{Name: "Work/2025"}))(t)
	if again.UIDValidity <= sub.UIDValidity || again.ID == sub.ID {
		t.Fatalf("re-created mailbox %+v, old %+v", again, sub)
	}
	changes := must(s.Changes(c, a.ID, work.ModSeq-1, 0))(t)
	if !hasChange(changes, store.ChangeMailbox, store.OpCreated, int64(work.ID)) ||
		!hasChange(changes, store.ChangeMailbox, store.OpDestroyed, int64(sub.ID)) {
		t.Fatalf("changes %+v lack the mailbox creation or deletion", changes)
	}
}

func testSetSubscribed(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newAccount(t, s, "alice")
	m := mailboxNamed(t, s, a.ID, "Junk")
	noErr(t, s.SetSubscribed(c, a.ID, m.ID, false))
	got := must(s.Mailbox(c, a.ID, m.ID))(t)
	if got.Subscribed || got.ModSeq <= m.ModSeq {
		t.Fatalf("after unsubscribe: %+v (was %+v)", got, m)
	}
	noErr(t, s.SetSubscribed(c, a.ID, m.ID, true))
	if got := must(s.Mailbox(c, a.ID, m.ID))(t); !got.Subscribed {
		t.Fatal("still unsubscribed")
	}
	wantErr(t, s.SetSubscribed(c, a.ID, m.ID+1000, true), store.ErrNotFound)
}

func testDeleteMailbox(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newAccount(t, s, "alice")
	inbox := mailboxNamed(t, s, a.ID, "INBOX")
	wantErr(t, s.DeleteMailbox(c, a.ID, inbox.ID), store.ErrInvalid)
	parent := must(s.CreateMailbox(c, a.ID, store.NewMailbox{Name: "P"}))(t)
	must(s.CreateMailbox(c, a.ID, store.NewMailbox{Name: "P/C"}))(t)
	wantErr(t, s.DeleteMailbox(c, a.ID, parent.ID), store.ErrInvalid)

	box := must(s.CreateMailbox(c, a.ID, store.NewMailbox{Name: "Box"}))(t)
	es := appendN(t, s, a.ID, box.ID, 2)
	// The first message is also in INBOX, so it survives.
	must(s.Copy(c, a.ID, store.CopyRequest{From: box.ID, To: inbox.ID, UIDs: []store.UID{es[0].UID}}))(t)
	before := must(s.HighestModSeq(c, a.ID))(t)
	noErr(t, s.DeleteMailbox(c, a.ID, box.ID))
	_, err := s.Mailbox(c, a.ID, box.ID)
	wantErr(t, err, store.ErrNotFound)
	msgs := must(s.Messages(c, a.ID, []store.MessageID{es[0].MessageID, es[1].MessageID}))(t)
	if len(msgs) != 1 || msgs[0].ID != es[0].MessageID || !slices.Equal(msgs[0].Mailboxes, []store.MailboxID{inbox.ID}) {
		t.Fatalf("messages after DeleteMailbox: %+v", msgs)
	}
	if u := must(s.AccountUsage(c, a.ID))(t); u.Messages != 1 {
		t.Fatalf("usage after DeleteMailbox: %+v", u)
	}
	cs := must(s.Changes(c, a.ID, before, 0))(t)
	if !hasChange(cs, store.ChangeMailbox, store.OpDestroyed, int64(box.ID)) ||
		!hasChange(cs, store.ChangeEmail, store.OpDestroyed, int64(es[1].MessageID)) ||
		!hasChange(cs, store.ChangeEmail, store.OpUpdated, int64(es[0].MessageID)) {
		t.Fatalf("changes after DeleteMailbox: %+v", cs)
	}
	wantErr(t, s.DeleteMailbox(c, a.ID, box.ID), store.ErrNotFound)
}

func testRenameMailbox(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newAccount(t, s, "alice")
	p := must(s.CreateMailbox(c, a.ID, store.NewMailbox{Name: "P"}))(t)
	kid := must(s.CreateMailbox(c, a.ID, store.NewMailbox{Name: "P/C"}))(t)
	grand := must(s.CreateMailbox(c, a.ID, store.NewMailbox{Name: "P/C/G"}))(t)
	other := must(s.CreateMailbox(c, a.ID, store.NewMailbox{Name: "PX"}))(t)
	es := appendN(t, s, a.ID, kid.ID, 2)

	wantErr(t, s.RenameMailbox(c, a.ID, p.ID, "PX"), store.ErrExists)
	wantErr(t, s.RenameMailbox(c, a.ID, p.ID, "INBOX"), store.ErrExists)
	wantErr(t, s.RenameMailbox(c, a.ID, p.ID, "Nope/P"), store.ErrNotFound)
	wantErr(t, s.RenameMailbox(c, a.ID, p.ID, "P/C/P"), store.ErrInvalid)
	wantErr(t, s.RenameMailbox(c, a.ID, p.ID, "a//b"), store.ErrInvalid)

	noErr(t, s.RenameMailbox(c, a.ID, p.ID, "Archive/Q"))
	for id, want := range map[store.MailboxID]string{p.ID: "Archive/Q", kid.ID: "Archive/Q/C", grand.ID: "Archive/Q/C/G", other.ID: "PX"} {
		if got := must(s.Mailbox(c, a.ID, id))(t); got.Name != want {
			t.Errorf("mailbox %d named %q, want %q", id, got.Name, want)
		}
	}
	got := mailboxNamed(t, s, a.ID, "Archive/Q/C")
	if got.UIDValidity != kid.UIDValidity || got.ModSeq <= kid.ModSeq {
		t.Fatalf("renamed child %+v, was %+v", got, kid)
	}
	equalUIDs(t, "renamed child", uids(t, s, a.ID, kid.ID), entryUIDs(es))
	_, err := s.MailboxByName(c, a.ID, "P")
	wantErr(t, err, store.ErrNotFound)
}

func testRenameInbox(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newAccount(t, s, "alice")
	inbox := mailboxNamed(t, s, a.ID, "INBOX")
	kid := must(s.CreateMailbox(c, a.ID, store.NewMailbox{Name: "INBOX/Kid"}))(t)
	es := appendN(t, s, a.ID, inbox.ID, 3)
	noErr(t, s.RenameMailbox(c, a.ID, inbox.ID, "Old Inbox"))
	old := mailboxNamed(t, s, a.ID, "Old Inbox")
	if old.ID == inbox.ID {
		t.Fatal("INBOX itself was renamed")
	}
	if got := must(s.Entries(c, a.ID, old.ID))(t); len(got) != 3 || got[0].MessageID != es[0].MessageID {
		t.Fatalf("renamed INBOX holds %+v", got)
	}
	if st := status(t, s, a.ID, inbox.ID); st.Messages != 0 || st.Name != "INBOX" {
		t.Fatalf("INBOX after rename: %+v", st)
	}
	if got := must(s.Mailbox(c, a.ID, kid.ID))(t); got.Name != "INBOX/Kid" {
		t.Fatalf("INBOX's child renamed to %q", got.Name)
	}
	// New mail still lands in INBOX, with UIDs above the old ones.
	e := appendN(t, s, a.ID, inbox.ID, 1)[0]
	if e.UID <= es[2].UID {
		t.Fatalf("UID %d reused after INBOX rename", e.UID)
	}
	d := must(s.MailboxChanges(c, a.ID, inbox.ID, 0))(t)
	equalUIDs(t, "INBOX expunged", d.Expunged, entryUIDs(es))
}
