package jmap

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"freehold/internal/blob"
	"freehold/internal/store"
)

// releaseLease is how long a node holds a submission it is releasing;
// after a crash another node (or this one, restarted) retries once it
// expires.
const releaseLease = 2 * time.Minute

// releaseInterval is how often Run looks for due submissions.
const releaseInterval = time.Second

// Run releases due submissions until ctx ends. The app runs it once per
// node; the store's lease makes nodes share the work without sending a
// message twice (except after a crash mid-release: then the message is
// submitted again with the same SubmitRequest.Key).
func (s *Server) Run(ctx context.Context) error {
	t := time.NewTicker(releaseInterval)
	defer t.Stop()
	for {
		if _, err := s.ReleaseDue(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("releasing submissions", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// ReleaseDue releases the submissions whose time has come and returns how
// many went out.
func (s *Server) ReleaseDue(ctx context.Context) (int, error) {
	due, err := s.st.DueSubmissions(ctx, s.now(), 100)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, sub := range due {
		if err := s.releaseOne(ctx, sub.ID); err != nil {
			s.log.Warn("submission release failed; it will be retried", "submission", sub.ID, "err", err)
			continue
		}
		n++
	}
	return n, nil
}

// releaseOne claims a due submission and hands it to the Submitter.
func (s *Server) releaseOne(ctx context.Context, id store.SubmissionID) error {
	now := s.now()
	subs, ok, err := s.st.ClaimSubmission(ctx, id, now, now.Add(releaseLease))
	if err != nil || !ok {
		return err
	}
	raw, err := blob.ReadAll(ctx, s.blobs, subs.BlobID)
	if err != nil {
		return fmt.Errorf("reading message: %w", err)
	}
	var params map[string]string
	_ = json.Unmarshal(subs.MailFromParams, &params)
	for k := range params {
		switch k {
		case "HOLDUNTIL", "HOLDFOR", "holduntil", "holdfor":
			delete(params, k) // the hold was ours
		}
	}
	res, err := s.submitter.Submit(ctx, SubmitRequest{Account: subs.Account, Key: "submission-" + fmt.Sprint(id),
		MailFrom: subs.MailFrom, Rcpts: subs.Rcpts, Raw: raw, Params: params})
	if err != nil {
		return fmt.Errorf("submit: %w", err)
	}
	dr := deliveryResult{}
	for _, r := range subs.Rcpts {
		if reply, refused := res.Refused[r]; refused {
			dr[r] = deliveryStatus{SMTPReply: reply, Delivered: "no", Displayed: "unknown"}
		} else {
			dr[r] = deliveryStatus{SMTPReply: "250 2.0.0 Queued", Delivered: "queued", Displayed: "unknown"}
		}
	}
	result, _ := json.Marshal(dr)
	return s.st.FinishSubmission(ctx, id, s.now(), result)
}
