package jmap

import (
	"context"
	"encoding/json"
	"errors"

	"freehold/internal/store"
)

// emailQueryPlan is a validated Email/query: filter, sort, collapse.
type emailQueryPlan struct {
	root     *qnode // nil: no filter
	sort     []store.EmailSort
	collapse bool
}

func (c *call) planEmailQuery(filter, sort json.RawMessage, collapse bool) (*emailQueryPlan, error) {
	p := &emailQueryPlan{collapse: collapse}
	if len(filter) > 0 && !isNull(filter) {
		var f emailFilter
		if err := json.Unmarshal(filter, &f); err != nil {
			var me *MethodError
			if errors.As(err, &me) {
				return nil, me
			}
			return nil, invalidArgs("filter: %v", err)
		}
		n := 0
		root, err := c.compileFilter(&f, 0, &n)
		if err != nil {
			return nil, err
		}
		p.root = root
	}
	if len(sort) > 0 && !isNull(sort) {
		var comps []comparator
		if err := json.Unmarshal(sort, &comps); err != nil {
			return nil, invalidArgs("sort: %v", err)
		}
		if len(comps) > 8 {
			return nil, methodErr(errUnsupportedSort, "too many sort criteria")
		}
		for _, co := range comps {
			ok := false
			for _, sp := range sortProperties {
				ok = ok || sp == co.Property
			}
			if !ok {
				return nil, methodErr(errUnsupportedSort, "cannot sort on %q", co.Property)
			}
			switch co.Collation {
			case "", "i;ascii-casemap", "i;unicode-casemap", "i;ascii-numeric", "i;octet":
			default:
				return nil, methodErr(errUnsupportedSort, "unknown collation %q", co.Collation)
			}
			keywordSort := co.Property == "hasKeyword" || co.Property == "allInThreadHaveKeyword" ||
				co.Property == "someInThreadHaveKeyword"
			if keywordSort && !validKeyword(co.Keyword) {
				return nil, invalidArgs("sort on %s needs a keyword", co.Property)
			}
			p.sort = append(p.sort, store.EmailSort{Property: co.Property, Keyword: co.Keyword, Ascending: co.ascending()})
		}
	}
	return p, nil
}

// queryWindow is the part of a query's results a caller wants.
type queryWindow struct {
	position int
	anchor   *string
	offset   int // anchorOffset
	limit    int
	total    bool
	all      bool // every result, ignoring the window (queryChanges)
}

// queryResult is a computed window.
type queryResult struct {
	position int
	ids      []string
	threads  []store.ThreadID // of ids
	total    int              // -1 when not calculated
}

// runEmailQuery evaluates a plan. When the store can evaluate the whole
// filter and no anchor is given, it reads only as far as the window
// needs; otherwise it reads every match.
func (c *call) runEmailQuery(ctx context.Context, p *emailQueryPlan, w queryWindow) (*queryResult, error) {
	acct := c.acct().ID
	storeOnly := p.root == nil || p.root.storeOnly()
	var filter *store.EmailFilter
	if p.root != nil {
		filter = p.root.candidates()
	}
	res := &queryResult{total: -1}
	if storeOnly && w.anchor == nil && w.position >= 0 && !w.all {
		if !p.collapse {
			q := store.EmailQuery{Filter: filter, Sort: p.sort, Offset: w.position, Limit: w.limit}
			if w.limit > 0 {
				err := c.s.st.EmailQuery(ctx, acct, q, func(r store.EmailRef) bool {
					res.ids = append(res.ids, emailIDString(r.ID))
					res.threads = append(res.threads, r.Thread)
					return true
				})
				if err != nil {
					return nil, err
				}
			}
		} else if w.limit > 0 {
			seen := map[store.ThreadID]bool{}
			n := 0
			err := c.s.st.EmailQuery(ctx, acct, store.EmailQuery{Filter: filter, Sort: p.sort}, func(r store.EmailRef) bool {
				if seen[r.Thread] {
					return true
				}
				seen[r.Thread] = true
				if n >= w.position {
					res.ids = append(res.ids, emailIDString(r.ID))
					res.threads = append(res.threads, r.Thread)
				}
				n++
				return len(res.ids) < w.limit
			})
			if err != nil {
				return nil, err
			}
		}
		res.position = w.position
		if res.ids == nil {
			res.ids = []string{}
		}
		if w.total {
			n, ok, err := c.countFromMailbox(ctx, filter, p.collapse)
			if err == nil && !ok {
				n, err = c.s.st.EmailCount(ctx, acct, filter, p.collapse)
			}
			if err != nil {
				return nil, err
			}
			res.total = n
		}
		return res, nil
	}
	refs, err := c.allMatches(ctx, p, filter, storeOnly)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(refs))
	byID := make(map[string]store.ThreadID, len(refs))
	for i, r := range refs {
		ids[i] = emailIDString(r.ID)
		byID[ids[i]] = r.Thread
	}
	res.total = len(ids)
	if w.all {
		res.ids = ids
	} else {
		qa := &queryArgs{Position: w.position, Anchor: w.anchor, AnchorOffset: w.offset}
		res.position, res.ids, err = window(ids, qa, w.limit)
		if err != nil {
			return nil, err
		}
	}
	for _, id := range res.ids {
		res.threads = append(res.threads, byID[id])
	}
	return res, nil
}

