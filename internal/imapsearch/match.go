package imapsearch

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"freehold/internal/imapmsg"
	"freehold/internal/message"
	"freehold/internal/store"
)

// cost classes order the operands of an AND or OR: what the candidate
// already holds first, then the envelope, then the message bytes.
const (
	costCheap = iota
	costEnvelope
	costRaw
)

// node is a compiled Key.
type node struct {
	kind   KeyKind
	cost   int
	set    NumSet   // resolved, for KeySeqSet and KeyUID
	uids   []uint32 // sorted, for a "$" reference
	byUIDs bool     // match uids rather than set
	str    string   // folded needle, or store keyword
	field  string   // header field name
	lo, hi int64    // date bounds (Unix seconds) or day numbers
	num    int64
	sub    []node
}

// compile implements NewMatcher.
func compile(c Criteria, o MatchOptions) (*Matcher, error) {
	m := &Matcher{loc: o.Location, maxSeq: o.MaxSeq, maxUID: uint32(o.MaxUID)}
	if m.loc == nil {
		m.loc = time.Local
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	m.nowUnix = now.Unix()
	var saved []uint32
	if len(o.SearchRes) > 0 {
		saved = make([]uint32, len(o.SearchRes))
		for i, u := range o.SearchRes {
			saved[i] = uint32(u)
		}
		slices.Sort(saved)
	}
	root, err := m.compileKey(Key{Kind: KeyAnd, Sub: c.Keys}, saved, 0)
	if err != nil {
		return nil, err
	}
	m.prog = []node{root}
	m.needs = Needs{Envelope: root.cost >= costEnvelope && usesEnvelope(root), Raw: root.cost >= costRaw}
	return m, nil
}

// maxNesting bounds NOT/OR/parenthesis nesting so that a hostile program
// cannot exhaust the stack.
const maxNesting = 100

// compileKey compiles one key. saved is the sorted "$" result.
func (m *Matcher) compileKey(k Key, saved []uint32, depth int) (node, error) {
	if depth > maxNesting {
		return node{}, fmt.Errorf("%w: nested too deeply", ErrBadCriteria)
	}
	n := node{kind: k.Kind}
	switch k.Kind {
	case KeyAll, KeyRecent, KeyNew, KeyOld,
		KeyAnswered, KeyDeleted, KeyDraft, KeyFlagged, KeySeen,
		KeyUnanswered, KeyUndeleted, KeyUndraft, KeyUnflagged, KeyUnseen:
		n.str = systemKeyword(k.Kind)
	case KeySeqSet, KeyUID:
		if k.Set.SearchRes {
			n.byUIDs, n.uids = true, saved
		} else if k.Kind == KeySeqSet {
			n.set = k.Set.Resolve(m.maxSeq)
		} else {
			n.set = k.Set.Resolve(m.maxUID)
		}
	case KeyKeyword, KeyUnkeyword:
		n.str = flagToKeyword(k.Value)
	case KeyBefore, KeyOn, KeySince:
		y, mo, d := k.Date.Date()
		start := time.Date(y, mo, d, 0, 0, 0, 0, m.loc)
		n.lo, n.hi = start.Unix(), start.AddDate(0, 0, 1).Unix()
	case KeySentBefore, KeySentOn, KeySentSince:
		n.cost = costEnvelope
		n.lo = dayNumber(k.Date)
	case KeyLarger, KeySmaller, KeyModSeq, KeyOlder, KeyYounger:
		n.num = k.Num
	case KeyBcc, KeyCc, KeyFrom, KeyTo, KeySubject:
		n.cost = costEnvelope
		n.str = foldString(k.Value)
	case KeyHeader, KeyBody, KeyText:
		n.cost = costRaw
		n.str = foldString(k.Value)
		n.field = k.Field
		if k.Kind == KeyHeader && k.Field == "" {
			return node{}, fmt.Errorf("%w: HEADER without a field name", ErrBadCriteria)
		}
	case KeyAnd, KeyNot, KeyOr:
		return m.compileLogic(k, saved, depth)
	default:
		return node{}, fmt.Errorf("%w: unknown key kind %d", ErrBadCriteria, k.Kind)
	}
	return n, nil
}

// compileLogic compiles AND, NOT and OR, ordering operands by cost.
func (m *Matcher) compileLogic(k Key, saved []uint32, depth int) (node, error) {
	switch {
	case k.Kind == KeyNot && len(k.Sub) != 1:
		return node{}, fmt.Errorf("%w: NOT needs one operand", ErrBadCriteria)
	case k.Kind == KeyOr && len(k.Sub) != 2:
		return node{}, fmt.Errorf("%w: OR needs two operands", ErrBadCriteria)
	}
	n := node{kind: k.Kind, sub: make([]node, 0, len(k.Sub))}
	for _, s := range k.Sub {
		c, err := m.compileKey(s, saved, depth+1)
		if err != nil {
			return node{}, err
		}
		n.cost = max(n.cost, c.cost)
		n.sub = append(n.sub, c)
	}
	slices.SortStableFunc(n.sub, func(a, b node) int { return a.cost - b.cost })
	return n, nil
}

// usesEnvelope reports whether a compiled tree has an envelope key.
func usesEnvelope(n node) bool {
	if n.cost == costEnvelope && len(n.sub) == 0 {
		return true
	}
	for _, s := range n.sub {
		if usesEnvelope(s) {
			return true
		}
	}
	return false
}

// systemKeyword returns the store keyword a flag key tests.
func systemKeyword(k KeyKind) string {
	switch k {
	case KeyAnswered, KeyUnanswered:
		return store.KeywordAnswered
	case KeyDeleted, KeyUndeleted:
		return store.KeywordDeleted
	case KeyDraft, KeyUndraft:
		return store.KeywordDraft
	case KeyFlagged, KeyUnflagged:
		return store.KeywordFlagged
	case KeySeen, KeyUnseen:
		return store.KeywordSeen
	}
	return ""
}

// flagToKeyword maps an IMAP flag or keyword to the store's spelling.
func flagToKeyword(f string) string {
	f = lowerASCII(f)
	switch f {
	case `\seen`:
		return store.KeywordSeen
	case `\answered`:
		return store.KeywordAnswered
	case `\flagged`:
		return store.KeywordFlagged
	case `\draft`:
		return store.KeywordDraft
	case `\deleted`:
		return store.KeywordDeleted
	}
	return f
}

// dayNumber numbers calendar days, so that dates compare as integers. The
// time's own location gives the date (SENT* disregard time and zone).
func dayNumber(t time.Time) int64 {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

// eval is the state of one Match: what has been loaded so far.
type eval struct {
	m      *Matcher
	c      *Candidate
	env    *store.Envelope
	raw    []byte
	part   *imapmsg.Part
	loaded bool
}

// match implements Matcher.Match.
func (m *Matcher) match(c *Candidate) (bool, error) {
	e := eval{m: m, c: c, env: c.Envelope}
	return e.node(&m.prog[0])
}

// node evaluates one compiled key.
func (e *eval) node(n *node) (bool, error) {
	c := e.c
	switch n.kind {
	case KeyAll, KeyOld:
		return true, nil
	case KeyRecent, KeyNew:
		return false, nil
	case KeyAnswered, KeyDeleted, KeyDraft, KeyFlagged, KeySeen, KeyKeyword:
		return slices.Contains(c.Keywords, n.str), nil
	case KeyUnanswered, KeyUndeleted, KeyUndraft, KeyUnflagged, KeyUnseen, KeyUnkeyword:
		return !slices.Contains(c.Keywords, n.str), nil
	case KeySeqSet:
		if n.byUIDs {
			_, ok := slices.BinarySearch(n.uids, uint32(c.UID))
			return ok, nil
		}
		return n.set.ContainsResolved(c.Seq), nil
	case KeyUID:
		if n.byUIDs {
			_, ok := slices.BinarySearch(n.uids, uint32(c.UID))
			return ok, nil
		}
		return n.set.ContainsResolved(uint32(c.UID)), nil
	case KeyBefore:
		return c.InternalDate.Unix() < n.lo, nil
	case KeyOn:
		t := c.InternalDate.Unix()
		return t >= n.lo && t < n.hi, nil
	case KeySince:
		return c.InternalDate.Unix() >= n.lo, nil
	case KeyLarger:
		return c.Size > n.num, nil
	case KeySmaller:
		return c.Size < n.num, nil
	case KeyModSeq:
		return int64(c.ModSeq) >= n.num, nil
	case KeyOlder:
		return c.InternalDate.Unix() <= e.m.nowUnix-n.num, nil
	case KeyYounger:
		return c.InternalDate.Unix() > e.m.nowUnix-n.num, nil
	case KeyAnd:
		for i := range n.sub {
			if ok, err := e.node(&n.sub[i]); !ok || err != nil {
				return false, err
			}
		}
		return true, nil
	case KeyOr:
		for i := range n.sub {
			if ok, err := e.node(&n.sub[i]); ok || err != nil {
				return ok, err
			}
		}
		return false, nil
	case KeyNot:
		ok, err := e.node(&n.sub[0])
		return !ok && err == nil, err
	case KeySentBefore, KeySentOn, KeySentSince, KeyBcc, KeyCc, KeyFrom, KeyTo, KeySubject:
		return e.envelopeKey(n)
	}
	return e.rawKey(n)
}

// envelopeKey evaluates a key answered by the envelope.
func (e *eval) envelopeKey(n *node) (bool, error) {
	env, err := e.envelope()
	if err != nil {
		return false, err
	}
	switch n.kind {
	case KeySentBefore, KeySentOn, KeySentSince:
		// RFC 9051 §6.4.4: a message without a usable Date: matches no
		// SENT* key.
		if env.Date.IsZero() {
			return false, nil
		}
		d := dayNumber(env.Date)
		switch n.kind {
		case KeySentBefore:
			return d < n.lo, nil
		case KeySentOn:
			return d == n.lo, nil
		}
		return d >= n.lo, nil
	case KeySubject:
		return containsFold(env.Subject, n.str), nil
	case KeyFrom:
		return addressesContain(env.From, n.str), nil
	case KeyTo:
		return addressesContain(env.To, n.str), nil
	case KeyCc:
		return addressesContain(env.Cc, n.str), nil
	}
	return addressesContain(env.Bcc, n.str), nil
}

// addressesContain reports whether the folded needle occurs in one of the
// addresses, written as the header would: "Name <local@domain>".
func addressesContain(as []store.EnvelopeAddress, needle string) bool {
	for _, a := range as {
		if containsFold(a.Address, needle) || containsFold(a.Name, needle) {
			return true
		}
		if strings.ContainsAny(needle, " <>") && a.Name != "" {
			if containsFold(a.Name+" <"+a.Address+">", needle) {
				return true
			}
		}
	}
	return needle == "" // the empty string is in every header
}

// envelope returns the candidate's envelope, parsing it from the message
// when the server did not provide one.
func (e *eval) envelope() (*store.Envelope, error) {
	if e.env != nil {
		return e.env, nil
	}
	raw, err := e.load()
	if err != nil {
		return nil, err
	}
	env := message.HeaderEnvelope(raw)
	e.env = &env
	return e.env, nil
}

// load calls the candidate's Raw loader once.
func (e *eval) load() ([]byte, error) {
	if e.loaded {
		return e.raw, nil
	}
	if e.c.Raw == nil {
		return nil, ErrNoRaw
	}
	raw, err := e.c.Raw()
	if err != nil {
		return nil, err
	}
	e.raw, e.loaded = raw, true
	return raw, nil
}
