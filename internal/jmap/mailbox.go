package jmap

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"unicode/utf8"

	"freehold/internal/store"
)

// roleUses maps JMAP mailbox roles (RFC 8621 §2, the IANA registry of
// RFC 8457) to RFC 6154 special-use attributes; INBOX's role comes from its
// name.
var roleUses = map[string]string{
	"sent": store.UseSent, "drafts": store.UseDrafts, "junk": store.UseJunk,
	"trash": store.UseTrash, "archive": store.UseArchive, "all": store.UseAll,
	"flagged": store.UseFlagged,
}

func mailboxRole(m store.Mailbox) string {
	if m.Name == "INBOX" {
		return "inbox"
	}
	for r, u := range roleUses {
		if u == m.SpecialUse && u != "" {
			return r
		}
	}
	return ""
}

// roleOrder gives role mailboxes their conventional place; sortOrder is
// derived from the role and not stored.
var roleOrder = map[string]int{"inbox": 1, "drafts": 2, "sent": 3, "archive": 4,
	"junk": 5, "trash": 6, "all": 7, "flagged": 8}

func mailboxSortOrder(role string) int {
	if n, ok := roleOrder[role]; ok {
		return n
	}
	return 10
}

// leafName returns the last component of a hierarchical name.
func leafName(full string) string {
	if i := strings.LastIndex(full, store.HierarchySeparator); i >= 0 {
		return full[i+1:]
	}
	return full
}

var mailboxProps = []string{"id", "name", "parentId", "role", "sortOrder", "totalEmails",
	"unreadEmails", "totalThreads", "unreadThreads", "myRights", "isSubscribed"}

var mailboxCountProps = []string{"totalEmails", "unreadEmails", "totalThreads", "unreadThreads"}

// mailboxObject renders one Mailbox (RFC 8621 §2).
func mailboxObject(m store.Mailbox, byName map[string]store.Mailbox, cnt store.MailboxCounts) map[string]any {
	var parent any
	if i := strings.LastIndex(m.Name, store.HierarchySeparator); i >= 0 {
		if p, ok := byName[m.Name[:i]]; ok {
			parent = mailboxIDString(p.ID)
		}
	}
	var role any
	r := mailboxRole(m)
	if r != "" {
		role = r
	}
	isInbox := m.Name == "INBOX"
	return map[string]any{
		"id":            mailboxIDString(m.ID),
		"name":          leafName(m.Name),
		"parentId":      parent,
		"role":          role,
		"sortOrder":     mailboxSortOrder(r),
		"totalEmails":   cnt.TotalEmails,
		"unreadEmails":  cnt.UnreadEmails,
		"totalThreads":  cnt.TotalThreads,
		"unreadThreads": cnt.UnreadThreads,
		"myRights": map[string]bool{
			"mayReadItems": true, "mayAddItems": true, "mayRemoveItems": true, "maySetSeen": true,
			"maySetKeywords": true, "mayCreateChild": true, "mayRename": !isInbox, "mayDelete": !isInbox,
			"maySubmit": true,
		},
		"isSubscribed": m.Subscribed,
	}
}

// mailboxGet implements Mailbox/get (RFC 8621 §2.1).
func mailboxGet(ctx context.Context, c *call) (any, error) {
	var a getArgs
	want, resp, err := c.beginGet(ctx, &a, mailboxProps)
	if err != nil {
		return nil, err
	}
	acct := c.acct().ID
	all, err := c.s.st.Mailboxes(ctx, acct)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]store.Mailbox, len(all))
	byID := make(map[store.MailboxID]store.Mailbox, len(all))
	for _, m := range all {
		byName[m.Name], byID[m.ID] = m, m
	}
	var sel []store.Mailbox
	if a.IDs == nil {
		sel = all
	} else {
		for _, raw := range *a.IDs {
			id, _ := c.resolveID(raw)
			n, ok := parseMailboxID(id)
			m, found := byID[n]
			if !ok || !found {
				resp.NotFound = append(resp.NotFound, raw)
				continue
			}
			sel = append(sel, m)
		}
	}
	counts := map[store.MailboxID]store.MailboxCounts{}
	if slices.ContainsFunc(mailboxCountProps, func(p string) bool { return want[p] }) {
		ids := make([]store.MailboxID, len(sel))
		for i, m := range sel {
			ids[i] = m.ID
		}
		if counts, err = c.s.mailboxCounts(ctx, acct, ids); err != nil {
			return nil, err
		}
	}
	for _, m := range sel {
		resp.List = append(resp.List, pick(mailboxObject(m, byName, counts[m.ID]), want))
	}
	return resp, nil
}