// allMatches returns every match in order, collapsed when asked.
func (c *call) allMatches(ctx context.Context, p *emailQueryPlan, filter *store.EmailFilter, storeOnly bool) ([]store.EmailRef, error) {
	acct := c.acct().ID
	var refs []store.EmailRef
	err := c.s.st.EmailQuery(ctx, acct, store.EmailQuery{Filter: filter, Sort: p.sort}, func(r store.EmailRef) bool {
		refs = append(refs, r)
		return true
	})
	if err != nil {
		return nil, err
	}
	if !storeOnly {
		if refs, err = c.evalMessageConditions(ctx, p.root, refs); err != nil {
			return nil, err
		}
	}
	if p.collapse {
		seen := map[store.ThreadID]bool{}
		out := refs[:0]
		for _, r := range refs {
			if !seen[r.Thread] {
				seen[r.Thread] = true
				out = append(out, r)
			}
		}
		refs = out
	}
	return refs, nil
}

// emailQuery implements Email/query (RFC 8621 §4.4).
func emailQuery(ctx context.Context, c *call) (any, error) {
	var a queryArgs
	if err := c.decode(&a); err != nil {
		return nil, err
	}
	limit, capped, err := c.checkQuery(&a)
	if err != nil {
		return nil, err
	}
	p, err := c.planEmailQuery(a.Filter, a.Sort, a.CollapseThreads)
	if err != nil {
		return nil, err
	}
	_, state, err := c.state(ctx)
	if err != nil {
		return nil, err
	}
	res, err := c.runEmailQuery(ctx, p, queryWindow{position: a.Position, anchor: a.Anchor, offset: a.AnchorOffset,
		limit: limit, total: a.CalculateTotal})
	if err != nil {
		return nil, err
	}
	resp := &queryResponse{AccountID: a.AccountID, QueryState: state, CanCalculateChanges: true,
		Position: res.position, IDs: res.ids}
	if a.CalculateTotal {
		resp.Total = &res.total
	}
	if capped && len(res.ids) == limit {
		resp.Limit = &limit
	}
	return resp, nil
}

