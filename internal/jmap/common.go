package jmap

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"freehold/internal/store"
)

// getArgs are the arguments of a standard /get (RFC 8620 §5.1).
type getArgs struct {
	AccountID  string    `json:"accountId"`
	IDs        *[]string `json:"ids"`
	Properties *[]string `json:"properties"`
}

// getResponse is the response of a standard /get.
type getResponse struct {
	AccountID string   `json:"accountId"`
	State     string   `json:"state"`
	List      []any    `json:"list"`
	NotFound  []string `json:"notFound"`
}

// changesArgs are the arguments of a standard /changes (RFC 8620 §5.2).
type changesArgs struct {
	AccountID  string `json:"accountId"`
	SinceState string `json:"sinceState"`
	MaxChanges *int   `json:"maxChanges"`
}

// decodeChanges decodes and checks a /changes request (RFC 8620 §5.2) and
// returns its maxChanges, 0 when absent.
func (c *call) decodeChanges(a *changesArgs) (int, error) {
	if err := c.decode(a); err != nil {
		return 0, err
	}
	if err := c.checkAccount(a.AccountID); err != nil {
		return 0, err
	}
	if a.MaxChanges == nil {
		return 0, nil
	}
	if *a.MaxChanges <= 0 {
		// RFC 8620 §5.2: a positive integer when given.
		return 0, invalidArgs("maxChanges must be positive")
	}
	return *a.MaxChanges, nil
}

type changesResponse struct {
	AccountID      string   `json:"accountId"`
	OldState       string   `json:"oldState"`
	NewState       string   `json:"newState"`
	HasMoreChanges bool     `json:"hasMoreChanges"`
	Created        []string `json:"created"`
	Updated        []string `json:"updated"`
	Destroyed      []string `json:"destroyed"`
	// UpdatedProperties is Mailbox/changes' (RFC 8621 §2.2).
	UpdatedProperties *[]string `json:"updatedProperties,omitempty"`
}

// setArgs are the arguments of a standard /set (RFC 8620 §5.3); each
// object is kept raw for the type's own decoding.
type setArgs struct {
	AccountID string                     `json:"accountId"`
	IfInState *string                    `json:"ifInState"`
	Create    map[string]json.RawMessage `json:"create"`
	Update    map[string]json.RawMessage `json:"update"`
	Destroy   []string                   `json:"destroy"`
}

type setResponse struct {
	AccountID    string               `json:"accountId"`
	OldState     string               `json:"oldState"`
	NewState     string               `json:"newState"`
	Created      map[string]any       `json:"created"`
	Updated      map[string]any       `json:"updated"`
	Destroyed    []string             `json:"destroyed"`
	NotCreated   map[string]*SetError `json:"notCreated"`
	NotUpdated   map[string]*SetError `json:"notUpdated"`
	NotDestroyed map[string]*SetError `json:"notDestroyed"`
}

func newSetResponse(acct, old string) *setResponse {
	return &setResponse{AccountID: acct, OldState: old,
		Created: map[string]any{}, Updated: map[string]any{}, Destroyed: []string{},
		NotCreated: map[string]*SetError{}, NotUpdated: map[string]*SetError{}, NotDestroyed: map[string]*SetError{}}
}

