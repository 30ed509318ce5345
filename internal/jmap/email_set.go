package jmap

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"freehold/internal/message"
	"freehold/internal/store"
)

// emailSet implements Email/set (RFC 8621 §4.6).
func emailSet(ctx context.Context, c *call) (any, error) {
	var a setArgs
	resp, err := c.beginSet(ctx, &a, &a)
	if err != nil {
		return nil, err
	}
	for _, cid := range sortedKeys(a.Create) {
		obj, se := c.emailCreate(ctx, a.Create[cid])
		if se != nil {
			resp.NotCreated[cid] = se
			continue
		}
		c.req.created[cid] = obj["id"].(string)
		resp.Created[cid] = obj
	}
	for _, id := range sortedKeys(a.Update) {
		if se := c.emailUpdate(ctx, id, a.Update[id]); se != nil {
			resp.NotUpdated[id] = se
		} else {
			resp.Updated[id] = nil
		}
	}
	for _, id := range a.Destroy {
		if se := c.emailDestroy(ctx, id); se != nil {
			resp.NotDestroyed[id] = se
		} else {
			resp.Destroyed = append(resp.Destroyed, id)
		}
	}
	_, resp.NewState, err = c.state(ctx)
	return resp, err
}

// emailCreateProps may be given to create an Email.
var emailCreateProps = map[string]bool{"mailboxIds": true, "keywords": true, "receivedAt": true,
	"messageId": true, "inReplyTo": true, "references": true, "sender": true, "from": true, "to": true,
	"cc": true, "bcc": true, "replyTo": true, "subject": true, "sentAt": true, "bodyStructure": true,
	"bodyValues": true, "textBody": true, "htmlBody": true, "attachments": true}

// blobSource lets the builder read blobs the account may use.
type blobSource struct {
	s    *Server
	acct store.AccountID
}

func (b blobSource) blobBytes(ctx context.Context, id string) ([]byte, error) {
	return b.s.openBlob(ctx, b.acct, id)
}

func (c *call) emailCreate(ctx context.Context, rawObj json.RawMessage) (map[string]any, *SetError) {
	var props map[string]json.RawMessage
	if err := json.Unmarshal(rawObj, &props); err != nil {
		return nil, invalidProps("not an object")
	}
	for k := range props {
		if !emailCreateProps[k] && !strings.HasPrefix(k, "header:") {
			return nil, invalidProps("cannot set "+k, k)
		}
	}
	mboxes, se := c.mailboxSet(ctx, props["mailboxIds"])
	if se != nil {
		return nil, se
	}
	kw, se := keywordSet(props["keywords"])
	if se != nil {
		return nil, se
	}
	received := c.s.now()
	if v, ok := props["receivedAt"]; ok && !isNull(v) {
		var s string
		t, err := time.Parse(time.RFC3339, unquote(v, &s))
		if err != nil {
			return nil, invalidProps("bad receivedAt", "receivedAt")
		}
		received = t
	}
	b := &builder{ctx: ctx, src: blobSource{c.s, c.acct().ID}, values: map[string]string{}, used: map[string]bool{},
		hostname: c.s.hostname}
	raw, se := b.buildMessage(props, c.s.now())
	if se != nil {
		return nil, se
	}
	if int64(len(raw)) > c.s.limits.MaxSizeUpload {
		return nil, &SetError{Type: setTooLarge, MaxSize: c.s.limits.MaxSizeUpload}
	}
	return c.storeMessage(ctx, raw, mboxes, kw, received)
}

// storeMessage stores raw bytes as a new Email in the given mailboxes and
// returns the created object's server-set properties.
func (c *call) storeMessage(ctx context.Context, raw []byte, mboxes []store.MailboxID, kw []string, received time.Time) (map[string]any, *SetError) {
	acct := c.acct().ID
	blobID, size, err := c.s.blobs.Put(ctx, bytes.NewReader(raw))
	if err != nil {
		c.s.log.Error("email create: blob", "err", err)
		return nil, &SetError{Type: setForbidden, Description: "the message could not be stored"}
	}
	env, preview, att := message.Summarize(raw)
	entry, err := c.s.st.Append(ctx, acct, mboxes[0], store.NewMessage{BlobID: blobID, Size: size, ReceivedAt: received,
		Envelope: env, Preview: preview, HasAttachment: att, Keywords: kw})
	if err != nil {
		return nil, storeSetErr(err)
	}
	for _, m := range mboxes[1:] {
		if _, err := c.s.st.Copy(ctx, acct, store.CopyRequest{From: mboxes[0], To: m, UIDs: []store.UID{entry.UID}}); err != nil {
			return nil, storeSetErr(err)
		}
	}
	msgs, err := c.s.st.Messages(ctx, acct, []store.MessageID{entry.MessageID})
	if err != nil || len(msgs) == 0 {
		return nil, &SetError{Type: setForbidden, Description: "the message could not be read back"}
	}
	return map[string]any{"id": emailIDString(entry.MessageID), "blobId": blobIDString(blobID),
		"threadId": threadIDString(msgs[0].ThreadID), "size": size}, nil
}

