package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"freehold/internal/store"
)

// Email queries are built from a filter tree, so their text varies with
// the request. They bypass the prepared-statement and rebind caches (which
// would otherwise grow with every shape a client invents) and are rebound
// here.

// sqlQuery accumulates a query's text and arguments.
type sqlQuery struct {
	b    strings.Builder
	args []any
}

func (q *sqlQuery) add(text string, args ...any) {
	q.b.WriteString(text)
	q.args = append(q.args, args...)
}

func (s *Store) dynQuery(ctx context.Context, q *sqlQuery) (*sql.Rows, error) {
	text := q.b.String()
	if s.d.Numbered {
		text = numberPlaceholders(text)
	}
	return s.r.sql.QueryContext(ctx, text, q.args...)
}

// hasKW is the SQL test "keyword k is in the JSON keyword list col": the
// list is written by jsonText, so the element appears as jsonText(k).
func (s *Store) hasKW(q *sqlQuery, col, k string) {
	fn := "instr"
	if s.d.Numbered {
		fn = "strpos"
	}
	q.add(fn+"("+col+", ?) > 0", jsonText(strings.ToLower(k)))
}

// likeArg returns a LIKE pattern matching s as a case-insensitive
// substring (the column is lower-cased in the query).
func likeArg(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(s)) + "%"
}

// maxFilterDepth bounds the nesting of a filter, so that a hostile one
// cannot build an unbounded query.
const maxFilterDepth = 16

func (s *Store) filterSQL(q *sqlQuery, f *store.EmailFilter, depth int) error {
	if depth > maxFilterDepth {
		return invalid("filter nested too deeply")
	}
	if f.Operator != "" {
		join, empty := " AND ", "1=1"
		switch f.Operator {
		case "AND":
		case "OR", "NOT":
			join, empty = " OR ", "1=0"
		default:
			return invalid("filter operator %q", f.Operator)
		}
		if f.Operator == "NOT" {
			q.add("NOT ")
		}
		q.add("(")
		if len(f.Conditions) == 0 {
			q.add(empty)
		}
		for i := range f.Conditions {
			if i > 0 {
				q.add(join)
			}
			if err := s.filterSQL(q, &f.Conditions[i], depth+1); err != nil {
				return err
			}
		}
		q.add(")")
		return nil
	}
	q.add("(1=1")
	if f.InMailbox != 0 {
		q.add(" AND EXISTS (SELECT 1 FROM mailbox_messages mm WHERE mm.message_id = m.id AND mm.mailbox_id = ?)", f.InMailbox)
	}
	if len(f.InMailboxOtherThan) > 0 {
		q.add(" AND EXISTS (SELECT 1 FROM mailbox_messages mm WHERE mm.message_id = m.id AND mm.mailbox_id NOT IN (" +
			placeholders(len(f.InMailboxOtherThan)) + "))")
		for _, id := range f.InMailboxOtherThan {
			q.args = append(q.args, id)
		}
	}
	if !f.Before.IsZero() {
		q.add(" AND m.received_at < ?", nanos(f.Before))
	}
	if !f.After.IsZero() {
		q.add(" AND m.received_at >= ?", nanos(f.After))
	}
	if f.MinSize > 0 {
		q.add(" AND m.size >= ?", f.MinSize)
	}
	if f.MaxSize > 0 {
		q.add(" AND m.size < ?", f.MaxSize)
	}
	if f.HasKeyword != "" {
		q.add(" AND ")
		s.hasKW(q, "m.keywords", f.HasKeyword)
	}
	if f.NotKeyword != "" {
		q.add(" AND NOT ")
		s.hasKW(q, "m.keywords", f.NotKeyword)
	}
	threadKW := func(prefix, kw string, negate bool) {
		q.add(" AND " + prefix + " (SELECT 1 FROM messages t WHERE t.thread_id = m.thread_id AND ")
		if negate {
			q.add("NOT ")
		}
		s.hasKW(q, "t.keywords", kw)
		q.add(")")
	}
	if f.AllInThreadHaveKeyword != "" {
		threadKW("NOT EXISTS", f.AllInThreadHaveKeyword, true)
	}
	if f.SomeInThreadHaveKeyword != "" {
		threadKW("EXISTS", f.SomeInThreadHaveKeyword, false)
	}
	if f.NoneInThreadHaveKeyword != "" {
		threadKW("NOT EXISTS", f.NoneInThreadHaveKeyword, false)
	}
	if f.HasAttachment != nil {
		q.add(" AND m.has_attachment = ?", b2i(*f.HasAttachment))
	}
	for _, c := range []struct{ col, v string }{
		{"m.from_addr", f.From}, {"m.to_addr", f.To}, {"m.cc", f.Cc}, {"m.bcc", f.Bcc}, {"m.subject", f.Subject},
	} {
		if c.v != "" {
			q.add(" AND lower("+c.col+") LIKE ? ESCAPE '\\'", likeArg(c.v))
		}
	}
	q.add(")")
	return nil
}