// beginSet decodes a /set request into into (whose standard arguments are
// a), checks them against the current state (RFC 8620 §5.3) and returns
// the response to fill, its oldState set.
func (c *call) beginSet(ctx context.Context, into any, a *setArgs) (*setResponse, error) {
	if err := c.decode(into); err != nil {
		return nil, err
	}
	_, state, err := c.state(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.checkSet(a, state); err != nil {
		return nil, err
	}
	return newSetResponse(a.AccountID, state), nil
}

// beginGet decodes a standard /get request into a and checks it (RFC 8620
// §5.1); it returns the properties wanted (of props, all of them when
// properties is null) and the response to fill, its state set.
func (c *call) beginGet(ctx context.Context, a *getArgs, props []string) (map[string]bool, *getResponse, error) {
	if err := c.decode(a); err != nil {
		return nil, nil, err
	}
	if err := c.checkGet(a); err != nil {
		return nil, nil, err
	}
	want, err := wantProps(a.Properties, props, props)
	if err != nil {
		return nil, nil, err
	}
	_, state, err := c.state(ctx)
	if err != nil {
		return nil, nil, err
	}
	return want, &getResponse{AccountID: a.AccountID, State: state, List: []any{}, NotFound: []string{}}, nil
}

// fillGet lists the objects of a /get in resp (RFC 8620 §5.1): every one
// of all when ids is null, else those ids name (creation references
// resolved), in the order asked, the others notFound. id is an object's
// JMAP id; render its JSON.
func fillGet[T any](c *call, resp *getResponse, ids *[]string, all []T, id func(T) string, render func(T) any) {
	if ids == nil {
		for _, o := range all {
			resp.List = append(resp.List, render(o))
		}
		return
	}
	byID := make(map[string]T, len(all))
	for _, o := range all {
		byID[id(o)] = o
	}
	for _, raw := range *ids {
		r, _ := c.resolveID(raw)
		if o, ok := byID[r]; ok {
			resp.List = append(resp.List, render(o))
		} else {
			resp.NotFound = append(resp.NotFound, raw)
		}
	}
}

// checkSet enforces maxObjectsInSet and ifInState.
func (c *call) checkSet(a *setArgs, state string) error {
	if err := c.checkAccount(a.AccountID); err != nil {
		return err
	}
	if n := len(a.Create) + len(a.Update) + len(a.Destroy); n > c.s.limits.MaxObjectsInSet {
		return methodErr(errRequestTooLarge, "%d operations exceed maxObjectsInSet", n)
	}
	if a.IfInState != nil && *a.IfInState != state {
		return methodErr(errStateMismatch, "the state is %s", state)
	}
	return nil
}

// checkGet enforces maxObjectsInGet and the account.
func (c *call) checkGet(a *getArgs) error {
	if err := c.checkAccount(a.AccountID); err != nil {
		return err
	}
	if a.IDs != nil && len(*a.IDs) > c.s.limits.MaxObjectsInGet {
		return methodErr(errRequestTooLarge, "%d ids exceed maxObjectsInGet", len(*a.IDs))
	}
	return nil
}

// wantProps returns the requested property set (always holding "id"), or
// the defaults when properties is null; unknown names are invalidArguments.
func wantProps(req *[]string, known, defaults []string) (map[string]bool, error) {
	out := map[string]bool{"id": true}
	if req == nil {
		for _, p := range defaults {
			out[p] = true
		}
		return out, nil
	}
	for _, p := range *req {
		if !slices.Contains(known, p) {
			return nil, invalidArgs("unknown property %q", p)
		}
		out[p] = true
	}
	return out, nil
}

// pick keeps the properties of obj that are wanted.
func pick(obj map[string]any, want map[string]bool) map[string]any {
	for k := range obj {
		if !want[k] {
			delete(obj, k)
		}
	}
	return obj
}

// state returns the account's current state string. Every type's state is
// the account's highest ModSeq: one change log orders all of them, and a
// client's /changes since any state it holds is answered from that log.
// It is read before the data it goes with, so a change racing a read makes
// the client fetch again rather than miss it.
func (c *call) state(ctx context.Context) (store.ModSeq, string, error) {
	m, err := c.s.st.HighestModSeq(ctx, c.acct().ID)
	if err != nil {
		return 0, "", err
	}
	return m, stateString(m), nil
}

// objChange is what happened to one object over a range of the log.
type objChange struct {
	first, last store.ChangeOp
	order       int
}

// compactChanges folds the log entries of one object kind into one
// outcome per object (RFC 8620 §5.2: created then destroyed is left out).
type compactChanges struct {
	m map[int64]*objChange
}

func newCompact() *compactChanges { return &compactChanges{m: map[int64]*objChange{}} }

func (cc *compactChanges) add(id int64, op store.ChangeOp) {
	if o, ok := cc.m[id]; ok {
		o.last = op
		return
	}
	cc.m[id] = &objChange{first: op, last: op, order: len(cc.m)}
}

// result returns created, updated and destroyed ids in log order.
func (cc *compactChanges) result(format func(int64) string) (created, updated, destroyed []string) {
	ids := make([]int64, 0, len(cc.m))
	for id := range cc.m {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b int64) int { return cc.m[a].order - cc.m[b].order })
	created, updated, destroyed = []string{}, []string{}, []string{}
	for _, id := range ids {
		o := cc.m[id]
		switch {
		case o.first == store.OpCreated && o.last == store.OpDestroyed:
		case o.first == store.OpCreated:
			created = append(created, format(id))
		case o.last == store.OpDestroyed:
			destroyed = append(destroyed, format(id))
		default:
			updated = append(updated, format(id))
		}
	}
	return created, updated, destroyed
}

