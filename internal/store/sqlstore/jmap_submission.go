package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"freehold/internal/store"
)

const submissionCols = `id, account_id, identity_id, email_id, thread_id, mail_from, mail_from_params, rcpts,
	blob_id, size, created, send_at, undo_status, claimed_until, released, result`

func scanSubmission(sc interface{ Scan(...any) error }) (store.Submission, error) {
	var sub store.Submission
	var params, rcpts, result string
	var created, sendAt, claimed, released int64
	err := sc.Scan(&sub.ID, &sub.Account, &sub.IdentityID, &sub.EmailID, &sub.ThreadID, &sub.MailFrom, &params, &rcpts,
		&sub.BlobID, &sub.Size, &created, &sendAt, &sub.UndoStatus, &claimed, &released, &result)
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
	sub.ClaimedUntil, sub.Released = fromNanos(claimed), fromNanos(released)
	return sub, nil
}

// scanSubmissions reads every row of a submissionCols query, closing rows.
func scanSubmissions(rows *sql.Rows, err error) ([]store.Submission, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Submission
	for rows.Next() {
		sub, err := scanSubmission(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sub)
	}
	return out, rows.Err()
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
			mail_from_params, rcpts, blob_id, size, created, send_at, undo_status, released, result)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			sub.Account, sub.IdentityID, sub.EmailID, sub.ThreadID, sub.MailFrom, string(sub.MailFromParams),
			jsonText(sub.Rcpts), sub.BlobID, sub.Size, nanos(sub.Created), nanos(sub.SendAt), status,
			nanos(sub.Released), string(sub.Result)).Scan(&id)
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
	collect := func(q string, args ...any) error {
		subs, err := scanSubmissions(s.read().query(ctx, q, args...))
		out = append(out, subs...)
		return err
	}
	if ids == nil {
		err := collect("SELECT "+submissionCols+" FROM jmap_submissions WHERE account_id = ? ORDER BY id", acct)
		return out, err
	}
	err := chunks(ids, func(part []store.SubmissionID) error {
		args := append([]any{acct}, padded(part)...)
		return collect("SELECT "+submissionCols+" FROM jmap_submissions WHERE account_id = ? AND id IN ("+
			placeholders(len(args)-1)+") ORDER BY id", args...)
	})
	return out, err
}

// CancelSubmission implements store.Submissions.
func (s *Store) CancelSubmission(ctx context.Context, acct store.AccountID, id store.SubmissionID) error {
	return s.write(ctx, func(w *wtx) error {
		var status string
		var claimed int64
		err := w.queryRow("SELECT undo_status, claimed_until FROM jmap_submissions WHERE id = ? AND account_id = ?", id, acct).
			Scan(&status, &claimed)
		if err != nil {
			return notFoundIfNoRows(err, "submission %d", id)
		}
		if status != store.UndoPending || claimed > nanos(w.now) {
			return invalid("submission %d is %s", id, status)
		}
		if _, err := w.exec("UPDATE jmap_submissions SET undo_status = ? WHERE id = ?", store.UndoCanceled, id); err != nil {
			return err
		}
		return w.logChange(acct, store.Change{Kind: store.ChangeSubmission, Op: store.OpUpdated, ID: int64(id)})
	})
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

// DueSubmissions implements store.Submissions.
func (s *Store) DueSubmissions(ctx context.Context, now time.Time, limit int) ([]store.Submission, error) {
	return scanSubmissions(s.read().query(ctx, "SELECT "+submissionCols+` FROM jmap_submissions
		WHERE undo_status = ? AND send_at <= ? AND claimed_until <= ? ORDER BY send_at LIMIT ?`,
		store.UndoPending, nanos(now), nanos(now), limit))
}

// ClaimSubmission implements store.Submissions.
func (s *Store) ClaimSubmission(ctx context.Context, id store.SubmissionID, now, until time.Time) (store.Submission, bool, error) {
	var sub store.Submission
	var ok bool
	err := s.write(ctx, func(w *wtx) error {
		n, err := w.execN(`UPDATE jmap_submissions SET claimed_until = ?
			WHERE id = ? AND undo_status = ? AND claimed_until <= ? AND send_at <= ?`,
			nanos(until), id, store.UndoPending, nanos(now), nanos(now))
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

// FinishSubmission implements store.Submissions.
func (s *Store) FinishSubmission(ctx context.Context, id store.SubmissionID, released time.Time, result []byte) error {
	return s.write(ctx, func(w *wtx) error {
		var acct store.AccountID
		err := w.queryRow(`UPDATE jmap_submissions SET undo_status = ?, released = ?, result = ?, claimed_until = 0
			WHERE id = ? RETURNING account_id`, store.UndoFinal, nanos(released), string(result), id).Scan(&acct)
		if err != nil {
			return notFoundIfNoRows(err, "submission %d", id)
		}
		return w.logChange(acct, store.Change{Kind: store.ChangeSubmission, Op: store.OpUpdated, ID: int64(id)})
	})
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
