package jmap

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"freehold/internal/blob"
	"freehold/internal/store"
)

// EmailSubmission (RFC 8621 §7). Creating a submission hands its message
// to the Submitter at once, held in the outbound queue until sendAt: now
// plus the user's undo delay, or a later time the client asked for
// (FUTURERELEASE's HOLDUNTIL/HOLDFOR parameters, RFC 4865). It is the same
// hold as an SMTP FUTURERELEASE message's, so the queue's held list and
// cancel see it too. While held it is "pending" and can be cancelled
// (undoStatus "canceled", which cancels the queue entry); once the queue
// releases it, it is "final". The store moves the stored undoStatus with
// the queue (store.Submission), logging each move, so /changes and push
// report pending→final and pending→canceled.

func submissionIDString(id store.SubmissionID) string { return formatID(prefixSubmission, int64(id)) }

func parseSubmissionID(s string) (store.SubmissionID, bool) {
	n, ok := parseID(prefixSubmission, s)
	return store.SubmissionID(n), ok
}

var submissionProps = []string{"id", "identityId", "emailId", "threadId", "envelope", "sendAt",
	"undoStatus", "deliveryStatus", "dsnBlobIds", "mdnBlobIds"}

// envelopeJSON is the Envelope object (RFC 8621 §7).
type envelopeJSON struct {
	MailFrom addressJSON   `json:"mailFrom"`
	RcptTo   []addressJSON `json:"rcptTo"`
}

type addressJSON struct {
	Email      string            `json:"email"`
	Parameters map[string]string `json:"parameters"`
}

// deliveryResult is what delivery answered at submission, per recipient.
type deliveryResult map[string]deliveryStatus

type deliveryStatus struct {
	SMTPReply string `json:"smtpReply"`
	Delivered string `json:"delivered"`
	Displayed string `json:"displayed"`
}

func renderSubmission(sub store.Submission, now time.Time) map[string]any {
	var params map[string]string
	_ = json.Unmarshal(sub.MailFromParams, &params)
	env := envelopeJSON{MailFrom: addressJSON{Email: sub.MailFrom, Parameters: params}}
	for _, r := range sub.Rcpts {
		env.RcptTo = append(env.RcptTo, addressJSON{Email: r})
	}
	var ds any
	if len(sub.Result) > 0 {
		var dr deliveryResult
		if json.Unmarshal(sub.Result, &dr) == nil {
			ds = dr
		}
	}
	return map[string]any{
		"id":             submissionIDString(sub.ID),
		"identityId":     formatID(prefixIdentity, sub.IdentityID),
		"emailId":        emailIDString(sub.EmailID),
		"threadId":       threadIDString(sub.ThreadID),
		"envelope":       env,
		"sendAt":         sub.SendAt.UTC().Format(time.RFC3339),
		"undoStatus":     undoStatus(sub, now),
		"deliveryStatus": ds,
		"dsnBlobIds":     []string{},
		"mdnBlobIds":     []string{},
	}
}

// undoStatus is the submission's stored status, except that a pending one
// whose hold has passed is final: the queue may not have claimed it yet,
// but it no longer lets it be cancelled (QueueCancel needs the hold ahead).
func undoStatus(sub store.Submission, now time.Time) string {
	if sub.UndoStatus == store.UndoPending && sub.QueueID != 0 && !sub.SendAt.After(now) {
		return store.UndoFinal
	}
	return sub.UndoStatus
}

