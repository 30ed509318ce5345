package imapsearch

import (
	"cmp"
	"slices"
	"strconv"
)

// container is a node of the REFERENCES algorithm (RFC 5256 §3): a
// message (idx >= 0) or a dummy standing for a referenced message that is
// not in the set (idx == -1).
type container struct {
	idx      int
	parent   *container
	children []*container
}

// threadInfo is what threading needs of one candidate.
type threadInfo struct {
	date    int64 // sent date (Date:, else internal date), Unix nanoseconds
	seq     uint32
	subject string // base subject, folded
	reply   bool   // the subject had Re:/Fwd: material
}

func threadInfos(cands []Candidate) []threadInfo {
	infos := make([]threadInfo, len(cands))
	for i := range cands {
		c := &cands[i]
		in := threadInfo{date: c.InternalDate.UnixNano(), seq: c.Seq}
		if env := c.Envelope; env != nil {
			if !env.Date.IsZero() {
				in.date = env.Date.UnixNano()
			}
			in.subject, in.reply = extractBaseSubject(env.Subject)
		}
		infos[i] = in
	}
	return infos
}

// threadOrderedSubject implements THREAD=ORDEREDSUBJECT (RFC 5256 §3):
// messages grouped by base subject; in each group the earliest message is
// the parent of all the others; groups ordered by their first message.
func threadOrderedSubject(cands []Candidate) []*ThreadNode {
	infos := threadInfos(cands)
	order := make([]int, len(cands))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		if c := cmp.Compare(infos[a].subject, infos[b].subject); c != 0 {
			return c
		}
		return compareDateSeq(infos[a], infos[b])
	})
	var roots []*ThreadNode
	for i := 0; i < len(order); {
		root := &ThreadNode{Index: order[i]}
		j := i + 1
		for ; j < len(order) && infos[order[j]].subject == infos[order[i]].subject; j++ {
			root.Children = append(root.Children, &ThreadNode{Index: order[j]})
		}
		roots = append(roots, root)
		i = j
	}
	slices.SortStableFunc(roots, func(a, b *ThreadNode) int {
		return compareDateSeq(infos[a.Index], infos[b.Index])
	})
	return roots
}

// compareDateSeq orders by sent date, then sequence number.
func compareDateSeq(a, b threadInfo) int {
	if c := cmp.Compare(a.date, b.date); c != 0 {
		return c
	}
	return cmp.Compare(a.seq, b.seq)
}

// threadReferences implements THREAD=REFERENCES (RFC 5256 §3).
func threadReferences(cands []Candidate) []*ThreadNode {
	infos := threadInfos(cands)
	roots := linkReferences(cands)
	roots = pruneDummies(roots)
	roots = groupBySubject(roots, infos)
	out := make([]*ThreadNode, len(roots))
	for i, r := range roots {
		out[i] = toThreadNode(r)
	}
	sortThreads(out, infos)
	return out
}

// linkReferences does steps 1 to 3: build containers from Message-ID,
// References and In-Reply-To, and return the containers without parents
// in the order they were made.
func linkReferences(cands []Candidate) []*container {
	ids := make(map[string]*container, len(cands))
	var all []*container
	get := func(id string) *container {
		c := ids[id]
		if c == nil {
			c = &container{idx: -1}
			ids[id] = c
			all = append(all, c)
		}
		return c
	}
	for i := range cands {
		env := cands[i].Envelope
		// (1A) A message without a Message-ID, or with one already used by
		// another message, is given a container of its own.
		var msg *container
		if env != nil && env.MessageID != "" {
			if c := get(env.MessageID); c.idx == -1 {
				msg = c
			}
		}
		if msg == nil {
			msg = &container{idx: -1}
			all = append(all, msg)
		}
		msg.idx = i
		if env == nil {
			continue
		}
		refs := env.References
		if len(refs) == 0 && len(env.InReplyTo) > 0 {
			refs = env.InReplyTo[:1]
		}
		// (1B) Link each reference to the next, keeping existing links
		// and refusing loops.
		var prev *container
		for _, id := range refs {
			c := get(id)
			if prev != nil && c.parent == nil && !wouldLoop(prev, c) {
				link(prev, c)
			}
			prev = c
		}
		// (1C) The last reference is the message's parent, replacing any
		// parent it got from another message's truncated References.
		if prev != nil && prev != msg && !wouldLoop(prev, msg) {
			if msg.parent != nil {
				unlink(msg)
			}
			link(prev, msg)
		} else if prev == nil && msg.parent != nil {
			unlink(msg)
		}
	}
	var roots []*container
	for _, c := range all {
		if c.parent == nil {
			roots = append(roots, c)
		}
	}
	return roots
}

// wouldLoop reports whether making child a child of parent would make a
// cycle: child is parent or one of its ancestors.
func wouldLoop(parent, child *container) bool {
	for p := parent; p != nil; p = p.parent {
		if p == child {
			return true
		}
	}
	return false
}

func link(parent, child *container) {
	child.parent = parent
	parent.children = append(parent.children, child)
}

func unlink(c *container) {
	p := c.parent
	p.children = slices.DeleteFunc(p.children, func(x *container) bool { return x == c })
	c.parent = nil
}

