package jmap

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"freehold/internal/store"
)

// mailboxSetArgs adds Mailbox/set's onDestroyRemoveEmails (RFC 8621 §2.5).
type mailboxSetArgs struct {
	setArgs
	OnDestroyRemoveEmails bool `json:"onDestroyRemoveEmails"`
}

// mailboxPatch is a Mailbox create or update object.
type mailboxPatch struct {
	raw map[string]json.RawMessage
}

func (p mailboxPatch) str(name string) (*string, bool, error) {
	v, ok := p.raw[name]
	if !ok {
		return nil, false, nil
	}
	var s *string
	if err := json.Unmarshal(v, &s); err != nil {
		return nil, true, invalidProps(name+" is not a string", name)
	}
	return s, true, nil
}

// checkMailboxProps refuses properties that cannot be set.
func checkMailboxProps(raw map[string]json.RawMessage) *SetError {
	for k := range raw {
		switch k {
		case "name", "parentId", "role", "sortOrder", "isSubscribed":
		case "id", "totalEmails", "unreadEmails", "totalThreads", "unreadThreads", "myRights":
			return invalidProps(k+" is server-set", k)
		default:
			return invalidProps("unknown property "+k, k)
		}
	}
	return nil
}

// mailboxSet implements Mailbox/set (RFC 8621 §2.5).
func mailboxSet(ctx context.Context, c *call) (any, error) {
	var a mailboxSetArgs
	resp, err := c.beginSet(ctx, &a, &a.setArgs)
	if err != nil {
		return nil, err
	}
	c.mailboxCreates(ctx, a.Create, resp)
	for id, raw := range a.Update {
		if e := c.mailboxUpdate(ctx, id, raw); e != nil {
			resp.NotUpdated[id] = e
		} else {
			resp.Updated[id] = nil
		}
	}
	c.mailboxDestroys(ctx, a.Destroy, a.OnDestroyRemoveEmails, resp)
	_, resp.NewState, err = c.state(ctx)
	return resp, err
}

// mailboxCreates creates mailboxes, parents before the children that
// name them by creation id.
func (c *call) mailboxCreates(ctx context.Context, creates map[string]json.RawMessage, resp *setResponse) {
	pending := make([]string, 0, len(creates))
	for cid := range creates {
		pending = append(pending, cid)
	}
	slices.Sort(pending)
	for len(pending) > 0 {
		var later []string
		for _, cid := range pending {
			var raw map[string]json.RawMessage
			if err := json.Unmarshal(creates[cid], &raw); err != nil {
				resp.NotCreated[cid] = invalidProps("not an object")
				continue
			}
			if p, ok := raw["parentId"]; ok {
				var pid *string
				if json.Unmarshal(p, &pid) == nil && pid != nil && strings.HasPrefix(*pid, "#") {
					if _, known := c.req.created[(*pid)[1:]]; !known && creates[(*pid)[1:]] != nil {
						if _, failed := resp.NotCreated[(*pid)[1:]]; !failed {
							later = append(later, cid)
							continue
						}
					}
				}
			}
			obj, e := c.mailboxCreate(ctx, raw)
			if e != nil {
				resp.NotCreated[cid] = e
				continue
			}
			c.req.created[cid] = obj["id"].(string)
			resp.Created[cid] = obj
		}
		if len(later) == len(pending) {
			for _, cid := range later {
				resp.NotCreated[cid] = invalidProps("parentId names a mailbox that cannot be created", "parentId")
			}
			return
		}
		pending = later
	}
}

// mailboxParent resolves a parentId to the parent's full name ("" for the
// top level).
func (c *call) mailboxParent(ctx context.Context, pid *string) (string, *SetError) {
	if pid == nil {
		return "", nil
	}
	id, ok := c.resolveID(*pid)
	n, ok2 := parseMailboxID(id)
	if !ok || !ok2 {
		return "", invalidProps("unknown parentId", "parentId")
	}
	m, err := c.s.st.Mailbox(ctx, c.acct().ID, n)
	if err != nil {
		return "", invalidProps("unknown parentId", "parentId")
	}
	return m.Name, nil
}