// queueDeliveryStatus updates a rendered submission's deliveryStatus from
// its queue entry's recipients (RFC 8621 §7: queued, yes, no), once the
// queue released it. An entry that has left the queue is done with every
// recipient, but whether each got it is no longer known.
func (c *call) queueDeliveryStatus(ctx context.Context, sub store.Submission, obj map[string]any) {
	dr, _ := obj["deliveryStatus"].(deliveryResult)
	if sub.QueueID == 0 || dr == nil || obj["undoStatus"] != store.UndoFinal {
		return
	}
	m, err := c.s.st.QueueGet(ctx, sub.QueueID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		for r, st := range dr {
			if st.Delivered == "queued" {
				st.Delivered = "unknown"
				dr[r] = st
			}
		}
		return
	case err != nil:
		return
	}
	byAddr := map[string]store.OutboundRecipient{}
	for _, r := range m.Recipients {
		byAddr[strings.ToLower(r.Address)] = r
	}
	for addr, st := range dr {
		r, ok := byAddr[strings.ToLower(addr)]
		if !ok || st.Delivered == "no" {
			continue
		}
		switch r.Status {
		case store.RcptDelivered:
			st.Delivered, st.SMTPReply = "yes", "250 2.0.0 Delivered"
		case store.RcptFailed:
			st.Delivered, st.SMTPReply = "no", r.LastError
		default:
			st.Delivered = "queued"
			if r.LastError != "" {
				st.SMTPReply = r.LastError
			}
		}
		dr[addr] = st
	}
}

// submissionGet implements EmailSubmission/get (RFC 8621 §7.1).
func submissionGet(ctx context.Context, c *call) (any, error) {
	var a getArgs
	want, resp, err := c.beginGet(ctx, &a, submissionProps)
	if err != nil {
		return nil, err
	}
	var ids []store.SubmissionID
	if a.IDs != nil {
		ids = []store.SubmissionID{}
		for _, raw := range *a.IDs {
			id, _ := c.resolveID(raw)
			if n, ok := parseSubmissionID(id); ok {
				ids = append(ids, n)
			}
		}
	}
	subs, err := c.s.st.Submissions(ctx, c.acct().ID, ids)
	if err != nil {
		return nil, err
	}
	now := c.s.now()
	fillGet(c, resp, a.IDs, subs, func(sub store.Submission) string { return submissionIDString(sub.ID) },
		func(sub store.Submission) any {
			obj := renderSubmission(sub, now)
			if want["deliveryStatus"] {
				c.queueDeliveryStatus(ctx, sub, obj)
			}
			return pick(obj, want)
		})
	return resp, nil
}

func submissionChanges(ctx context.Context, c *call) (any, error) {
	return c.simpleChanges(ctx, store.ChangeSubmission, func(n int64) string { return submissionIDString(store.SubmissionID(n)) })
}

type submissionSetArgs struct {
	setArgs
	OnSuccessUpdateEmail  map[string]json.RawMessage `json:"onSuccessUpdateEmail"`
	OnSuccessDestroyEmail []string                   `json:"onSuccessDestroyEmail"`
}

// submissionSet implements EmailSubmission/set (RFC 8621 §7.5).
func submissionSet(ctx context.Context, c *call) (any, error) {
	var a submissionSetArgs
	resp, err := c.beginSet(ctx, &a, &a.setArgs)
	if err != nil {
		return nil, err
	}
	emailOf := map[string]store.MessageID{} // submission id or "#creation id" → email
	for _, cid := range sortedKeys(a.Create) {
		sub, se := c.submissionCreate(ctx, a.Create[cid])
		if se != nil {
			resp.NotCreated[cid] = se
			continue
		}
		id := submissionIDString(sub.ID)
		c.req.created[cid] = id
		emailOf["#"+cid] = sub.EmailID
		resp.Created[cid] = map[string]any{"id": id, "threadId": threadIDString(sub.ThreadID),
			"sendAt": sub.SendAt.UTC().Format(time.RFC3339), "undoStatus": undoStatus(sub, c.s.now())}
	}
	for _, id := range sortedKeys(a.Update) {
		if se := c.submissionUpdate(ctx, id, a.Update[id]); se != nil {
			resp.NotUpdated[id] = se
		} else {
			resp.Updated[id] = nil
		}
	}
	for _, raw := range a.Destroy {
		id, _ := c.resolveID(raw)
		n, ok := parseSubmissionID(id)
		if !ok {
			resp.NotDestroyed[raw] = &SetError{Type: setNotFound}
			continue
		}
		if err := c.s.st.DeleteSubmission(ctx, c.acct().ID, n); err != nil {
			resp.NotDestroyed[raw] = storeSetErr(err)
			continue
		}
		resp.Destroyed = append(resp.Destroyed, raw)
	}
	if err := c.onSuccess(ctx, &a, resp, emailOf); err != nil {
		return nil, err
	}
	_, resp.NewState, err = c.state(ctx)
	return resp, err
}