// pruneDummies does step 4: dummies without children go; dummies with
// children are replaced by them, except at the root where a dummy with
// several children stays to hold them together.
func pruneDummies(roots []*container) []*container {
	var out []*container
	for _, r := range roots {
		r.children = pruneChildren(r.children, r)
		switch {
		case r.idx >= 0 || len(r.children) > 1:
			out = append(out, r)
		case len(r.children) == 1:
			c := r.children[0]
			c.parent = nil
			out = append(out, c)
		}
	}
	return out
}

// pruneChildren prunes below one container and returns its new children.
func pruneChildren(children []*container, parent *container) []*container {
	var out []*container
	for _, c := range children {
		c.children = pruneChildren(c.children, c)
		if c.idx >= 0 {
			out = append(out, c)
			continue
		}
		for _, gc := range c.children {
			gc.parent = parent
			out = append(out, gc)
		}
	}
	return out
}

// groupBySubject does step 5: root threads with the same base subject are
// gathered under one root.
func groupBySubject(roots []*container, infos []threadInfo) []*container {
	subjectOf := func(c *container) (threadInfo, bool) {
		if c.idx < 0 {
			if len(c.children) == 0 || c.children[0].idx < 0 {
				return threadInfo{}, false
			}
			return infos[c.children[0].idx], true
		}
		return infos[c.idx], true
	}
	// (5B, 5C) The table keeps, per subject, the dummy if there is one,
	// else the message whose subject is not a reply.
	table := make(map[string]*container)
	for _, r := range roots {
		in, ok := subjectOf(r)
		if !ok || in.subject == "" {
			continue
		}
		old := table[in.subject]
		if old == nil || (r.idx < 0 && old.idx >= 0) ||
			(old.idx >= 0 && r.idx >= 0 && infos[old.idx].reply && !in.reply) {
			table[in.subject] = r
		}
	}
	// (5D) Merge every other root into the table's container. A root that
	// was wrapped in a new dummy by an earlier merge has a parent now and
	// is skipped; the dummy stands for it.
	for _, r := range roots {
		if r.parent != nil {
			continue
		}
		in, ok := subjectOf(r)
		t := table[in.subject]
		if !ok || in.subject == "" || t == r || t == nil {
			continue
		}
		table[in.subject] = mergeRoots(t, r, infos)
	}
	// The roots are now the topmost containers, each once; step 6 sorts
	// them.
	var out []*container
	seen := make(map[*container]bool)
	for _, r := range roots {
		for r.parent != nil {
			r = r.parent
		}
		if !seen[r] && (r.idx >= 0 || len(r.children) > 0) {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}

// mergeRoots merges root r into t (both with the same base subject) and
// returns the container that now stands for the subject.
func mergeRoots(t, r *container, infos []threadInfo) *container {
	switch {
	case t.idx < 0 && r.idx < 0:
		for _, c := range r.children {
			link(t, c)
		}
		r.children = nil
		return t
	case t.idx < 0:
		link(t, r)
		return t
	case r.idx < 0:
		// Cannot happen: the table prefers dummies. Keep r's messages as
		// siblings under t's subject anyway.
		link(r, t)
		return r
	case !infos[t.idx].reply && infos[r.idx].reply:
		link(t, r)
		return t
	}
	// Both replies or neither (a reply in t and not in r cannot happen
	// either: the table prefers non-replies): siblings under a new dummy.
	d := &container{idx: -1}
	link(d, t)
	link(d, r)
	return d
}

// toThreadNode converts a container tree.
func toThreadNode(c *container) *ThreadNode {
	n := &ThreadNode{Index: c.idx}
	for _, k := range c.children {
		n.Children = append(n.Children, toThreadNode(k))
	}
	return n
}

// sortThreads does step 6: siblings by sent date then sequence number, a
// dummy by its first child once its children are sorted.
func sortThreads(nodes []*ThreadNode, infos []threadInfo) {
	for _, n := range nodes {
		sortThreads(n.Children, infos)
	}
	key := func(n *ThreadNode) threadInfo {
		for n.Index < 0 && len(n.Children) > 0 {
			n = n.Children[0]
		}
		if n.Index < 0 {
			return threadInfo{}
		}
		return infos[n.Index]
	}
	slices.SortStableFunc(nodes, func(a, b *ThreadNode) int {
		return compareDateSeq(key(a), key(b))
	})
}

// appendThreads implements AppendThreads (RFC 5256 §4).
func appendThreads(dst []byte, roots []*ThreadNode, num func(int) uint32) []byte {
	for _, r := range roots {
		if r.Index < 0 && len(r.Children) == 0 {
			continue
		}
		dst = append(dst, '(')
		dst = appendMembers(dst, r, num)
		dst = append(dst, ')')
	}
	return dst
}

// appendMembers appends a thread from node n on: its number, then its
// only child's members after a space, or its children as nested lists. A
// dummy contributes no number.
func appendMembers(dst []byte, n *ThreadNode, num func(int) uint32) []byte {
	if n.Index >= 0 {
		dst = strconv.AppendUint(dst, uint64(num(n.Index)), 10)
		if len(n.Children) > 0 {
			dst = append(dst, ' ')
		}
	}
	switch len(n.Children) {
	case 0:
		return dst
	case 1:
		return appendMembers(dst, n.Children[0], num)
	}
	return appendThreads(dst, n.Children, num)
}