func (c *call) mailboxCreate(ctx context.Context, raw map[string]json.RawMessage) (map[string]any, *SetError) {
	if e := checkMailboxProps(raw); e != nil {
		return nil, e
	}
	p := mailboxPatch{raw}
	name, _, err := p.str("name")
	if err != nil {
		return nil, err.(*SetError)
	}
	if name == nil || !validMailboxName(*name) {
		return nil, invalidProps("name is missing or invalid", "name")
	}
	pid, _, err := p.str("parentId")
	if err != nil {
		return nil, err.(*SetError)
	}
	parent, se := c.mailboxParent(ctx, pid)
	if se != nil {
		return nil, se
	}
	full := *name
	if parent != "" {
		full = parent + store.HierarchySeparator + *name
	}
	role, _, err := p.str("role")
	if err != nil {
		return nil, err.(*SetError)
	}
	use := ""
	if role != nil {
		u, ok := roleUses[*role]
		if !ok {
			return nil, invalidProps("unsupported role", "role")
		}
		if e := c.roleTaken(ctx, *role, 0); e != nil {
			return nil, e
		}
		use = u
	}
	if so, ok := raw["sortOrder"]; ok {
		var n int
		if json.Unmarshal(so, &n) != nil || n != mailboxSortOrder(derefOr(role, "")) {
			return nil, invalidProps("sortOrder is derived from the role", "sortOrder")
		}
	}
	acct := c.acct().ID
	m, cerr := c.s.st.CreateMailbox(ctx, acct, store.NewMailbox{Name: full, SpecialUse: use})
	if cerr != nil {
		return nil, mailboxStoreErr(cerr)
	}
	if v, ok := raw["isSubscribed"]; ok {
		var sub bool
		if json.Unmarshal(v, &sub) != nil {
			return nil, invalidProps("isSubscribed is not a boolean", "isSubscribed")
		}
		if !sub {
			if err := c.s.st.SetSubscribed(ctx, acct, m.ID, false); err != nil {
				return nil, mailboxStoreErr(err)
			}
			m.Subscribed = false
		}
	}
	return map[string]any{
		"id": mailboxIDString(m.ID), "sortOrder": mailboxSortOrder(mailboxRole(m)), "isSubscribed": m.Subscribed,
		"totalEmails": 0, "unreadEmails": 0, "totalThreads": 0, "unreadThreads": 0,
		"myRights": mailboxObject(m, nil, store.MailboxCounts{})["myRights"],
	}, nil
}

func derefOr(s *string, def string) string {
	if s == nil {
		return def
	}
	return *s
}

// roleTaken refuses a role another mailbox already has (RFC 8621 §2: one
// mailbox per role).
func (c *call) roleTaken(ctx context.Context, role string, except store.MailboxID) *SetError {
	all, err := c.s.st.Mailboxes(ctx, c.acct().ID)
	if err != nil {
		return &SetError{Type: setForbidden, Description: "cannot read mailboxes"}
	}
	for _, m := range all {
		if m.ID != except && mailboxRole(m) == role {
			return invalidProps("another mailbox has this role", "role")
		}
	}
	return nil
}

func mailboxStoreErr(err error) *SetError {
	switch {
	case errors.Is(err, store.ErrExists):
		return &SetError{Type: setAlreadyExists, Description: "a mailbox of that name exists"}
	case errors.Is(err, store.ErrNotFound):
		return &SetError{Type: setNotFound}
	case errors.Is(err, store.ErrInvalid):
		return invalidProps("the store refused the mailbox", "name")
	}
	return &SetError{Type: setForbidden, Description: "the mailbox could not be changed"}
}