// onSuccess applies onSuccessUpdateEmail/onSuccessDestroyEmail and adds
// the implicit Email/set response (RFC 8621 §7.5).
func (c *call) onSuccess(ctx context.Context, a *submissionSetArgs, resp *setResponse, emailOf map[string]store.MessageID) error {
	if len(a.OnSuccessUpdateEmail) == 0 && len(a.OnSuccessDestroyEmail) == 0 {
		return nil
	}
	_, state, err := c.state(ctx)
	if err != nil {
		return err
	}
	// Existing submissions named by id.
	lookup := func(key string) (store.MessageID, bool) {
		if e, ok := emailOf[key]; ok {
			return e, true
		}
		if strings.HasPrefix(key, "#") {
			return 0, false
		}
		n, ok := parseSubmissionID(key)
		if !ok {
			return 0, false
		}
		if _, updated := resp.Updated[key]; !updated {
			return 0, false
		}
		subs, err := c.s.st.Submissions(ctx, c.acct().ID, []store.SubmissionID{n})
		if err != nil || len(subs) == 0 {
			return 0, false
		}
		return subs[0].EmailID, true
	}
	er := newSetResponse(a.AccountID, state)
	for _, key := range sortedKeys(a.OnSuccessUpdateEmail) {
		email, ok := lookup(key)
		if !ok {
			continue // the submission failed: nothing to do
		}
		eid := emailIDString(email)
		if se := c.emailUpdate(ctx, eid, a.OnSuccessUpdateEmail[key]); se != nil {
			er.NotUpdated[eid] = se
		} else {
			er.Updated[eid] = nil
		}
	}
	for _, key := range a.OnSuccessDestroyEmail {
		email, ok := lookup(key)
		if !ok {
			continue
		}
		eid := emailIDString(email)
		if se := c.emailDestroy(ctx, eid); se != nil {
			er.NotDestroyed[eid] = se
		} else {
			er.Destroyed = append(er.Destroyed, eid)
		}
	}
	_, er.NewState, err = c.state(ctx)
	if err != nil {
		return err
	}
	return c.addResponse("Email/set", er)
}

type submissionIn struct {
	IdentityID string        `json:"identityId"`
	EmailID    string        `json:"emailId"`
	Envelope   *envelopeJSON `json:"envelope"`
}

// maxRcpts bounds the recipients of one submission.
const maxRcpts = 500

func (c *call) submissionCreate(ctx context.Context, raw json.RawMessage) (store.Submission, *SetError) {
	acct := c.acct()
	if c.s.submitter == nil {
		return store.Submission{}, &SetError{Type: setForbiddenToSend, Description: "sending is not configured"}
	}
	var in submissionIn
	if err := json.Unmarshal(raw, &in); err != nil {
		return store.Submission{}, invalidProps("bad EmailSubmission")
	}
	var rawMap map[string]json.RawMessage
	_ = json.Unmarshal(raw, &rawMap)
	for k := range rawMap {
		if k != "identityId" && k != "emailId" && k != "envelope" {
			return store.Submission{}, invalidProps("cannot set "+k, k)
		}
	}
	ident, se := c.findIdentity(ctx, in.IdentityID)
	if se != nil {
		return store.Submission{}, se
	}
	eid, _ := c.resolveID(in.EmailID)
	en, ok := parseEmailID(eid)
	var msgs []store.Message
	if ok {
		msgs, _ = c.s.st.Messages(ctx, acct.ID, []store.MessageID{en})
	}
	if len(msgs) == 0 {
		return store.Submission{}, invalidProps("no such email", "emailId")
	}
	msg := msgs[0]
	identEmail, _ := ident.obj["email"].(string)
	env, se := c.submissionEnvelope(ctx, in.Envelope, msg, identEmail)
	if se != nil {
		return store.Submission{}, se
	}
	sendAt, se := c.holdUntil(ctx, env.MailFrom.Parameters)
	if se != nil {
		return store.Submission{}, se
	}
	data, err := blob.ReadAll(ctx, c.s.blobs, msg.BlobID)
	if err != nil {
		return store.Submission{}, &SetError{Type: setInvalidEmail, Description: "the email cannot be read"}
	}
	out := stripHeader(data, "Bcc")
	params, _ := json.Marshal(env.MailFrom.Parameters)
	now := c.s.now()
	// No BlobID: the queue keeps the message it sends. Only a pending row
	// with no queue entry is read back from its blob (HandOverUnqueued),
	// and submit never leaves a row of its own pending and unqueued.
	sub := store.Submission{Account: acct.ID, IdentityID: ident.id, EmailID: msg.ID, ThreadID: msg.ThreadID,
		MailFrom: env.MailFrom.Email, MailFromParams: params, Size: int64(len(out)), Created: now,
		SendAt: sendAt}
	for _, r := range env.RcptTo {
		sub.Rcpts = append(sub.Rcpts, r.Email)
	}
	// The message goes to delivery before the submission is stored: a
	// crash in between leaves a message that is sent (or held and sent)
	// without its JMAP object, never a submission whose message is lost.
	key := fmt.Sprintf("email-%d-%d", msg.ID, now.UnixNano())
	o, err := c.s.submit(ctx, key, sub, out)
	if err != nil {
		c.s.log.Warn("submission", "email", msg.ID, "err", err)
		return store.Submission{}, &SetError{Type: setForbidden, Description: "the message could not be handed to delivery"}
	}
	sub.QueueID, sub.UndoStatus, sub.Result = o.QueueID, o.UndoStatus, o.Result
	id, err := c.s.st.CreateSubmission(ctx, sub)
	if err != nil {
		return store.Submission{}, storeSetErr(err)
	}
	sub.ID = id
	return sub, nil
}