// mailboxChanges implements Mailbox/changes (RFC 8621 §2.2). A change to a
// mailbox's messages changes its counts: such mailboxes are reported as
// updated, and when that is all that changed, updatedProperties says so.
func mailboxChanges(ctx context.Context, c *call) (any, error) {
	var a changesArgs
	max, err := c.decodeChanges(&a)
	if err != nil {
		return nil, err
	}
	page, err := c.readChanges(ctx, a.SinceState, max, mailboxOfChange)
	if err != nil {
		return nil, err
	}
	cc := newCompact()
	for _, ch := range page.changes {
		id, ok := mailboxOfChange(ch)
		if !ok {
			continue
		}
		op := ch.Op
		if ch.Kind == store.ChangeEntry {
			op = store.OpUpdated
		}
		cc.add(id, op)
	}
	resp := &changesResponse{AccountID: a.AccountID, OldState: a.SinceState,
		NewState: stateString(page.newHigh), HasMoreChanges: page.more}
	resp.Created, resp.Updated, resp.Destroyed = cc.result(func(n int64) string { return mailboxIDString(store.MailboxID(n)) })
	if len(resp.Updated) > 0 {
		// The log does not tell a change of a mailbox's record from one
		// of its contents; the record's own ModSeq does.
		since, _ := parseState(a.SinceState)
		all, err := c.s.st.Mailboxes(ctx, c.acct().ID)
		if err != nil {
			return nil, err
		}
		recordChanged := map[string]bool{}
		for _, m := range all {
			if m.ModSeq > since {
				recordChanged[mailboxIDString(m.ID)] = true
			}
		}
		if !slices.ContainsFunc(resp.Updated, func(id string) bool { return recordChanged[id] }) {
			props := slices.Clone(mailboxCountProps)
			resp.UpdatedProperties = &props
		}
	}
	return resp, nil
}

func mailboxOfChange(ch store.Change) (int64, bool) {
	switch ch.Kind {
	case store.ChangeMailbox:
		return ch.ID, true
	case store.ChangeEntry:
		return int64(ch.Mailbox), true
	}
	return 0, false
}

// mailboxFilter is a Mailbox/query FilterCondition or FilterOperator
// (RFC 8621 §2.3).
type mailboxFilter struct {
	Operator     string          `json:"operator"`
	Conditions   []mailboxFilter `json:"conditions"`
	ParentID     *json.RawMessage
	Name         *string `json:"name"`
	Role         *json.RawMessage
	HasAnyRole   *bool `json:"hasAnyRole"`
	IsSubscribed *bool `json:"isSubscribed"`
}

func (f *mailboxFilter) UnmarshalJSON(b []byte) error {
	type plain mailboxFilter
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	for k := range raw {
		switch k {
		case "operator", "conditions", "parentId", "name", "role", "hasAnyRole", "isSubscribed":
		default:
			return &MethodError{Type: errUnsupportedFilter, Description: "unknown filter property " + k}
		}
	}
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	if v, ok := raw["parentId"]; ok {
		p.ParentID = &v
	}
	if v, ok := raw["role"]; ok {
		p.Role = &v
	}
	*f = mailboxFilter(p)
	return nil
}

func (f *mailboxFilter) match(m store.Mailbox, byName map[string]store.Mailbox, depth int) (bool, error) {
	if depth > 16 {
		return false, invalidArgs("filter nested too deeply")
	}
	if f.Operator != "" {
		return matchOperator(f.Operator, f.Conditions, func(g *mailboxFilter) (bool, error) {
			return g.match(m, byName, depth+1)
		})
	}
	obj := mailboxObject(m, byName, store.MailboxCounts{})
	if f.ParentID != nil {
		var want *string
		if err := json.Unmarshal(*f.ParentID, &want); err != nil {
			return false, invalidArgs("parentId")
		}
		got, _ := obj["parentId"].(string)
		if (want == nil) != (obj["parentId"] == nil) || (want != nil && *want != got) {
			return false, nil
		}
	}
	if f.Name != nil && !strings.Contains(strings.ToLower(leafName(m.Name)), strings.ToLower(*f.Name)) {
		return false, nil
	}
	role := mailboxRole(m)
	if f.Role != nil {
		var want *string
		if err := json.Unmarshal(*f.Role, &want); err != nil {
			return false, invalidArgs("role")
		}
		if (want == nil && role != "") || (want != nil && *want != role) {
			return false, nil
		}
	}
	if f.HasAnyRole != nil && *f.HasAnyRole != (role != "") {
		return false, nil
	}
	if f.IsSubscribed != nil && *f.IsSubscribed != m.Subscribed {
		return false, nil
	}
	return true, nil
}