// firstAddrKey is the sort key of an address list column: the first
// address's display name, or its address when it has none (RFC 8621
// §4.4.2), lower-cased.
func (s *Store) firstAddrKey(col string) string {
	if s.d.Numbered {
		j := "(" + col + "::jsonb)->0"
		return "lower(COALESCE(NULLIF(" + j + "->>'Name', ''), " + j + "->>'Address', ''))"
	}
	return "lower(COALESCE(NULLIF(json_extract(" + col + ", '$[0].Name'), ''), json_extract(" + col + ", '$[0].Address'), ''))"
}

func (s *Store) sortSQL(q *sqlQuery, sorts []store.EmailSort) error {
	if len(sorts) == 0 {
		sorts = []store.EmailSort{{Property: "receivedAt"}}
	}
	q.add(" ORDER BY ")
	for _, so := range sorts {
		switch so.Property {
		case "receivedAt":
			q.add("m.received_at")
		case "sentAt":
			q.add("m.date")
		case "size":
			q.add("m.size")
		case "subject":
			q.add("lower(m.subject)")
		case "from":
			q.add(s.firstAddrKey("m.from_addr"))
		case "to":
			q.add(s.firstAddrKey("m.to_addr"))
		case "hasKeyword":
			q.add("(CASE WHEN ")
			s.hasKW(q, "m.keywords", so.Keyword)
			q.add(" THEN 1 ELSE 0 END)")
		case "allInThreadHaveKeyword", "someInThreadHaveKeyword":
			neg, pre := "", "NOT EXISTS"
			if so.Property == "someInThreadHaveKeyword" {
				pre = "EXISTS"
			} else {
				neg = "NOT "
			}
			q.add("(CASE WHEN " + pre + " (SELECT 1 FROM messages t WHERE t.thread_id = m.thread_id AND " + neg)
			s.hasKW(q, "t.keywords", so.Keyword)
			q.add(") THEN 1 ELSE 0 END)")
		default:
			return invalid("sort property %q", so.Property)
		}
		if so.Ascending {
			q.add(" ASC, ")
		} else {
			q.add(" DESC, ")
		}
	}
	if sorts[len(sorts)-1].Ascending {
		q.add("m.id ASC")
	} else {
		q.add("m.id DESC")
	}
	return nil
}

// EmailQuery implements store.EmailIndex.
func (s *Store) EmailQuery(ctx context.Context, acct store.AccountID, eq store.EmailQuery, fn func(store.EmailRef) bool) error {
	q := &sqlQuery{}
	q.add("SELECT m.id, m.thread_id FROM messages m WHERE m.account_id = ?", acct)
	if eq.Filter != nil {
		q.add(" AND ")
		if err := s.filterSQL(q, eq.Filter, 0); err != nil {
			return err
		}
	}
	if err := s.sortSQL(q, eq.Sort); err != nil {
		return err
	}
	switch {
	case eq.Limit > 0:
		q.add(" LIMIT ? OFFSET ?", eq.Limit, max(eq.Offset, 0))
	case eq.Offset > 0 && s.d.Numbered:
		q.add(" OFFSET ?", eq.Offset)
	case eq.Offset > 0:
		q.add(" LIMIT -1 OFFSET ?", eq.Offset)
	}
	rows, err := s.dynQuery(ctx, q)
	if err != nil {
		return fmt.Errorf("email query: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r store.EmailRef
		if err := rows.Scan(&r.ID, &r.Thread); err != nil {
			return err
		}
		if !fn(r) {
			return nil
		}
	}
	return rows.Err()
}

// EmailCount implements store.EmailIndex.
func (s *Store) EmailCount(ctx context.Context, acct store.AccountID, f *store.EmailFilter, threads bool) (int, error) {
	q := &sqlQuery{}
	if f != nil && !threads && onlyInMailbox(f) {
		// The common case (a mailbox's total) reads the mailbox's entries
		// alone.
		q.add(`SELECT COUNT(*) FROM mailbox_messages WHERE mailbox_id = ?
			AND EXISTS (SELECT 1 FROM mailboxes WHERE id = ? AND account_id = ?)`, f.InMailbox, f.InMailbox, acct)
	} else {
		what := "COUNT(*)"
		if threads {
			what = "COUNT(DISTINCT m.thread_id)"
		}
		q.add("SELECT "+what+" FROM messages m WHERE m.account_id = ?", acct)
		if f != nil {
			q.add(" AND ")
			if err := s.filterSQL(q, f, 0); err != nil {
				return 0, err
			}
		}
	}
	rows, err := s.dynQuery(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("email count: %w", err)
	}
	defer rows.Close()
	var n int
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return 0, err
		}
	}
	return n, rows.Err()
}