func (c *call) findIdentity(ctx context.Context, raw string) (storedObject, *SetError) {
	if err := c.s.ensureIdentity(ctx, c.acct()); err != nil {
		return storedObject{}, &SetError{Type: setForbidden}
	}
	t := identityType()
	objs, err := t.load(ctx, c)
	if err != nil {
		return storedObject{}, &SetError{Type: setForbidden}
	}
	o, ok := t.find(objs, c, raw)
	if !ok {
		return storedObject{}, invalidProps("no such identity", "identityId")
	}
	return o, nil
}

// submissionEnvelope returns the envelope given, or the one derived from
// the email (RFC 8621 §7.5: MAIL FROM from the identity, RCPT TO from To,
// Cc and Bcc), and checks that the user may use its sender.
func (c *call) submissionEnvelope(ctx context.Context, env *envelopeJSON, msg store.Message, identEmail string) (envelopeJSON, *SetError) {
	acct := c.acct()
	var out envelopeJSON
	if env != nil {
		out = *env
	} else {
		out.MailFrom.Email = identEmail
		if strings.HasPrefix(identEmail, "*@") && len(msg.Envelope.From) > 0 {
			out.MailFrom.Email = msg.Envelope.From[0].Address
		}
		seen := map[string]bool{}
		for _, l := range [][]store.EnvelopeAddress{msg.Envelope.To, msg.Envelope.Cc, msg.Envelope.Bcc} {
			for _, a := range l {
				k := strings.ToLower(a.Address)
				if a.Address != "" && !seen[k] {
					seen[k] = true
					out.RcptTo = append(out.RcptTo, addressJSON{Email: a.Address})
				}
			}
		}
	}
	if len(out.RcptTo) == 0 {
		return out, &SetError{Type: setNoRecipients}
	}
	if len(out.RcptTo) > maxRcpts {
		return out, &SetError{Type: setTooManyRecipients, MaxSize: maxRcpts}
	}
	var bad []string
	for _, r := range out.RcptTo {
		if !strings.Contains(r.Email, "@") || strings.ContainsAny(r.Email, " <>\r\n") {
			bad = append(bad, r.Email)
		}
	}
	if bad != nil {
		return out, &SetError{Type: setInvalidRecipients, InvalidRecipients: bad}
	}
	// One read of the account's send addresses serves every check.
	addrs, err := c.s.sendAddresses(ctx, acct)
	if err != nil || !mayUse(addrs, out.MailFrom.Email) {
		return out, &SetError{Type: setForbiddenMailFrom}
	}
	for _, f := range msg.Envelope.From {
		if !mayUse(addrs, f.Address) {
			return out, &SetError{Type: setForbiddenFrom}
		}
	}
	return out, nil
}