// changesPage is the part of the log a /changes answers from.
type changesPage struct {
	changes []store.Change
	newHigh store.ModSeq // the state to report as newState
	more    bool
}

// maxLogRead bounds the change log entries one /changes reads.
const maxLogRead = 50000

// readChanges reads the log after since. It stops at a ModSeq boundary
// once a page holds more than maxObjects distinct objects of interest
// (counted by countable), setting more; otherwise it reads to the head.
func (c *call) readChanges(ctx context.Context, sinceState string, maxObjects int,
	countable func(store.Change) (int64, bool)) (changesPage, error) {
	since, ok := parseState(sinceState)
	if !ok {
		return changesPage{}, methodErr(errCannotCalculateChanges, "unknown state")
	}
	high, err := c.s.st.HighestModSeq(ctx, c.acct().ID)
	if err != nil {
		return changesPage{}, err
	}
	if since > high {
		return changesPage{}, methodErr(errCannotCalculateChanges, "state from the future")
	}
	if maxObjects <= 0 {
		maxObjects = c.s.limits.MaxObjectsInGet
	}
	page := changesPage{newHigh: high}
	seen := map[int64]bool{}
	cur := since
	for cur < high {
		batch, err := c.s.st.Changes(ctx, c.acct().ID, cur, 1000)
		if errors.Is(err, store.ErrChangesTooOld) {
			return changesPage{}, methodErr(errCannotCalculateChanges, "the change log no longer goes back that far")
		}
		if err != nil {
			return changesPage{}, err
		}
		if len(batch) == 0 {
			break
		}
		for i := 0; i < len(batch); {
			// Take one ModSeq's entries at a time.
			j := i
			for j < len(batch) && batch[j].ModSeq == batch[i].ModSeq {
				j++
			}
			m := batch[i].ModSeq
			if m > high {
				return page, nil
			}
			added := 0
			for _, ch := range batch[i:j] {
				if id, ok := countable(ch); ok && !seen[id] {
					added++
				}
			}
			if len(seen)+added > maxObjects && len(seen) > 0 {
				page.newHigh, page.more = cur, true
				return page, nil
			}
			for _, ch := range batch[i:j] {
				if id, ok := countable(ch); ok {
					seen[id] = true
				}
			}
			page.changes = append(page.changes, batch[i:j]...)
			if len(page.changes) > maxLogRead {
				page.newHigh, page.more = m, m < high
				return page, nil
			}
			cur = m
			i = j
		}
	}
	return page, nil
}

