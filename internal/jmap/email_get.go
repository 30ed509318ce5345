package jmap

import (
	"context"
	"errors"
	"slices"
	"time"

	"freehold/internal/blob"
	"freehold/internal/message"
	"freehold/internal/store"
)

// emailProps are the Email properties (RFC 8621 §4.1), header:* aside.
var emailProps = []string{"id", "blobId", "threadId", "mailboxIds", "keywords", "size", "receivedAt",
	"messageId", "inReplyTo", "references", "sender", "from", "to", "cc", "bcc", "replyTo", "subject",
	"sentAt", "hasAttachment", "preview", "bodyValues", "textBody", "htmlBody", "attachments",
	"headers", "bodyStructure"}

var defaultEmailProps = []string{"id", "blobId", "threadId", "mailboxIds", "keywords", "size",
	"receivedAt", "messageId", "inReplyTo", "references", "sender", "from", "to", "cc", "bcc",
	"replyTo", "subject", "sentAt", "hasAttachment", "preview", "bodyValues", "textBody",
	"htmlBody", "attachments"}

// needRaw lists the properties that are read from the message itself
// rather than from the stored summary.
var needRaw = []string{"bodyValues", "textBody", "htmlBody", "attachments", "headers", "bodyStructure"}

type emailGetArgs struct {
	getArgs
	BodyProperties      *[]string `json:"bodyProperties"`
	FetchTextBodyValues bool      `json:"fetchTextBodyValues"`
	FetchHTMLBodyValues bool      `json:"fetchHTMLBodyValues"`
	FetchAllBodyValues  bool      `json:"fetchAllBodyValues"`
	MaxBodyValueBytes   int       `json:"maxBodyValueBytes"`
}

// emailView says what to render of each Email.
type emailView struct {
	props      map[string]bool
	headers    []headerProp
	bodyProps  map[string]bool
	bodyHeader []headerProp
	fetchText  bool
	fetchHTML  bool
	fetchAll   bool
	maxValue   int
}

func (v *emailView) wantsRaw() bool {
	return len(v.headers) > 0 || slices.ContainsFunc(needRaw, func(p string) bool { return v.props[p] })
}

// newEmailView validates the property arguments of Email/get or
// Email/parse.
func newEmailView(a *emailGetArgs, known, defaults []string) (*emailView, error) {
	v := &emailView{fetchText: a.FetchTextBodyValues, fetchHTML: a.FetchHTMLBodyValues,
		fetchAll: a.FetchAllBodyValues, maxValue: a.MaxBodyValueBytes}
	if a.MaxBodyValueBytes < 0 {
		return nil, invalidArgs("maxBodyValueBytes is negative")
	}
	var err error
	if v.props, v.headers, err = splitProps(a.Properties, defaults, known, "property"); err != nil {
		return nil, err
	}
	if slices.Contains(known, "id") {
		v.props["id"] = true
	}
	if v.bodyProps, v.bodyHeader, err = splitProps(a.BodyProperties, defaultBodyPartProps, bodyPartProps, "body property"); err != nil {
		return nil, err
	}
	return v, nil
}

// splitProps parses a requested property list, defaults when null, into
// the known names and the header:* forms (RFC 8621 §4.1.3); any other
// name is invalidArguments, reported as an unknown what.
func splitProps(req *[]string, defaults, known []string, what string) (map[string]bool, []headerProp, error) {
	list := defaults
	if req != nil {
		list = *req
	}
	names := map[string]bool{}
	var headers []headerProp
	for _, p := range list {
		if hp, ok := parseHeaderProp(p); ok {
			headers = append(headers, hp)
			continue
		}
		if !slices.Contains(known, p) {
			return nil, nil, invalidArgs("unknown %s %q", what, p)
		}
		names[p] = true
	}
	return names, headers, nil
}

// emailGet implements Email/get (RFC 8621 §4.2).
func emailGet(ctx context.Context, c *call) (any, error) {
	var a emailGetArgs
	if err := c.decode(&a); err != nil {
		return nil, err
	}
	if err := c.checkGet(&a.getArgs); err != nil {
		return nil, err
	}
	view, err := newEmailView(&a, emailProps, defaultEmailProps)
	if err != nil {
		return nil, err
	}
	_, state, err := c.state(ctx)
	if err != nil {
		return nil, err
	}
	acct := c.acct().ID
	resp := &getResponse{AccountID: a.AccountID, State: state, List: []any{}, NotFound: []string{}}
	var ids []store.MessageID
	var raws []string
	if a.IDs == nil {
		// ids null means all: answered only while that is a small list.
		n := 0
		err := c.s.st.EmailQuery(ctx, acct, store.EmailQuery{Limit: c.s.limits.MaxObjectsInGet + 1}, func(r store.EmailRef) bool {
			ids = append(ids, r.ID)
			raws = append(raws, emailIDString(r.ID))
			n++
			return true
		})
		if err != nil {
			return nil, err
		}
		if n > c.s.limits.MaxObjectsInGet {
			return nil, methodErr(errRequestTooLarge, "the account has more emails than maxObjectsInGet")
		}
	} else {
		for _, raw := range *a.IDs {
			id, _ := c.resolveID(raw)
			n, ok := parseEmailID(id)
			if !ok {
				resp.NotFound = append(resp.NotFound, raw)
				continue
			}
			ids = append(ids, n)
			raws = append(raws, raw)
		}
	}
	msgs, err := c.s.st.Messages(ctx, acct, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[store.MessageID]*store.Message, len(msgs))
	for i := range msgs {
		byID[msgs[i].ID] = &msgs[i]
	}
	for i, id := range ids {
		m, ok := byID[id]
		if !ok {
			resp.NotFound = append(resp.NotFound, raws[i])
			continue
		}
		obj, err := c.s.renderEmail(ctx, view, m, nil, "")
		if err != nil {
			return nil, err
		}
		resp.List = append(resp.List, obj)
	}
	return resp, nil
}