// holdUntil computes sendAt: now plus the undo delay, or the FUTURERELEASE
// time asked for (RFC 4865 HOLDUNTIL, an RFC 3339 time, or HOLDFOR,
// seconds), whichever is later.
func (c *call) holdUntil(ctx context.Context, params map[string]string) (time.Time, *SetError) {
	now := c.s.now()
	at := now.Add(c.s.undoDelay(ctx, c.acct().ID))
	for k, v := range params {
		var t time.Time
		switch strings.ToUpper(k) {
		case "HOLDUNTIL":
			p, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return time.Time{}, invalidProps("bad HOLDUNTIL", "envelope")
			}
			t = p
		case "HOLDFOR":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return time.Time{}, invalidProps("bad HOLDFOR", "envelope")
			}
			t = now.Add(time.Duration(n) * time.Second)
		default:
			continue
		}
		if t.Sub(now) > c.s.maxDelay {
			return time.Time{}, invalidProps("the hold is longer than maxDelayedSend", "envelope")
		}
		if t.After(at) {
			at = t
		}
	}
	return at, nil
}

// stripHeader removes every field named name from a message's header.
func stripHeader(raw []byte, name string) []byte {
	var out bytes.Buffer
	i, skipping := 0, false
	for i < len(raw) {
		end := bytes.IndexByte(raw[i:], '\n')
		next := len(raw)
		if end >= 0 {
			next = i + end + 1
		}
		line := raw[i:next]
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			out.Write(raw[i:])
			return out.Bytes()
		}
		if line[0] == ' ' || line[0] == '\t' {
			if !skipping {
				out.Write(line)
			}
		} else {
			c := bytes.IndexByte(line, ':')
			skipping = c > 0 && strings.EqualFold(strings.TrimSpace(string(line[:c])), name)
			if !skipping {
				out.Write(line)
			}
		}
		i = next
	}
	return out.Bytes()
}

// submissionUpdate allows only undoStatus "canceled" (RFC 8621 §7.5).
func (c *call) submissionUpdate(ctx context.Context, rawID string, patch json.RawMessage) *SetError {
	id, _ := c.resolveID(rawID)
	n, ok := parseSubmissionID(id)
	if !ok {
		return &SetError{Type: setNotFound}
	}
	var p map[string]json.RawMessage
	if json.Unmarshal(patch, &p) != nil {
		return invalidProps("not a patch object")
	}
	for k, v := range p {
		var s string
		if k != "undoStatus" || json.Unmarshal(v, &s) != nil || s != store.UndoCanceled {
			return invalidProps("only undoStatus can be set, to canceled", k)
		}
	}
	if len(p) == 0 {
		return nil
	}
	err := c.s.st.CancelSubmission(ctx, c.acct().ID, n)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return &SetError{Type: setNotFound}
	case errors.Is(err, store.ErrInvalid):
		return &SetError{Type: setCannotUnsend}
	case err != nil:
		return storeSetErr(err)
	}
	return nil
}

// submissionFilter is an EmailSubmission/query FilterCondition.
type submissionFilter struct {
	Operator    string             `json:"operator"`
	Conditions  []submissionFilter `json:"conditions"`
	IdentityIDs []string           `json:"identityIds"`
	EmailIDs    []string           `json:"emailIds"`
	ThreadIDs   []string           `json:"threadIds"`
	UndoStatus  *string            `json:"undoStatus"`
	Before      *string            `json:"before"`
	After       *string            `json:"after"`
}