func (c *call) mailboxUpdate(ctx context.Context, rawID string, patch json.RawMessage) *SetError {
	acct := c.acct().ID
	id, _ := c.resolveID(rawID)
	n, ok := parseMailboxID(id)
	if !ok {
		return &SetError{Type: setNotFound}
	}
	m, err := c.s.st.Mailbox(ctx, acct, n)
	if err != nil {
		return &SetError{Type: setNotFound}
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(patch, &raw); err != nil {
		return invalidProps("not an object")
	}
	if e := checkMailboxProps(raw); e != nil {
		return e
	}
	p := mailboxPatch{raw}
	if v, ok := raw["role"]; ok {
		var role *string
		if json.Unmarshal(v, &role) != nil || derefOr(role, "") != mailboxRole(m) {
			return invalidProps("the role of a mailbox cannot be changed", "role")
		}
	}
	if v, ok := raw["sortOrder"]; ok {
		var so int
		if json.Unmarshal(v, &so) != nil || so != mailboxSortOrder(mailboxRole(m)) {
			return invalidProps("sortOrder is derived from the role", "sortOrder")
		}
	}
	name, hasName, err := p.str("name")
	if err != nil {
		return err.(*SetError)
	}
	pid, hasParent, err := p.str("parentId")
	if err != nil {
		return err.(*SetError)
	}
	if hasName || hasParent {
		leaf := leafName(m.Name)
		if hasName {
			if name == nil || !validMailboxName(*name) {
				return invalidProps("invalid name", "name")
			}
			leaf = *name
		}
		parent := ""
		if i := strings.LastIndex(m.Name, store.HierarchySeparator); i >= 0 {
			parent = m.Name[:i]
		}
		if hasParent {
			var se *SetError
			if parent, se = c.mailboxParent(ctx, pid); se != nil {
				return se
			}
		}
		full := leaf
		if parent != "" {
			full = parent + store.HierarchySeparator + leaf
		}
		if full != m.Name {
			if m.Name == "INBOX" {
				return &SetError{Type: setForbidden, Description: "INBOX cannot be renamed"}
			}
			if err := c.s.st.RenameMailbox(ctx, acct, m.ID, full); err != nil {
				if errors.Is(err, store.ErrInvalid) && hasParent {
					return invalidProps("a mailbox cannot move under itself", "parentId")
				}
				return mailboxStoreErr(err)
			}
		}
	}
	if v, ok := raw["isSubscribed"]; ok {
		var sub bool
		if json.Unmarshal(v, &sub) != nil {
			return invalidProps("isSubscribed is not a boolean", "isSubscribed")
		}
		if sub != m.Subscribed {
			if err := c.s.st.SetSubscribed(ctx, acct, m.ID, sub); err != nil {
				return mailboxStoreErr(err)
			}
		}
	}
	return nil
}

// mailboxDestroys destroys mailboxes, deepest first so that a parent and
// its children can go in one call.
func (c *call) mailboxDestroys(ctx context.Context, ids []string, removeEmails bool, resp *setResponse) {
	acct := c.acct().ID
	type target struct {
		raw string
		m   store.Mailbox
	}
	var targets []target
	for _, raw := range ids {
		id, _ := c.resolveID(raw)
		n, ok := parseMailboxID(id)
		if !ok {
			resp.NotDestroyed[raw] = &SetError{Type: setNotFound}
			continue
		}
		m, err := c.s.st.Mailbox(ctx, acct, n)
		if err != nil {
			resp.NotDestroyed[raw] = &SetError{Type: setNotFound}
			continue
		}
		targets = append(targets, target{raw, m})
	}
	slices.SortFunc(targets, func(x, y target) int {
		return strings.Count(y.m.Name, store.HierarchySeparator) - strings.Count(x.m.Name, store.HierarchySeparator)
	})
	for _, t := range targets {
		if t.m.Name == "INBOX" {
			resp.NotDestroyed[t.raw] = &SetError{Type: setForbidden, Description: "INBOX cannot be destroyed"}
			continue
		}
		st, err := c.s.st.MailboxStatus(ctx, acct, t.m.ID)
		if err != nil {
			resp.NotDestroyed[t.raw] = &SetError{Type: setNotFound}
			continue
		}
		if st.Messages > 0 && !removeEmails {
			resp.NotDestroyed[t.raw] = &SetError{Type: setMailboxHasEmail}
			continue
		}
		if err := c.s.st.DeleteMailbox(ctx, acct, t.m.ID); err != nil {
			if errors.Is(err, store.ErrInvalid) {
				resp.NotDestroyed[t.raw] = &SetError{Type: setMailboxHasChild}
			} else {
				resp.NotDestroyed[t.raw] = mailboxStoreErr(err)
			}
			continue
		}
		resp.Destroyed = append(resp.Destroyed, t.raw)
	}
}