func storeSetErr(err error) *SetError {
	switch {
	case errors.Is(err, store.ErrQuotaExceeded):
		return &SetError{Type: setOverQuota}
	case errors.Is(err, store.ErrNotFound):
		return &SetError{Type: setNotFound}
	}
	return &SetError{Type: setForbidden, Description: "the store refused the change"}
}

// mailboxSet parses a mailboxIds value: at least one mailbox, all of the
// account.
func (c *call) mailboxSet(ctx context.Context, v json.RawMessage) ([]store.MailboxID, *SetError) {
	var m map[string]bool
	if len(v) == 0 || json.Unmarshal(v, &m) != nil || len(m) == 0 {
		return nil, invalidProps("mailboxIds must name at least one mailbox", "mailboxIds")
	}
	all, err := c.s.st.Mailboxes(ctx, c.acct().ID)
	if err != nil {
		return nil, &SetError{Type: setForbidden}
	}
	var out []store.MailboxID
	for _, raw := range sortedKeys(m) {
		if !m[raw] {
			return nil, invalidProps("mailboxIds values must be true", "mailboxIds")
		}
		id, _ := c.resolveID(raw)
		n, ok := parseMailboxID(id)
		if !ok || !slices.ContainsFunc(all, func(mb store.Mailbox) bool { return mb.ID == n }) {
			return nil, invalidProps("unknown mailbox "+raw, "mailboxIds")
		}
		out = append(out, n)
	}
	return out, nil
}

// keywordSet parses a keywords value.
func keywordSet(v json.RawMessage) ([]string, *SetError) {
	if len(v) == 0 || isNull(v) {
		return nil, nil
	}
	var m map[string]bool
	if json.Unmarshal(v, &m) != nil {
		return nil, invalidProps("keywords must be a map to true", "keywords")
	}
	var out []string
	for k, on := range m {
		if !on || !validKeyword(k) {
			return nil, invalidProps("bad keyword "+k, "keywords")
		}
		out = append(out, strings.ToLower(k))
	}
	return store.NormalizeKeywords(out), nil
}

// emailUpdate applies a patch to keywords and mailboxIds, the only
// mutable properties (RFC 8621 §4.6).
func (c *call) emailUpdate(ctx context.Context, rawID string, patch json.RawMessage) *SetError {
	acct := c.acct().ID
	id, _ := c.resolveID(rawID)
	n, ok := parseEmailID(id)
	if !ok {
		return &SetError{Type: setNotFound}
	}
	msgs, err := c.s.st.Messages(ctx, acct, []store.MessageID{n})
	if err != nil || len(msgs) == 0 {
		return &SetError{Type: setNotFound}
	}
	msg := msgs[0]
	var p map[string]json.RawMessage
	if json.Unmarshal(patch, &p) != nil {
		return invalidProps("not a patch object")
	}
	kw := map[string]bool{}
	for _, k := range msg.Keywords {
		kw[k] = true
	}
	mb := map[string]bool{}
	for _, m := range msg.Mailboxes {
		mb[mailboxIDString(m)] = true
	}
	kwChanged, mbChanged := false, false
	for path, v := range p {
		switch {
		case path == "keywords":
			l, se := keywordSet(v)
			if se != nil {
				return se
			}
			kw = map[string]bool{}
			for _, k := range l {
				kw[k] = true
			}
			kwChanged = true
		case strings.HasPrefix(path, "keywords/"):
			k := strings.ToLower(unescapePointer(path[len("keywords/"):]))
			if !validKeyword(k) {
				return invalidProps("bad keyword", path)
			}
			if se := patchBool(kw, k, v, path); se != nil {
				return se
			}
			kwChanged = true
		case path == "mailboxIds":
			var m map[string]bool
			if json.Unmarshal(v, &m) != nil {
				return invalidProps("bad mailboxIds", path)
			}
			mb = map[string]bool{}
			for k, on := range m {
				if !on {
					return invalidProps("mailboxIds values must be true", path)
				}
				r, _ := c.resolveID(k)
				mb[r] = true
			}
			mbChanged = true
		case strings.HasPrefix(path, "mailboxIds/"):
			r, _ := c.resolveID(unescapePointer(path[len("mailboxIds/"):]))
			if se := patchBool(mb, r, v, path); se != nil {
				return se
			}
			mbChanged = true
		default:
			return invalidProps("cannot change "+path, path)
		}
	}
	if mbChanged {
		if se := c.moveEmail(ctx, msg, mb); se != nil {
			return se
		}
	}
	if kwChanged {
		next := make([]string, 0, len(kw))
		for k := range kw {
			next = append(next, k)
		}
		if se := c.setEmailKeywords(ctx, msg.ID, next); se != nil {
			return se
		}
	}
	return nil
}