// emailQueryChanges implements Email/queryChanges (RFC 8621 §4.5). Every
// email that changed since the old state is reported removed and, when it
// is in the results now, added at its index; with collapseThreads the
// emails of every thread touched are treated as changed, since a thread's
// representative may change without the representative itself changing.
func emailQueryChanges(ctx context.Context, c *call) (any, error) {
	var a queryChangesArgs
	if err := c.decode(&a); err != nil {
		return nil, err
	}
	if err := c.checkAccount(a.AccountID); err != nil {
		return nil, err
	}
	p, err := c.planEmailQuery(a.Filter, a.Sort, a.CollapseThreads)
	if err != nil {
		return nil, err
	}
	page, err := c.readChanges(ctx, a.SinceQueryState, maxLogRead, func(ch store.Change) (int64, bool) {
		return ch.ID, ch.Kind == store.ChangeEmail || ch.Kind == store.ChangeThread
	})
	if err != nil {
		return nil, err
	}
	if page.more {
		return nil, methodErr(errCannotCalculateChanges, "too many changes")
	}
	changed := map[string]bool{}
	var emails []store.MessageID
	var threads []store.ThreadID
	for _, ch := range page.changes {
		switch ch.Kind {
		case store.ChangeEmail:
			changed[emailIDString(store.MessageID(ch.ID))] = true
			emails = append(emails, store.MessageID(ch.ID))
		case store.ChangeThread:
			threads = append(threads, store.ThreadID(ch.ID))
		}
	}
	res, err := c.runEmailQuery(ctx, p, queryWindow{all: true})
	if err != nil {
		return nil, err
	}
	if p.collapse {
		touched := map[store.ThreadID]bool{}
		for _, t := range threads {
			touched[t] = true
		}
		msgs, err := c.s.st.Messages(ctx, c.acct().ID, emails)
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			touched[m.ThreadID] = true
		}
		list := make([]store.ThreadID, 0, len(touched))
		for t := range touched {
			list = append(list, t)
		}
		members, err := c.s.st.ThreadMessages(ctx, c.acct().ID, list)
		if err != nil {
			return nil, err
		}
		for _, ms := range members {
			for _, m := range ms {
				changed[emailIDString(m)] = true
			}
		}
	}
	return answerQueryChanges(&a, page.newHigh, res.ids, changed)
}

// countFromMailbox answers the total of the queries a mailbox list makes
// (a mailbox, or its unread messages, flat or by thread) from the
// mailbox's counts, which are cached until the mailbox changes: counting
// threads in SQL reads every message of the mailbox.
func (c *call) countFromMailbox(ctx context.Context, f *store.EmailFilter, threads bool) (int, bool, error) {
	if f == nil || f.Operator != "" || f.InMailbox <= 0 {
		return 0, false, nil
	}
	g := *f
	g.InMailbox = 0
	unread := g.NotKeyword == store.KeywordSeen
	g.NotKeyword = ""
	if !isEmptyFilter(&g) {
		return 0, false, nil
	}
	if !threads && !c.s.countsCached(f.InMailbox) {
		// Counting a mailbox's entries is cheap in SQL; threads are not.
		return 0, false, nil
	}
	m, err := c.s.st.Mailbox(ctx, c.acct().ID, f.InMailbox)
	if err != nil {
		return 0, true, nil // not the account's mailbox: nothing in it
	}
	counts, err := c.s.mailboxCounts(ctx, c.acct().ID, []store.MailboxID{m.ID})
	if err != nil {
		return 0, false, err
	}
	cnt := counts[m.ID]
	switch {
	case unread && threads:
		return cnt.UnreadThreads, true, nil
	case unread:
		return cnt.UnreadEmails, true, nil
	case threads:
		return cnt.TotalThreads, true, nil
	}
	return cnt.TotalEmails, true, nil
}

// isEmptyFilter reports whether a condition constrains nothing.
func isEmptyFilter(f *store.EmailFilter) bool {
	return f.Operator == "" && len(f.Conditions) == 0 && f.InMailbox == 0 && len(f.InMailboxOtherThan) == 0 &&
		f.Before.IsZero() && f.After.IsZero() && f.MinSize == 0 && f.MaxSize == 0 && f.HasKeyword == "" &&
		f.NotKeyword == "" && f.AllInThreadHaveKeyword == "" && f.SomeInThreadHaveKeyword == "" &&
		f.NoneInThreadHaveKeyword == "" && f.HasAttachment == nil && f.From == "" && f.To == "" && f.Cc == "" &&
		f.Bcc == "" && f.Subject == ""
}