// onlyInMailbox reports whether f is the single condition inMailbox.
func onlyInMailbox(f *store.EmailFilter) bool {
	g := *f
	g.InMailbox = 0
	return f.InMailbox != 0 && g.Operator == "" && len(g.Conditions) == 0 && len(g.InMailboxOtherThan) == 0 &&
		g.Before.IsZero() && g.After.IsZero() && g.MinSize == 0 && g.MaxSize == 0 &&
		g.HasKeyword == "" && g.NotKeyword == "" && g.AllInThreadHaveKeyword == "" &&
		g.SomeInThreadHaveKeyword == "" && g.NoneInThreadHaveKeyword == "" && g.HasAttachment == nil &&
		g.From == "" && g.To == "" && g.Cc == "" && g.Bcc == "" && g.Subject == ""
}

// MessageEntries implements store.EmailIndex.
func (s *Store) MessageEntries(ctx context.Context, acct store.AccountID, ids []store.MessageID) ([]store.EntryRef, error) {
	var out []store.EntryRef
	err := chunks(ids, func(part []store.MessageID) error {
		args := append([]any{acct}, padded(part)...)
		rows, err := s.read().query(ctx, `SELECT mm.message_id, mm.mailbox_id, mm.uid FROM mailbox_messages mm
			JOIN messages m ON m.id = mm.message_id
			WHERE m.account_id = ? AND mm.message_id IN (`+placeholders(len(args)-1)+`)
			ORDER BY mm.message_id, mm.mailbox_id`, args...)
		out, err = collect(out, rows, err, func(sc scanner) (store.EntryRef, error) {
			var e store.EntryRef
			err := sc.Scan(&e.Message, &e.Mailbox, &e.UID)
			return e, err
		})
		return err
	})
	return out, err
}

// ThreadMessages implements store.EmailIndex.
func (s *Store) ThreadMessages(ctx context.Context, acct store.AccountID, ids []store.ThreadID) (map[store.ThreadID][]store.MessageID, error) {
	out := make(map[store.ThreadID][]store.MessageID)
	err := chunks(ids, func(part []store.ThreadID) error {
		args := append([]any{acct}, padded(part)...)
		rows, err := s.read().query(ctx, `SELECT thread_id, id FROM messages
			WHERE account_id = ? AND thread_id IN (`+placeholders(len(args)-1)+`)
			ORDER BY thread_id, received_at, id`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var t store.ThreadID
			var m store.MessageID
			if err := rows.Scan(&t, &m); err != nil {
				return err
			}
			out[t] = append(out[t], m)
		}
		return rows.Err()
	})
	return out, err
}

// MailboxThreads implements store.EmailIndex.
func (s *Store) MailboxThreads(ctx context.Context, acct store.AccountID, mailbox store.MailboxID) ([]store.ThreadEntry, store.ModSeq, error) {
	var out []store.ThreadEntry
	var highest store.ModSeq
	err := s.readTx(ctx, func(r runner) error {
		err := r.queryRow(ctx, "SELECT highest_modseq FROM mailboxes WHERE id = ? AND account_id = ?", mailbox, acct).Scan(&highest)
		if err != nil {
			return notFoundIfNoRows(err, "mailbox %d", mailbox)
		}
		rows, err := r.query(ctx, `SELECT mm.uid, mm.message_id, m.thread_id, mm.seen FROM mailbox_messages mm
			JOIN messages m ON m.id = mm.message_id WHERE mm.mailbox_id = ?`, mailbox)
		out, err = collect(out, rows, err, func(sc scanner) (store.ThreadEntry, error) {
			var e store.ThreadEntry
			var seen int64
			err := sc.Scan(&e.UID, &e.Message, &e.Thread, &seen)
			e.Seen = seen != 0
			return e, err
		})
		return err
	})
	return out, highest, err
}

// MailboxModSeqs implements store.EmailIndex.
func (s *Store) MailboxModSeqs(ctx context.Context, acct store.AccountID) (map[store.MailboxID]store.ModSeq, error) {
	rows, err := s.read().query(ctx, "SELECT id, highest_modseq FROM mailboxes WHERE account_id = ?", acct)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[store.MailboxID]store.ModSeq)
	for rows.Next() {
		var id store.MailboxID
		var m store.ModSeq
		if err := rows.Scan(&id, &m); err != nil {
			return nil, err
		}
		out[id] = m
	}
	return out, rows.Err()
}
