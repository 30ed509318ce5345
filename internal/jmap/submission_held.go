package jmap

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"freehold/internal/blob"
	"freehold/internal/message"
	"freehold/internal/store"
)

// HeldMessage is Freehold's urn:freehold:params:jmap:held capability: the
// account's messages held in the outbound queue that are not
// EmailSubmissions, i.e. those sent over SMTP with FUTURERELEASE (RFC
// 4865). A webmail lists them with its scheduled submissions and can
// cancel them (HeldMessage/set destroy, the queue's cancel); they have no
// Email to reopen. They are not in the change log: /get reads the queue.
//
// A HeldMessage object: id ("Q" and the queue id), mailFrom, rcptTo (the
// envelope recipients), sendAt (the release time), subject, to (the To
// header's addresses, as EmailAddress objects), size.

const prefixHeld = "Q"

var heldProps = []string{"id", "mailFrom", "rcptTo", "sendAt", "subject", "to", "size"}

// heldQueue is the part of the store the held list needs; the SQL store
// implements it.
type heldQueue interface {
	QueueHeld(ctx context.Context, acct store.AccountID) ([]store.OutboundMessage, error)
	QueueCancel(ctx context.Context, id store.QueueID, acct store.AccountID) error
}

func heldIDString(id store.QueueID) string { return prefixHeld + strconv.FormatInt(int64(id), 10) }

func parseHeldID(s string) (store.QueueID, bool) {
	n, err := strconv.ParseInt(strings.TrimPrefix(s, prefixHeld), 10, 64)
	if !strings.HasPrefix(s, prefixHeld) || err != nil || n <= 0 {
		return 0, false
	}
	return store.QueueID(n), true
}

// heldMessages returns the account's held queue entries that no
// submission of the account names, soonest first.
func (c *call) heldMessages(ctx context.Context) ([]store.OutboundMessage, error) {
	q, ok := c.s.st.(heldQueue)
	if !ok {
		return nil, nil
	}
	held, err := q.QueueHeld(ctx, c.acct().ID)
	if err != nil || len(held) == 0 {
		return nil, err
	}
	subs, err := c.s.st.Submissions(ctx, c.acct().ID, nil)
	if err != nil {
		return nil, err
	}
	ofSubmission := map[store.QueueID]bool{}
	for _, s := range subs {
		ofSubmission[s.QueueID] = true
	}
	out := held[:0]
	for _, m := range held {
		if !ofSubmission[m.ID] {
			out = append(out, m)
		}
	}
	return out, nil
}

// heldObject renders one held message; its subject and To come from the
// stored message's header.
func (c *call) heldObject(ctx context.Context, m store.OutboundMessage, want map[string]bool) map[string]any {
	rcpts := make([]string, len(m.Recipients))
	for i, r := range m.Recipients {
		rcpts[i] = r.Address
	}
	obj := map[string]any{"id": heldIDString(m.ID), "mailFrom": m.MailFrom, "rcptTo": rcpts,
		"sendAt": m.HoldUntil.UTC().Format(time.RFC3339), "size": m.Size, "subject": "", "to": []any{}}
	if want["subject"] || want["to"] {
		if raw, err := blob.ReadAll(ctx, c.s.blobs, m.BlobID); err == nil {
			env := message.HeaderEnvelope(raw)
			obj["subject"] = env.Subject
			to := []any{}
			for _, a := range env.To {
				to = append(to, map[string]any{"name": a.Name, "email": a.Address})
			}
			obj["to"] = to
		}
	}
	return pick(obj, want)
}

// heldGet implements HeldMessage/get (after RFC 8620 §5.1).
func heldGet(ctx context.Context, c *call) (any, error) {
	var a getArgs
	want, resp, err := c.beginGet(ctx, &a, heldProps)
	if err != nil {
		return nil, err
	}
	held, err := c.heldMessages(ctx)
	if err != nil {
		return nil, err
	}
	fillGet(c, resp, a.IDs, held, func(m store.OutboundMessage) string { return heldIDString(m.ID) },
		func(m store.OutboundMessage) any { return c.heldObject(ctx, m, want) })
	return resp, nil
}

// heldSet implements HeldMessage/set (after RFC 8620 §5.3): only destroy,
// which cancels the held message (the queue's cancel: notFound once it
// was released).
func heldSet(ctx context.Context, c *call) (any, error) {
	var a setArgs
	resp, err := c.beginSet(ctx, &a, &a)
	if err != nil {
		return nil, err
	}
	for cid := range a.Create {
		resp.NotCreated[cid] = &SetError{Type: setForbidden, Description: "held messages are made by SMTP FUTURERELEASE"}
	}
	for id := range a.Update {
		resp.NotUpdated[id] = &SetError{Type: setForbidden, Description: "held messages cannot be changed"}
	}
	q, _ := c.s.st.(heldQueue)
	held, err := c.heldMessages(ctx)
	if err != nil {
		return nil, err
	}
	mine := map[store.QueueID]bool{}
	for _, m := range held {
		mine[m.ID] = true
	}
	for _, raw := range a.Destroy {
		n, ok := parseHeldID(raw)
		if !ok || !mine[n] || q == nil {
			resp.NotDestroyed[raw] = &SetError{Type: setNotFound}
			continue
		}
		err := q.QueueCancel(ctx, n, c.acct().ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			resp.NotDestroyed[raw] = &SetError{Type: setNotFound, Description: "already released"}
		case err != nil:
			resp.NotDestroyed[raw] = storeSetErr(err)
		default:
			resp.Destroyed = append(resp.Destroyed, raw)
		}
	}
	_, resp.NewState, err = c.state(ctx)
	return resp, err
}