func unescapePointer(s string) string {
	return strings.NewReplacer("~1", "/", "~0", "~").Replace(s)
}

// patchBool applies a "x/key": true|null patch to a set.
func patchBool(set map[string]bool, key string, v json.RawMessage, path string) *SetError {
	switch strings.TrimSpace(string(v)) {
	case "true":
		set[key] = true
	case "null", "false":
		delete(set, key)
	default:
		return invalidProps("value must be true or null", path)
	}
	return nil
}

// setEmailKeywords replaces an Email's keywords through one of its
// mailbox entries (keywords belong to the Email, in every mailbox).
func (c *call) setEmailKeywords(ctx context.Context, id store.MessageID, kw []string) *SetError {
	acct := c.acct().ID
	refs, err := c.s.st.MessageEntries(ctx, acct, []store.MessageID{id})
	if err != nil || len(refs) == 0 {
		return &SetError{Type: setNotFound}
	}
	_, _, err = c.s.st.UpdateKeywords(ctx, acct, store.KeywordUpdate{Mailbox: refs[0].Mailbox,
		UIDs: []store.UID{refs[0].UID}, Mode: store.KeywordsReplace, Keywords: kw})
	if err != nil {
		return storeSetErr(err)
	}
	return nil
}

// moveEmail makes an Email's mailboxes the given set: it adds the new ones
// (by copying an existing entry) before removing the old, so the Email is
// never in no mailbox (which would destroy it).
func (c *call) moveEmail(ctx context.Context, msg store.Message, want map[string]bool) *SetError {
	acct := c.acct().ID
	if len(want) == 0 {
		return invalidProps("an Email must stay in at least one mailbox", "mailboxIds")
	}
	var target []store.MailboxID
	for id := range want {
		n, ok := parseMailboxID(id)
		if !ok {
			return invalidProps("unknown mailbox "+id, "mailboxIds")
		}
		if _, err := c.s.st.Mailbox(ctx, acct, n); err != nil {
			return invalidProps("unknown mailbox "+id, "mailboxIds")
		}
		target = append(target, n)
	}
	refs, err := c.s.st.MessageEntries(ctx, acct, []store.MessageID{msg.ID})
	if err != nil || len(refs) == 0 {
		return &SetError{Type: setNotFound}
	}
	src := refs[0]
	for _, m := range target {
		if slices.ContainsFunc(refs, func(r store.EntryRef) bool { return r.Mailbox == m }) {
			continue
		}
		if _, err := c.s.st.Copy(ctx, acct, store.CopyRequest{From: src.Mailbox, To: m, UIDs: []store.UID{src.UID}}); err != nil {
			return storeSetErr(err)
		}
	}
	for _, r := range refs {
		if slices.Contains(target, r.Mailbox) {
			continue
		}
		if _, err := c.s.st.Expunge(ctx, acct, r.Mailbox, []store.UID{r.UID}); err != nil {
			return storeSetErr(err)
		}
	}
	return nil
}

// emailDestroy removes an Email from every mailbox, which destroys it.
func (c *call) emailDestroy(ctx context.Context, rawID string) *SetError {
	acct := c.acct().ID
	id, _ := c.resolveID(rawID)
	n, ok := parseEmailID(id)
	if !ok {
		return &SetError{Type: setNotFound}
	}
	refs, err := c.s.st.MessageEntries(ctx, acct, []store.MessageID{n})
	if err != nil || len(refs) == 0 {
		return &SetError{Type: setNotFound}
	}
	for _, r := range refs {
		if _, err := c.s.st.Expunge(ctx, acct, r.Mailbox, []store.UID{r.UID}); err != nil {
			return storeSetErr(err)
		}
	}
	return nil
}