func (f *submissionFilter) match(c *call, obj map[string]any, depth int) (bool, error) {
	if depth > 16 {
		return false, invalidArgs("filter nested too deeply")
	}
	if f.Operator != "" {
		return matchOperator(f.Operator, f.Conditions, func(g *submissionFilter) (bool, error) {
			return g.match(c, obj, depth+1)
		})
	}
	in := func(ids []string, v any) bool {
		if ids == nil {
			return true
		}
		return slices.ContainsFunc(ids, func(raw string) bool { r, _ := c.resolveID(raw); return r == v })
	}
	if !in(f.IdentityIDs, obj["identityId"]) || !in(f.EmailIDs, obj["emailId"]) || !in(f.ThreadIDs, obj["threadId"]) {
		return false, nil
	}
	if f.UndoStatus != nil && obj["undoStatus"] != *f.UndoStatus {
		return false, nil
	}
	sendAt, _ := time.Parse(time.RFC3339, obj["sendAt"].(string))
	for _, d := range []struct {
		v      *string
		before bool
	}{{f.Before, true}, {f.After, false}} {
		if d.v == nil {
			continue
		}
		t, err := time.Parse(time.RFC3339, *d.v)
		if err != nil {
			return false, invalidArgs("bad UTCDate")
		}
		if d.before && !sendAt.Before(t) || !d.before && sendAt.Before(t) {
			return false, nil
		}
	}
	return true, nil
}

// submissionQueryIDs returns every matching submission id in order.
func submissionQueryIDs(ctx context.Context, c *call, filter, sort json.RawMessage) ([]string, error) {
	var f *submissionFilter
	if len(filter) > 0 && !isNull(filter) {
		f = &submissionFilter{}
		if err := json.Unmarshal(filter, f); err != nil {
			return nil, invalidArgs("filter: %v", err)
		}
	}
	var comps []comparator
	if len(sort) > 0 && !isNull(sort) {
		if err := json.Unmarshal(sort, &comps); err != nil {
			return nil, invalidArgs("sort: %v", err)
		}
	}
	// RFC 8621 §7.3 names the time sort "sentAt" although the property is
	// sendAt; clients use either spelling, so both sort on the send time.
	for _, co := range comps {
		if co.Property != "emailId" && co.Property != "threadId" && co.Property != "sentAt" && co.Property != "sendAt" {
			return nil, methodErr(errUnsupportedSort, "cannot sort on %q", co.Property)
		}
	}
	subs, err := c.s.st.Submissions(ctx, c.acct().ID, nil)
	if err != nil {
		return nil, err
	}
	now := c.s.now()
	var objs []map[string]any
	for _, s := range subs {
		o := renderSubmission(s, now)
		o["_n"] = s
		if f != nil {
			ok, err := f.match(c, o, 0)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
		}
		objs = append(objs, o)
	}
	slices.SortStableFunc(objs, func(x, y map[string]any) int {
		sx, sy := x["_n"].(store.Submission), y["_n"].(store.Submission)
		for _, co := range comps {
			var d int
			switch co.Property {
			case "emailId":
				d = cmpInt(int64(sx.EmailID), int64(sy.EmailID))
			case "threadId":
				d = cmpInt(int64(sx.ThreadID), int64(sy.ThreadID))
			default:
				d = sx.SendAt.Compare(sy.SendAt)
			}
			if !co.ascending() {
				d = -d
			}
			if d != 0 {
				return d
			}
		}
		return cmpInt(int64(sx.ID), int64(sy.ID))
	})
	ids := make([]string, len(objs))
	for i, o := range objs {
		ids[i] = o["id"].(string)
	}
	return ids, nil
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// submissionQuery implements EmailSubmission/query (RFC 8621 §7.3).
func submissionQuery(ctx context.Context, c *call) (any, error) {
	return c.queryAll(ctx, func(a *queryArgs) ([]string, error) { return submissionQueryIDs(ctx, c, a.Filter, a.Sort) })
}

// submissionQueryChanges implements EmailSubmission/queryChanges
// (RFC 8621 §7.4).
func submissionQueryChanges(ctx context.Context, c *call) (any, error) {
	return c.queryChangesAll(ctx, fullQueryChanges{
		kind: store.ChangeSubmission,
		read: func(ch store.Change) (int64, bool) {
			return ch.ID, ch.Kind == store.ChangeSubmission
		},
		format: func(n int64) string { return submissionIDString(store.SubmissionID(n)) },
		list:   func(a *queryArgs) ([]string, error) { return submissionQueryIDs(ctx, c, a.Filter, a.Sort) },
	})
}