// renderEmail renders one Email from its stored record (m) or, for
// Email/parse, from raw bytes alone.
// base is the content address of raw for Email/parse ("" otherwise).
func (s *Server) renderEmail(ctx context.Context, v *emailView, m *store.Message, raw []byte, base string) (map[string]any, error) {
	out := map[string]any{}
	var env store.Envelope
	var preview string
	var hasAtt bool
	if m != nil {
		env, preview, hasAtt = m.Envelope, m.Preview, m.HasAttachment
		if v.wantsRaw() {
			b, err := blob.ReadAll(ctx, s.blobs, m.BlobID)
			if err != nil && !errors.Is(err, blob.ErrNotFound) {
				return nil, err
			}
			raw = b
		}
		set := func(k string, val any) {
			if v.props[k] {
				out[k] = val
			}
		}
		set("id", emailIDString(m.ID))
		set("blobId", blobIDString(m.BlobID))
		set("threadId", threadIDString(m.ThreadID))
		if v.props["mailboxIds"] {
			mb := map[string]bool{}
			for _, id := range m.Mailboxes {
				mb[mailboxIDString(id)] = true
			}
			out["mailboxIds"] = mb
		}
		if v.props["keywords"] {
			kw := map[string]bool{}
			for _, k := range m.Keywords {
				kw[k] = true
			}
			out["keywords"] = kw
		}
		set("size", m.Size)
		set("receivedAt", m.ReceivedAt.UTC().Format(time.RFC3339))
	} else {
		env, preview, hasAtt = message.Summarize(raw)
	}
	s.renderEnvelope(v, out, env)
	if v.props["hasAttachment"] {
		out["hasAttachment"] = hasAtt
	}
	if v.props["preview"] {
		out["preview"] = preview
	}
	if v.wantsRaw() {
		renderBody(v, out, raw, m, base)
	}
	return out, nil
}

func (s *Server) renderEnvelope(v *emailView, out map[string]any, env store.Envelope) {
	set := func(k string, val any) {
		if v.props[k] {
			out[k] = val
		}
	}
	var msgID any
	if env.MessageID != "" {
		msgID = []string{env.MessageID}
	}
	set("messageId", msgID)
	set("inReplyTo", stringsOrNull(env.InReplyTo))
	set("references", stringsOrNull(env.References))
	set("sender", addressesOrNull(env.Sender))
	set("from", addressesOrNull(env.From))
	set("to", addressesOrNull(env.To))
	set("cc", addressesOrNull(env.Cc))
	set("bcc", addressesOrNull(env.Bcc))
	set("replyTo", addressesOrNull(env.ReplyTo))
	set("subject", nilIfEmpty(env.Subject))
	if v.props["sentAt"] {
		if env.Date.IsZero() {
			out["sentAt"] = nil
		} else {
			out["sentAt"] = env.Date.Format(time.RFC3339)
		}
	}
}

// renderBody renders the properties read from the raw message.
func renderBody(v *emailView, out map[string]any, raw []byte, m *store.Message, base string) {
	root := parseMIME(raw)
	pv := &partView{raw: raw, props: v.bodyProps, headers: v.bodyHeader, blobBase: base}
	if m != nil {
		pv.email = m.ID
	}
	if v.props["headers"] {
		out["headers"] = headersList(root.header)
	}
	for _, hp := range v.headers {
		out["header:"+hpKey(hp)] = headerValue(root.header, hp)
	}
	if v.props["bodyStructure"] {
		full := *pv
		full.props = map[string]bool{"subParts": true}
		for k := range v.bodyProps {
			full.props[k] = true
		}
		out["bodyStructure"] = full.render(root)
	}
	text, html, atts := bodyLists(root)
	renderList := func(k string, parts []*mimePart) {
		if !v.props[k] {
			return
		}
		l := make([]any, 0, len(parts))
		for _, p := range parts {
			l = append(l, pv.render(p))
		}
		out[k] = l
	}
	renderList("textBody", text)
	renderList("htmlBody", html)
	renderList("attachments", atts)
	if v.props["bodyValues"] {
		vals := map[string]bodyValue{}
		add := func(parts []*mimePart) {
			for _, p := range parts {
				if _, done := vals[p.partID]; !done && len(p.mediaType) > 5 && p.mediaType[:5] == "text/" {
					vals[p.partID] = makeBodyValue(p, raw, v.maxValue)
				}
			}
		}
		if v.fetchAll {
			root.walk(func(p *mimePart) {
				if len(p.subParts) == 0 {
					add([]*mimePart{p})
				}
			})
		}
		if v.fetchText {
			add(text)
		}
		if v.fetchHTML {
			add(html)
		}
		out["bodyValues"] = vals
	}
}
