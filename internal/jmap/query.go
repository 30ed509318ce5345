package jmap

import (
	"context"
	"encoding/json"

	"freehold/internal/store"
)

// queryArgs are the arguments of a standard /query (RFC 8620 §5.5), with
// the type-specific extras of Mailbox/query and Email/query.
type queryArgs struct {
	AccountID      string          `json:"accountId"`
	Filter         json.RawMessage `json:"filter"`
	Sort           json.RawMessage `json:"sort"`
	Position       int             `json:"position"`
	Anchor         *string         `json:"anchor"`
	AnchorOffset   int             `json:"anchorOffset"`
	Limit          *int            `json:"limit"`
	CalculateTotal bool            `json:"calculateTotal"`
	// Mailbox/query (RFC 8621 §2.3).
	SortAsTree   bool `json:"sortAsTree"`
	FilterAsTree bool `json:"filterAsTree"`
	// Email/query (RFC 8621 §4.4).
	CollapseThreads bool `json:"collapseThreads"`
}

type queryResponse struct {
	AccountID           string   `json:"accountId"`
	QueryState          string   `json:"queryState"`
	CanCalculateChanges bool     `json:"canCalculateChanges"`
	Position            int      `json:"position"`
	IDs                 []string `json:"ids"`
	Total               *int     `json:"total,omitempty"`
	Limit               *int     `json:"limit,omitempty"`
}

// maxQueryLimit caps a /query's limit; a larger or absent limit is
// reported back as this one (RFC 8620 §5.5).
const maxQueryLimit = 10000

// checkQuery validates the window arguments and returns the effective
// limit and whether it was capped.
func (c *call) checkQuery(a *queryArgs) (limit int, capped bool, err error) {
	if err := c.checkAccount(a.AccountID); err != nil {
		return 0, false, err
	}
	limit = maxQueryLimit
	if a.Limit != nil {
		if *a.Limit < 0 {
			return 0, false, invalidArgs("limit is negative")
		}
		limit = *a.Limit
	}
	if limit > maxQueryLimit {
		return maxQueryLimit, true, nil
	}
	return limit, a.Limit == nil, nil
}

// window applies position, anchor and limit to a full result (RFC 8620
// §5.5) and returns the start index and the slice.
func window(ids []string, a *queryArgs, limit int) (int, []string, error) {
	start := a.Position
	if a.Anchor != nil {
		idx := -1
		for i, id := range ids {
			if id == *a.Anchor {
				idx = i
				break
			}
		}
		if idx < 0 {
			return 0, nil, methodErr(errAnchorNotFound, "the anchor is not in the results")
		}
		start = max(idx+a.AnchorOffset, 0)
	} else if start < 0 {
		start = max(len(ids)+start, 0)
	}
	if start >= len(ids) {
		return start, []string{}, nil
	}
	end := min(start+limit, len(ids))
	out := make([]string, end-start)
	copy(out, ids[start:end])
	return start, out, nil
}

// queryAll answers a /query (RFC 8620 §5.5) for a type whose full, sorted
// result list computes from the arguments: it windows the list, and
// reports the total when asked and the limit when the server's cap applied.
func (c *call) queryAll(ctx context.Context, list func(*queryArgs) ([]string, error)) (*queryResponse, error) {
	var a queryArgs
	if err := c.decode(&a); err != nil {
		return nil, err
	}
	limit, capped, err := c.checkQuery(&a)
	if err != nil {
		return nil, err
	}
	_, state, err := c.state(ctx)
	if err != nil {
		return nil, err
	}
	ids, err := list(&a)
	if err != nil {
		return nil, err
	}
	pos, win, err := window(ids, &a, limit)
	if err != nil {
		return nil, err
	}
	resp := &queryResponse{AccountID: a.AccountID, QueryState: state, CanCalculateChanges: true, Position: pos, IDs: win}
	if a.CalculateTotal {
		n := len(ids)
		resp.Total = &n
	}
	if capped && len(ids) > limit {
		resp.Limit = &limit
	}
	return resp, nil
}

// fullQueryChanges describes, for queryChangesAll, a type whose results
// compute in full from the arguments.
type fullQueryChanges struct {
	kind   store.ChangeKind                 // log entries of this kind name changed objects
	read   func(store.Change) (int64, bool) // readChanges' selector for the type's log
	format func(int64) string               // an object's JMAP id
	list   func(*queryArgs) ([]string, error)
}

// queryChangesAll answers a /queryChanges (RFC 8620 §5.6) for such a
// type: every object logged since the old state counts as changed.
func (c *call) queryChangesAll(ctx context.Context, t fullQueryChanges) (*queryChangesResponse, error) {
	var a queryChangesArgs
	if err := c.decode(&a); err != nil {
		return nil, err
	}
	if err := c.checkAccount(a.AccountID); err != nil {
		return nil, err
	}
	page, err := c.readChanges(ctx, a.SinceQueryState, maxLogRead, t.read)
	if err != nil {
		return nil, err
	}
	if page.more {
		return nil, methodErr(errCannotCalculateChanges, "too many changes")
	}
	changed := map[string]bool{}
	for _, ch := range page.changes {
		if ch.Kind == t.kind {
			changed[t.format(ch.ID)] = true
		}
	}
	ids, err := t.list(&queryArgs{AccountID: a.AccountID, Filter: a.Filter, Sort: a.Sort})
	if err != nil {
		return nil, err
	}
	return answerQueryChanges(&a, page.newHigh, ids, changed)
}
