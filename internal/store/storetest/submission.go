package storetest

import (
	"testing"
	"time"

	"freehold/internal/store"
)

// submissionStore is a backend with JMAP submissions held in its queue.
type submissionStore interface {
	store.Store
	store.Submissions
	store.QueueDelivery
	store.ChangeLog
}

// testSubmissionQueue checks that a submission's undoStatus follows its
// held queue entry: QueueCancel (directly or through CancelSubmission)
// cancels it, the queue's claim makes it final, each with a change; and
// the lease that hands unqueued submissions to the queue.
func testSubmissionQueue(t *testing.T, st store.Store) {
	s, ok := st.(submissionStore)
	if !ok {
		t.Skip("backend keeps no JMAP submissions")
	}
	c := ctx(t)
	a := newAccount(t, s, "alice")
	b := newAccount(t, s, "bob")
	m := msg("held")
	now := time.Now()
	hold := now.Add(time.Hour)
	held := func() (store.QueueID, store.SubmissionID) {
		t.Helper()
		qid := must(s.Enqueue(c, store.OutboundMessage{Account: a.ID, MailFrom: "alice@example.org", BlobID: m.BlobID, Size: m.Size,
			HoldUntil: hold, Recipients: []store.OutboundRecipient{{Address: "x@remote.example"}}}))(t)
		id := must(s.CreateSubmission(c, store.Submission{Account: a.ID, MailFrom: "alice@example.org", Rcpts: []string{"x@remote.example"},
			BlobID: m.BlobID, Size: m.Size, Created: now, SendAt: hold, UndoStatus: store.UndoPending, QueueID: qid}))(t)
		return qid, id
	}
	status := func(id store.SubmissionID) string {
		t.Helper()
		subs := must(s.Submissions(c, a.ID, []store.SubmissionID{id}))(t)
		if len(subs) != 1 {
			t.Fatalf("Submissions(%d) = %+v", id, subs)
		}
		return subs[0].UndoStatus
	}
	updated := func(since store.ModSeq, id store.SubmissionID) {
		t.Helper()
		chs := must(s.Changes(c, a.ID, since, 1000))(t)
		for _, ch := range chs {
			if ch.Kind == store.ChangeSubmission && ch.ID == int64(id) && ch.Op == store.OpUpdated {
				return
			}
		}
		t.Errorf("no ChangeSubmission update of %d since %d: %+v", id, since, chs)
	}

	// Undo: the held entry goes, the submission is canceled.
	q1, s1 := held()
	if hs := must(s.QueueHeld(c, a.ID))(t); len(hs) != 1 || hs[0].ID != q1 {
		t.Fatalf("QueueHeld = %+v", hs)
	}
	wantErr(t, s.CancelSubmission(c, b.ID, s1), store.ErrNotFound)
	since := must(s.HighestModSeq(c, a.ID))(t)
	noErr(t, s.CancelSubmission(c, a.ID, s1))
	if hs := must(s.QueueHeld(c, a.ID))(t); len(hs) != 0 {
		t.Errorf("QueueHeld after cancel = %+v", hs)
	}
	if st := status(s1); st != store.UndoCanceled {
		t.Errorf("after cancel: %s", st)
	}
	updated(since, s1)
	wantErr(t, s.CancelSubmission(c, a.ID, s1), store.ErrInvalid)

	// The admin's cancel of the queue entry cancels the submission too.
	q2, s2 := held()
	noErr(t, s.QueueCancel(c, q2, 0))
	if st := status(s2); st != store.UndoCanceled {
		t.Errorf("after QueueCancel: %s", st)
	}

	// Release: the queue's claim after the hold makes it final.
	_, s3 := held()
	since = must(s.HighestModSeq(c, a.ID))(t)
	if w := must(s.QueueClaim(c, store.QueueClaim{Now: now, Owner: "t", Lease: time.Minute, Limit: 10}))(t); len(w) != 0 {
		t.Fatalf("claimed while held: %+v", w)
	}
	if w := must(s.QueueClaim(c, store.QueueClaim{Now: hold.Add(time.Second), Owner: "t", Lease: time.Minute, Limit: 10}))(t); len(w) != 1 {
		t.Fatalf("claim after the hold: %+v", w)
	}
	if st := status(s3); st != store.UndoFinal {
		t.Errorf("after release: %s", st)
	}
	updated(since, s3)
	wantErr(t, s.CancelSubmission(c, a.ID, s3), store.ErrInvalid)

	// A pending submission without a queue entry is handed over under a
	// lease, once.
	s4 := must(s.CreateSubmission(c, store.Submission{Account: a.ID, MailFrom: "alice@example.org", Rcpts: []string{"x@remote.example"},
		BlobID: m.BlobID, Size: m.Size, Created: now, SendAt: hold, UndoStatus: store.UndoPending}))(t)
	un := must(s.UnqueuedSubmissions(c, now, 10))(t)
	if len(un) != 1 || un[0].ID != s4 {
		t.Fatalf("UnqueuedSubmissions = %+v", un)
	}
	if _, ok := must2(s.ClaimSubmission(c, s4, now, now.Add(time.Minute)))(t); !ok {
		t.Fatal("claim failed")
	}
	if _, ok := must2(s.ClaimSubmission(c, s4, now, now.Add(time.Minute)))(t); ok {
		t.Fatal("claimed twice")
	}
	if un := must(s.UnqueuedSubmissions(c, now, 10))(t); len(un) != 0 {
		t.Errorf("leased submission listed: %+v", un)
	}
	q5 := must(s.Enqueue(c, store.OutboundMessage{Account: a.ID, MailFrom: "alice@example.org", BlobID: m.BlobID, Size: m.Size,
		HoldUntil: hold, Recipients: []store.OutboundRecipient{{Address: "x@remote.example"}}}))(t)
	noErr(t, s.SubmissionQueued(c, s4, store.SubmissionOutcome{QueueID: q5, UndoStatus: store.UndoPending}))
	if un := must(s.UnqueuedSubmissions(c, now.Add(time.Hour), 10))(t); len(un) != 0 {
		t.Errorf("queued submission still unqueued: %+v", un)
	}
	noErr(t, s.CancelSubmission(c, a.ID, s4))
	if st := status(s4); st != store.UndoCanceled {
		t.Errorf("handed over, then cancelled: %s", st)
	}
}
