package jmap

import (
	"context"

	"freehold/internal/store"
)

var threadProps = []string{"id", "emailIds"}

// threadGet implements Thread/get (RFC 8621 §3.1): each thread's emails,
// oldest first.
func threadGet(ctx context.Context, c *call) (any, error) {
	var a getArgs
	want, resp, err := c.beginGet(ctx, &a, threadProps)
	if err != nil {
		return nil, err
	}
	if a.IDs == nil {
		return nil, methodErr(errRequestTooLarge, "Thread/get needs ids")
	}
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
