package jmap

import (
	"context"

	"freehold/internal/store"
)

// threadGet implements Thread/get (RFC 8621 §3.1): each thread's emails,
// oldest first.
func threadGet(ctx context.Context, c *call) (any, error) {
	var a getArgs
	if err := c.decode(&a); err != nil {
		return nil, err
	}
	if err := c.checkGet(&a); err != nil {
		return nil, err
	}
	want, err := wantProps(a.Properties, []string{"id", "emailIds"}, []string{"id", "emailIds"})
	if err != nil {
		return nil, err
	}
	if a.IDs == nil {
		return nil, methodErr(errRequestTooLarge, "Thread/get needs ids")
	}
	_, state, err := c.state(ctx)
	if err != nil {
		return nil, err
	}
	resp := &getResponse{AccountID: a.AccountID, State: state, List: []any{}, NotFound: []string{}}
	var ids []store.ThreadID
	for _, raw := range *a.IDs {
		id, _ := c.resolveID(raw)
		if n, ok := parseThreadID(id); ok {
			ids = append(ids, n)
		}
	}
	members, err := c.s.st.ThreadMessages(ctx, c.acct().ID, ids)
	if err != nil {
		return nil, err
	}
	for _, raw := range *a.IDs {
		id, _ := c.resolveID(raw)
		n, ok := parseThreadID(id)
		msgs := members[n]
		if !ok || len(msgs) == 0 {
			resp.NotFound = append(resp.NotFound, raw)
			continue
		}
		emailIDs := make([]string, len(msgs))
		for i, m := range msgs {
			emailIDs[i] = emailIDString(m)
		}
		resp.List = append(resp.List, pick(map[string]any{"id": threadIDString(n), "emailIds": emailIDs}, want))
	}
	return resp, nil
}

// threadChanges implements Thread/changes (RFC 8621 §3.2).
func threadChanges(ctx context.Context, c *call) (any, error) {
	return c.simpleChanges(ctx, store.ChangeThread, func(n int64) string { return threadIDString(store.ThreadID(n)) })
}

// emailChanges implements Email/changes (RFC 8621 §4.3).
func emailChanges(ctx context.Context, c *call) (any, error) {
	return c.simpleChanges(ctx, store.ChangeEmail, func(n int64) string { return emailIDString(store.MessageID(n)) })
}
