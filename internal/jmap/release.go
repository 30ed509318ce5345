package jmap

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"time"

	"freehold/internal/blob"
	"freehold/internal/store"
)

// A submission's message is handed to the Submitter when it is created,
// held in the outbound queue until its sendAt (FUTURERELEASE's hold): the
// queue releases it, and the store keeps the submission's undoStatus in
// step with the queue entry. Nothing here waits for a due time.

// handOverLease is how long a node holds an unqueued submission it is
// handing to the queue; after a crash another node (or this one,
// restarted) retries once it expires.
const handOverLease = 2 * time.Minute

// submit hands a submission's message to the Submitter, held until sendAt
// when that is still ahead, and returns its outcome: pending while held,
// final when delivered (or queued) at once or refused for everyone.
func (s *Server) submit(ctx context.Context, key string, sub store.Submission, raw []byte) (store.SubmissionOutcome, error) {
	now := s.now()
	var hold time.Time
	if sub.SendAt.After(now) {
		hold = sub.SendAt
	}
	res, err := s.submitter.Submit(ctx, SubmitRequest{Account: sub.Account, Key: key, MailFrom: sub.MailFrom,
		Rcpts: sub.Rcpts, Raw: raw, Params: sendParams(sub.MailFromParams), HoldUntil: hold})
	if err != nil {
		return store.SubmissionOutcome{}, fmt.Errorf("submit: %w", err)
	}
	dr := deliveryResult{}
	for _, r := range sub.Rcpts {
		if reply, refused := res.Refused[r]; refused {
			dr[r] = deliveryStatus{SMTPReply: reply, Delivered: "no", Displayed: "unknown"}
		} else {
			dr[r] = deliveryStatus{SMTPReply: "250 2.0.0 Queued", Delivered: "queued", Displayed: "unknown"}
		}
	}
	result, _ := json.Marshal(dr)
	out := store.SubmissionOutcome{QueueID: res.QueueID, UndoStatus: store.UndoFinal, Result: result}
	if !hold.IsZero() && res.QueueID != 0 {
		out.UndoStatus = store.UndoPending
	}
	return out, nil
}

// sendParams are the MAIL FROM parameters to pass on: HOLDFOR and
// HOLDUNTIL became the submission's sendAt, which the Submitter is given
// as its hold.
func sendParams(stored []byte) map[string]string {
	var params map[string]string
	_ = json.Unmarshal(stored, &params)
	maps.DeleteFunc(params, func(k, _ string) bool {
		k = strings.ToUpper(k)
		return k == "HOLDFOR" || k == "HOLDUNTIL"
	})
	return params
}

// HandOverUnqueued gives the queue every pending submission that has none
// yet: those stored by a release that kept submissions in their own table
// until due. The app calls it once at start; each goes out held until its
// sendAt, or at once when that has passed, so none is lost in an upgrade.
// It returns how many were handed over. A submission whose hand-over
// fails stays pending and unqueued for the next start.
func (s *Server) HandOverUnqueued(ctx context.Context) (int, error) {
	if s.submitter == nil {
		return 0, nil
	}
	n := 0
	for {
		subs, err := s.st.UnqueuedSubmissions(ctx, s.now(), 100)
		if err != nil || len(subs) == 0 {
			return n, err
		}
		progress := false
		for _, sub := range subs {
			done, err := s.handOver(ctx, sub.ID)
			if err != nil {
				s.log.Warn("handing a submission to the queue failed", "submission", sub.ID, "err", err)
				continue
			}
			progress = true
			if done {
				n++
			}
		}
		if !progress {
			return n, nil
		}
	}
}

// handOver claims one unqueued submission and hands it to the Submitter
// (with the Key the older release used, so a duplicate is recognisable);
// false when another node has it.
func (s *Server) handOver(ctx context.Context, id store.SubmissionID) (bool, error) {
	now := s.now()
	sub, ok, err := s.st.ClaimSubmission(ctx, id, now, now.Add(handOverLease))
	if err != nil || !ok {
		return false, err
	}
	raw, err := blob.ReadAll(ctx, s.blobs, sub.BlobID)
	if err != nil {
		return false, fmt.Errorf("reading message: %w", err)
	}
	out, err := s.submit(ctx, "submission-"+fmt.Sprint(id), sub, raw)
	if err != nil {
		return false, err
	}
	return true, s.st.SubmissionQueued(ctx, id, out)
}
