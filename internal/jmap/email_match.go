package jmap

import (
	"context"
	"errors"
	"strings"

	"freehold/internal/blob"
	"freehold/internal/store"
)

// The store evaluates every Email/query condition except text, body and
// header, which need the message itself. Queries using them read the
// candidates' messages: correct, but linear in the number of candidates
// (full-text indexing is a later step).

// evalMessageConditions keeps the refs that match root.
func (c *call) evalMessageConditions(ctx context.Context, root *qnode, refs []store.EmailRef) ([]store.EmailRef, error) {
	ev := &evaluator{ctx: ctx, c: c, sets: map[*qnode]map[store.MessageID]bool{}}
	// Store-only subtrees below operators are evaluated as sets.
	if err := ev.prepare(ctx, root, true); err != nil {
		return nil, err
	}
	out := refs[:0]
	for start := 0; start < len(refs); start += 200 {
		batch := refs[start:min(start+200, len(refs))]
		if err := ev.load(ctx, batch); err != nil {
			return nil, err
		}
		for _, r := range batch {
			if ev.match(root, r.ID, true) {
				out = append(out, r)
			}
		}
	}
	return out, nil
}

type evaluator struct {
	ctx  context.Context
	c    *call
	sets map[*qnode]map[store.MessageID]bool
	msgs map[store.MessageID]*loadedMsg
}

type loadedMsg struct {
	m        *store.Message
	raw      []byte
	root     *mimePart
	text     string // lower-cased text of the text parts
	textDone bool
}

// prepare computes the sets of the store-only subtrees that are not
// top-level conjuncts (those are already applied to the candidates).
func (ev *evaluator) prepare(ctx context.Context, n *qnode, top bool) error {
	if n.storeOnly() {
		if top {
			return nil
		}
		set := map[store.MessageID]bool{}
		err := ev.c.s.st.EmailQuery(ctx, ev.c.acct().ID, store.EmailQuery{Filter: n.toStore()}, func(r store.EmailRef) bool {
			set[r.ID] = true
			return true
		})
		ev.sets[n] = set
		return err
	}
	for _, k := range n.kids {
		if err := ev.prepare(ctx, k, top && n.op == "AND"); err != nil {
			return err
		}
	}
	return nil
}

func (ev *evaluator) load(ctx context.Context, refs []store.EmailRef) error {
	ids := make([]store.MessageID, len(refs))
	for i, r := range refs {
		ids[i] = r.ID
	}
	msgs, err := ev.c.s.st.Messages(ctx, ev.c.acct().ID, ids)
	if err != nil {
		return err
	}
	ev.msgs = make(map[store.MessageID]*loadedMsg, len(msgs))
	for i := range msgs {
		ev.msgs[msgs[i].ID] = &loadedMsg{m: &msgs[i]}
	}
	return nil
}

func (ev *evaluator) match(n *qnode, id store.MessageID, top bool) bool {
	if n.storeOnly() {
		if top {
			return true
		}
		return ev.sets[n][id]
	}
	if n.gc != nil {
		return ev.matchMessage(n.gc, id)
	}
	switch n.op {
	case "AND":
		for _, k := range n.kids {
			if !ev.match(k, id, top) {
				return false
			}
		}
		return true
	case "OR":
		for _, k := range n.kids {
			if ev.match(k, id, false) {
				return true
			}
		}
		return false
	default: // NOT: none of
		for _, k := range n.kids {
			if ev.match(k, id, false) {
				return false
			}
		}
		return true
	}
}

func containsFold(hay, needle string) bool {
	return strings.Contains(strings.ToLower(hay), strings.ToLower(needle))
}

func (ev *evaluator) matchMessage(gc *goCond, id store.MessageID) bool {
	lm := ev.msgs[id]
	if lm == nil {
		return false
	}
	if gc.text != "" {
		env := lm.m.Envelope
		hit := containsFold(env.Subject, gc.text)
		for _, l := range [][]store.EnvelopeAddress{env.From, env.To, env.Cc, env.Bcc} {
			for _, a := range l {
				hit = hit || containsFold(a.Name, gc.text) || containsFold(a.Address, gc.text)
			}
		}
		if !hit && !strings.Contains(ev.bodyText(lm), strings.ToLower(gc.text)) {
			return false
		}
	}
	if gc.body != "" && !strings.Contains(ev.bodyText(lm), strings.ToLower(gc.body)) {
		return false
	}
	if gc.header != nil {
		ev.parse(lm)
		found := false
		for _, f := range lm.root.header {
			if strings.EqualFold(f.Name, gc.header[0]) && (len(gc.header) == 1 || containsFold(asText(f.Raw), gc.header[1])) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// parse reads and parses the message once.
func (ev *evaluator) parse(lm *loadedMsg) {
	if lm.root != nil {
		return
	}
	raw, err := blob.ReadAll(ev.ctx, ev.c.s.blobs, lm.m.BlobID)
	if err != nil && !errors.Is(err, blob.ErrNotFound) {
		ev.c.s.log.Warn("email query: reading message", "err", err)
	}
	lm.raw = raw
	lm.root = parseMIME(raw)
}

// bodyText returns the lower-cased text of the message's text parts, HTML
// reduced to its text.
func (ev *evaluator) bodyText(lm *loadedMsg) string {
	if lm.textDone {
		return lm.text
	}
	lm.textDone = true
	ev.parse(lm)
	var b strings.Builder
	text, html, _ := bodyLists(lm.root)
	seen := map[*mimePart]bool{}
	for _, p := range append(text, html...) {
		if seen[p] || !strings.HasPrefix(p.mediaType, "text/") {
			continue
		}
		seen[p] = true
		s, _ := p.text(lm.raw)
		if p.mediaType == "text/html" {
			s = htmlToText(s)
		}
		b.WriteString(s)
		b.WriteByte('\n')
	}
	lm.text = strings.ToLower(b.String())
	return lm.text
}