type comparator struct {
	Property    string `json:"property"`
	IsAscending *bool  `json:"isAscending"`
	Collation   string `json:"collation"`
	Keyword     string `json:"keyword"`
}

func (c comparator) ascending() bool { return c.IsAscending == nil || *c.IsAscending }

// mailboxQueryIDs runs the filter and sort of a Mailbox/query and returns
// every matching id in order.
func mailboxQueryIDs(ctx context.Context, c *call, a *queryArgs) ([]string, error) {
	var filter *mailboxFilter
	if len(a.Filter) > 0 && !isNull(a.Filter) {
		filter = &mailboxFilter{}
		if err := json.Unmarshal(a.Filter, filter); err != nil {
			var me *MethodError
			if errors.As(err, &me) {
				return nil, me
			}
			return nil, invalidArgs("filter: %v", err)
		}
	}
	var sorts []comparator
	if len(a.Sort) > 0 && !isNull(a.Sort) {
		if err := json.Unmarshal(a.Sort, &sorts); err != nil {
			return nil, invalidArgs("sort: %v", err)
		}
	}
	for _, so := range sorts {
		if so.Property != "sortOrder" && so.Property != "name" {
			return nil, methodErr(errUnsupportedSort, "cannot sort on %q", so.Property)
		}
	}
	all, err := c.s.st.Mailboxes(ctx, c.acct().ID)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]store.Mailbox, len(all))
	for _, m := range all {
		byName[m.Name] = m
	}
	matched := map[store.MailboxID]bool{}
	for _, m := range all {
		ok := true
		if filter != nil {
			if ok, err = filter.match(m, byName, 0); err != nil {
				return nil, err
			}
		}
		matched[m.ID] = ok
	}
	cmp := func(x, y store.Mailbox) int {
		for _, so := range sorts {
			var d int
			if so.Property == "sortOrder" {
				d = mailboxSortOrder(mailboxRole(x)) - mailboxSortOrder(mailboxRole(y))
			} else {
				d = strings.Compare(strings.ToLower(leafName(x.Name)), strings.ToLower(leafName(y.Name)))
			}
			if !so.ascending() {
				d = -d
			}
			if d != 0 {
				return d
			}
		}
		return int(x.ID - y.ID)
	}
	var out []string
	if a.SortAsTree || a.FilterAsTree {
		// Depth first from the top: children follow their parent, and
		// with filterAsTree a mailbox whose parent does not match is
		// left out with its subtree (RFC 8621 §2.3).
		kids := map[string][]store.Mailbox{}
		for _, m := range all {
			p := ""
			if i := strings.LastIndex(m.Name, store.HierarchySeparator); i >= 0 {
				p = m.Name[:i]
			}
			kids[p] = append(kids[p], m)
		}
		var walk func(parent string)
		walk = func(parent string) {
			list := kids[parent]
			slices.SortFunc(list, cmp)
			for _, m := range list {
				if a.FilterAsTree && !matched[m.ID] {
					continue
				}
				if matched[m.ID] {
					out = append(out, mailboxIDString(m.ID))
				}
				walk(m.Name)
			}
		}
		walk("")
		return out, nil
	}
	sorted := slices.Clone(all)
	slices.SortFunc(sorted, cmp)
	for _, m := range sorted {
		if matched[m.ID] {
			out = append(out, mailboxIDString(m.ID))
		}
	}
	return out, nil
}

// mailboxQuery implements Mailbox/query (RFC 8621 §2.3).
func mailboxQuery(ctx context.Context, c *call) (any, error) {
	return c.queryAll(ctx, func(a *queryArgs) ([]string, error) { return mailboxQueryIDs(ctx, c, a) })
}

// mailboxQueryChanges implements Mailbox/queryChanges (RFC 8621 §2.4).
func mailboxQueryChanges(ctx context.Context, c *call) (any, error) {
	return c.queryChangesAll(ctx, fullQueryChanges{
		kind: store.ChangeMailbox, read: mailboxOfChange,
		format: func(n int64) string { return mailboxIDString(store.MailboxID(n)) },
		list:   func(a *queryArgs) ([]string, error) { return mailboxQueryIDs(ctx, c, a) },
	})
}

// validMailboxName checks a JMAP mailbox name (one component).
func validMailboxName(n string) bool {
	return n != "" && utf8.ValidString(n) && len(n) <= maxMailboxNameSize && !strings.Contains(n, store.HierarchySeparator)
}