// simpleChanges answers a /changes for a kind whose log entries name the
// objects directly (RFC 8620 §5.2).
func (c *call) simpleChanges(ctx context.Context, kind store.ChangeKind, format func(int64) string) (any, error) {
	var a changesArgs
	max, err := c.decodeChanges(&a)
	if err != nil {
		return nil, err
	}
	page, err := c.readChanges(ctx, a.SinceState, max, func(ch store.Change) (int64, bool) {
		return ch.ID, ch.Kind == kind
	})
	if err != nil {
		return nil, err
	}
	cc := newCompact()
	for _, ch := range page.changes {
		if ch.Kind == kind {
			cc.add(ch.ID, ch.Op)
		}
	}
	resp := &changesResponse{AccountID: a.AccountID, OldState: a.SinceState,
		NewState: stateString(page.newHigh), HasMoreChanges: page.more}
	resp.Created, resp.Updated, resp.Destroyed = cc.result(format)
	return resp, nil
}

// queryChangesArgs are the arguments of a standard /queryChanges
// (RFC 8620 §5.6); filter and sort are kept raw for the type's decoding.
type queryChangesArgs struct {
	AccountID       string          `json:"accountId"`
	Filter          json.RawMessage `json:"filter"`
	Sort            json.RawMessage `json:"sort"`
	SinceQueryState string          `json:"sinceQueryState"`
	MaxChanges      *int            `json:"maxChanges"`
	UpToID          *string         `json:"upToId"`
	CalculateTotal  bool            `json:"calculateTotal"`
	CollapseThreads bool            `json:"collapseThreads"`
}

type addedItem struct {
	ID    string `json:"id"`
	Index int    `json:"index"`
}

type queryChangesResponse struct {
	AccountID     string      `json:"accountId"`
	OldQueryState string      `json:"oldQueryState"`
	NewQueryState string      `json:"newQueryState"`
	Total         *int        `json:"total,omitempty"`
	Removed       []string    `json:"removed"`
	Added         []addedItem `json:"added"`
}

// answerQueryChanges builds a /queryChanges response from the current
// results and the ids that changed since the old state: every changed id
// is reported removed, and those in the current results added back at
// their index. This is exact for clients (RFC 8620 §5.6 allows removing
// ids that were not in the old results) and needs no copy of old results.
func answerQueryChanges(a *queryChangesArgs, newState store.ModSeq, current []string, changed map[string]bool) (*queryChangesResponse, error) {
	removed := make([]string, 0, len(changed))
	for id := range changed {
		removed = append(removed, id)
	}
	slices.Sort(removed)
	added := []addedItem{}
	for i, id := range current {
		if changed[id] {
			added = append(added, addedItem{ID: id, Index: i})
		}
	}
	if a.MaxChanges != nil && *a.MaxChanges > 0 && len(removed)+len(added) > *a.MaxChanges {
		return nil, methodErr(errTooManyChanges, "more than maxChanges changes")
	}
	resp := &queryChangesResponse{AccountID: a.AccountID, OldQueryState: a.SinceQueryState,
		NewQueryState: stateString(newState), Removed: removed, Added: added}
	if a.CalculateTotal {
		n := len(current)
		resp.Total = &n
	}
	return resp, nil
}

// matchOperator evaluates a FilterOperator (RFC 8620 §5.5) whose
// conditions are tested by match.
func matchOperator[T any](operator string, conds []T, match func(*T) (bool, error)) (bool, error) {
	op, err := filterOperator(operator)
	if err != nil {
		return false, err
	}
	n := 0
	for i := range conds {
		ok, err := match(&conds[i])
		if err != nil {
			return false, err
		}
		if ok {
			n++
		}
	}
	switch op {
	case "AND":
		return n == len(conds), nil
	case "OR":
		return n > 0, nil
	default:
		return n == 0, nil
	}
}

// filterOperator parses a FilterOperator's operator (RFC 8620 §5.5).
func filterOperator(op string) (string, error) {
	switch strings.ToUpper(op) {
	case "AND", "OR", "NOT":
		if op != strings.ToUpper(op) {
			return "", invalidArgs("operator %q", op)
		}
		return op, nil
	}
	return "", invalidArgs("operator %q", op)
}
