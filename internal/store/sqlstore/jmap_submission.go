package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"freehold/internal/store"
)

const submissionCols = `id, account_id, identity_id, email_id, thread_id, mail_from, mail_from_params, rcpts,
	blob_id, size, created, send_at, undo_status, queue_id, result`

func scanSubmission(sc scanner) (store.Submission, error) {
	var sub store.Submission
	var params, rcpts, result string
	var created, sendAt int64
	err := sc.Scan(&sub.ID, &sub.Account, &sub.IdentityID, &sub.EmailID, &sub.ThreadID, &sub.MailFrom, &params, &rcpts,
		&sub.BlobID, &sub.Size, &created, &sendAt, &sub.UndoStatus, &sub.QueueID, &result)
	if err != nil {
		return sub, err
	}
	if sub.Rcpts, err = decodeStrings(rcpts); err != nil {
		return sub, err
	}
	if params != "" {
		sub.MailFromParams = []byte(params)
	}
	if result != "" {
		sub.Result = []byte(result)
	}
	sub.Created, sub.SendAt = fromNanos(created), fromNanos(sendAt)
	return sub, nil
}

// CreateSubmission implements store.Submissions.
func (s *Store) CreateSubmission(ctx context.Context, sub store.Submission) (store.SubmissionID, error) {
	var id store.SubmissionID
	err := s.write(ctx, func(w *wtx) error {
		status := sub.UndoStatus
		if status == "" {
			status = store.UndoPending
		}
		err := w.queryRow(`INSERT INTO jmap_submissions (account_id, identity_id, email_id, thread_id, mail_from,
			mail_from_params, rcpts, blob_id, size, created, send_at, undo_status, queue_id, result)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			sub.Account, sub.IdentityID, sub.EmailID, sub.ThreadID, sub.MailFrom, string(sub.MailFromParams),
			jsonText(sub.Rcpts), sub.BlobID, sub.Size, nanos(sub.Created), nanos(sub.SendAt), status,
			sub.QueueID, string(sub.Result)).Scan(&id)
		if err != nil {
			return err
		}
		return w.logChange(sub.Account, store.Change{Kind: store.ChangeSubmission, Op: store.OpCreated, ID: int64(id)})
	})
	return id, err
}

// Submissions implements store.Submissions.
func (s *Store) Submissions(ctx context.Context, acct store.AccountID, ids []store.SubmissionID) ([]store.Submission, error) {
	var out []store.Submission
	read := func(q string, args ...any) error {
		rows, err := s.read().query(ctx, q, args...)
		out, err = collect(out, rows, err, scanSubmission)
		return err
	}
	if ids == nil {
		err := read("SELECT "+submissionCols+" FROM jmap_submissions WHERE account_id = ? ORDER BY id", acct)
		return out, err
	}
	err := chunks(ids, func(part []store.SubmissionID) error {
		args := append([]any{acct}, padded(part)...)
		return read("SELECT "+submissionCols+" FROM jmap_submissions WHERE account_id = ? AND id IN ("+
			placeholders(len(args)-1)+") ORDER BY id", args...)
	})
	return out, err
}

// CancelSubmission implements store.Submissions. A queued submission is
// cancelled through its queue entry with QueueCancel, whose transaction
// also marks the submission canceled (submissionCanceled): the entry's
// removal and the new status commit together, so a submission is never
// shown canceled while its message is still sent, nor the reverse.
func (s *Store) CancelSubmission(ctx context.Context, acct store.AccountID, id store.SubmissionID) error {
	var qid store.QueueID
	err := s.write(ctx, func(w *wtx) error {
		var status string
		var claimed int64
		err := w.queryRow("SELECT undo_status, queue_id, claimed_until FROM jmap_submissions WHERE id = ? AND account_id = ?", id, acct).
			Scan(&status, &qid, &claimed)
		if err != nil {
			return notFoundIfNoRows(err, "submission %d", id)
		}
		if status != store.UndoPending || claimed > nanos(w.now) {
			return invalid("submission %d is %s", id, status)
		}
		if qid != 0 {
			return nil
		}
		// Stored before submissions were queued, and not yet handed over.
		if _, err := w.exec("UPDATE jmap_submissions SET undo_status = ? WHERE id = ?", store.UndoCanceled, id); err != nil {
			return err
		}
		return w.logChange(acct, store.Change{Kind: store.ChangeSubmission, Op: store.OpUpdated, ID: int64(id)})
	})
	if err != nil || qid == 0 {
		return err
	}
	err = s.QueueCancel(ctx, qid, acct)
	if errors.Is(err, store.ErrNotFound) {
		return invalid("submission %d was released", id)
	}
	return err
}

// DeleteSubmission implements store.Submissions.
func (s *Store) DeleteSubmission(ctx context.Context, acct store.AccountID, id store.SubmissionID) error {
	return s.write(ctx, func(w *wtx) error {
		n, err := w.execN("DELETE FROM jmap_submissions WHERE id = ? AND account_id = ?", id, acct)
		if err != nil {
			return err
		}
		if n == 0 {
			return notFound("submission %d", id)
		}
		return w.logChange(acct, store.Change{Kind: store.ChangeSubmission, Op: store.OpDestroyed, ID: int64(id)})
	})
}

// UnqueuedSubmissions implements store.Submissions.
func (s *Store) UnqueuedSubmissions(ctx context.Context, now time.Time, limit int) ([]store.Submission, error) {
	rows, err := s.read().query(ctx, "SELECT "+submissionCols+` FROM jmap_submissions
		WHERE undo_status = ? AND queue_id = 0 AND claimed_until <= ? ORDER BY send_at LIMIT ?`,
		store.UndoPending, nanos(now), limit)
	return collect(nil, rows, err, scanSubmission)
}

// ClaimSubmission implements store.Submissions.
func (s *Store) ClaimSubmission(ctx context.Context, id store.SubmissionID, now, until time.Time) (store.Submission, bool, error) {
	var sub store.Submission
	var ok bool
	err := s.write(ctx, func(w *wtx) error {
		n, err := w.execN(`UPDATE jmap_submissions SET claimed_until = ?
			WHERE id = ? AND undo_status = ? AND queue_id = 0 AND claimed_until <= ?`,
			nanos(until), id, store.UndoPending, nanos(now))
		if err != nil || n != 1 {
			ok = false
			return err
		}
		ok = true
		sub, err = scanSubmission(w.queryRow("SELECT "+submissionCols+" FROM jmap_submissions WHERE id = ?", id))
		return err
	})
	return sub, ok, err
}

// SubmissionQueued implements store.Submissions.
func (s *Store) SubmissionQueued(ctx context.Context, id store.SubmissionID, q store.SubmissionOutcome) error {
	return s.write(ctx, func(w *wtx) error {
		var acct store.AccountID
		err := w.queryRow(`UPDATE jmap_submissions SET undo_status = ?, queue_id = ?, result = ?, claimed_until = 0
			WHERE id = ? RETURNING account_id`, q.UndoStatus, q.QueueID, string(q.Result), id).Scan(&acct)
		if err != nil {
			return notFoundIfNoRows(err, "submission %d", id)
		}
		return w.logChange(acct, store.Change{Kind: store.ChangeSubmission, Op: store.OpUpdated, ID: int64(id)})
	})
}

// submissionsReleased marks final the pending submissions of queue
// entries the queue has just released (QueueClaim), logging the change so
// that JMAP clients see pending become final.
func (w *wtx) submissionsReleased(ids []store.QueueID) error {
	if len(ids) == 0 {
		return nil
	}
	return w.settleSubmissions(store.UndoFinal, ids)
}

// submissionCanceled marks canceled the pending submission of a held queue
// entry that QueueCancel removed (by the command line, or by
// CancelSubmission).
func (w *wtx) submissionCanceled(id store.QueueID) error {
	return w.settleSubmissions(store.UndoCanceled, []store.QueueID{id})
}

// settleSubmissions moves the pending submissions of the queue entries ids
// to status.
func (w *wtx) settleSubmissions(status string, ids []store.QueueID) error {
	type row struct {
		id   int64
		acct store.AccountID
	}
	var changed []row
	err := chunks(ids, func(part []store.QueueID) error {
		in := padded(part)
		args := append([]any{status, store.UndoPending}, in...)
		rows, err := w.query(`UPDATE jmap_submissions SET undo_status = ?
			WHERE undo_status = ? AND queue_id IN (`+placeholders(len(in))+`) RETURNING id, account_id`, args...)
		changed, err = collect(changed, rows, err, func(sc scanner) (row, error) {
			var r row
			err := sc.Scan(&r.id, &r.acct)
			return r, err
		})
		return err
	})
	if err != nil {
		return err
	}
	for _, r := range changed {
		if err := w.logChange(r.acct, store.Change{Kind: store.ChangeSubmission, Op: store.OpUpdated, ID: r.id}); err != nil {
			return err
		}
	}
	return nil
}

func notFoundIfNoRows(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	if isNoRows(err) {
		return notFound(format, args...)
	}
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), err)
}
