package imapsearch

import (
	"sort"
	"testing"
	"time"

	"freehold/internal/store"
)

// tmsg describes one message for threading tests; its sequence number is
// its position plus one, and its date is base + minutes.
type tmsg struct {
	id, subject string
	refs        []string
	inReplyTo   []string
	minutes     int
}

func threadCands(ms []tmsg) []Candidate {
	base := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	cs := make([]Candidate, len(ms))
	for i, m := range ms {
		cs[i] = Candidate{
			Seq: uint32(i + 1), UID: store.UID(100 + i),
			InternalDate: base,
			Envelope: &store.Envelope{
				MessageID: m.id, Subject: m.subject, References: m.refs, InReplyTo: m.inReplyTo,
				Date: base.Add(time.Duration(m.minutes) * time.Minute),
			},
		}
	}
	return cs
}

func threadString(cs []Candidate, alg ThreadAlgorithm) string {
	roots := Thread(cs, alg)
	return string(AppendThreads(nil, roots, func(i int) uint32 { return cs[i].Seq }))
}

func TestThreadReferences(t *testing.T) {
	tests := []struct {
		name string
		msgs []tmsg
		want string
	}{
		{
			name: "replies, missing parent, subject gathering",
			msgs: []tmsg{
				{id: "a", subject: "Hello", minutes: 1},
				{id: "b", subject: "Re: Hello", refs: []string{"a"}, minutes: 2},
				{id: "c", subject: "Re: Hello", refs: []string{"a", "b"}, minutes: 3},
				{id: "d", subject: "Other", refs: []string{"x"}, minutes: 4},
				{id: "e", subject: "Re: Other", refs: []string{"x"}, minutes: 5},
				// No references, but a reply to "Hello": gathered under 1.
				{id: "f", subject: "Re: Hello", minutes: 6},
				// The only child of a missing message is promoted to the root.
				{id: "g", subject: "Lonely", refs: []string{"zz"}, minutes: 0},
			},
			want: "(7)(1 (2 3)(6))((4)(5))",
		},
		{
			name: "In-Reply-To is used without References",
			msgs: []tmsg{
				{id: "a", subject: "s", minutes: 1},
				{id: "b", subject: "t", inReplyTo: []string{"a", "junk"}, minutes: 2},
			},
			want: "(1 2)",
		},
		{
			name: "existing links are kept when a later message disagrees",
			msgs: []tmsg{
				{id: "c", subject: "x1", refs: []string{"a"}, minutes: 3}, // really a reply to b
				{id: "a", subject: "x2", minutes: 1},
				{id: "b", subject: "x3", refs: []string{"a"}, minutes: 2},
				{id: "d", subject: "x4", refs: []string{"a", "b", "c"}, minutes: 4},
			},
			want: "(2 (3)(1 4))",
		},
		{
			name: "a message's own References replace a parent guessed from truncated ones",
			msgs: []tmsg{
				{id: "x", subject: "y1", refs: []string{"a", "d"}, minutes: 4},
				{id: "a", subject: "y2", minutes: 1},
				{id: "b", subject: "y3", refs: []string{"a"}, minutes: 2},
				{id: "d", subject: "y4", refs: []string{"a", "b"}, minutes: 3},
			},
			want: "(2 3 4 1)",
		},
		{
			name: "reference loop does not hang or lose messages",
			msgs: []tmsg{
				{id: "a", subject: "p", refs: []string{"b"}, minutes: 1},
				{id: "b", subject: "q", refs: []string{"a"}, minutes: 2},
				{id: "c", subject: "r", refs: []string{"c", "a", "c"}, minutes: 3},
			},
			want: "(2 1 3)",
		},
		{
			name: "duplicate and missing Message-IDs",
			msgs: []tmsg{
				{id: "a", subject: "one", minutes: 1},
				{id: "a", subject: "two", minutes: 2},
				{id: "", subject: "three", refs: []string{"a"}, minutes: 3},
				{id: "", subject: "four", minutes: 4},
			},
			want: "(1 3)(2)(4)",
		},
		{
			name: "siblings sorted by date, ties by sequence number",
			msgs: []tmsg{
				{id: "r", subject: "root", minutes: 1},
				{id: "c1", subject: "c", refs: []string{"r"}, minutes: 9},
				{id: "c2", subject: "c", refs: []string{"r"}, minutes: 5},
				{id: "c3", subject: "c", refs: []string{"r"}, minutes: 5},
			},
			want: "(1 (3)(4)(2))",
		},
		{
			// Once two non-replies share a dummy, later messages of the
			// subject join them as siblings (RFC 5256 §3 step 5.D).
			name: "two non-replies with the same subject become siblings under a dummy",
			msgs: []tmsg{
				{id: "a", subject: "Meeting", minutes: 2},
				{id: "b", subject: "meeting", minutes: 1},
				{id: "c", subject: "Re: meeting", minutes: 3},
			},
			want: "((2)(1)(3))",
		},
		{
			name: "empty subjects are not gathered",
			msgs: []tmsg{
				{id: "a", subject: "", minutes: 1},
				{id: "b", subject: "Re:", minutes: 2},
			},
			want: "(1)(2)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := threadCands(tt.msgs)
			got := threadString(cs, ThreadReferences)
			if got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
			checkEveryMessageOnce(t, Thread(cs, ThreadReferences), len(cs))
		})
	}
}

// checkEveryMessageOnce verifies that a thread forest holds each candidate
// exactly once and no childless dummy.
func checkEveryMessageOnce(t *testing.T, roots []*ThreadNode, n int) {
	t.Helper()
	var seen []int
	var walk func(ns []*ThreadNode)
	walk = func(ns []*ThreadNode) {
		for _, x := range ns {
			if x.Index >= 0 {
				seen = append(seen, x.Index)
			} else if len(x.Children) == 0 {
				t.Error("childless dummy")
			}
			walk(x.Children)
		}
	}
	walk(roots)
	sort.Ints(seen)
	if len(seen) != n {
		t.Fatalf("forest holds %d messages, want %d: %v", len(seen), n, seen)
	}
	for i, s := range seen {
		if s != i {
			t.Fatalf("forest holds %v", seen)
		}
	}
}

func TestThreadOrderedSubject(t *testing.T) {
	cs := threadCands([]tmsg{
		{subject: "Hello", minutes: 3},
		{subject: "Re: hello", minutes: 1},
		{subject: "Other", minutes: 2},
		{subject: "[list] HELLO", minutes: 4},
		{subject: "Other", minutes: 2},
	})
	if got, want := threadString(cs, ThreadOrderedSubject), "(2 (1)(4))(3 5)"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if alg, ok := LookupThreadAlgorithm("orderedsubject"); !ok || alg != ThreadOrderedSubject {
		t.Error("LookupThreadAlgorithm(orderedsubject)")
	}
	if alg, ok := LookupThreadAlgorithm("REFERENCES"); !ok || alg != ThreadReferences {
		t.Error("LookupThreadAlgorithm(REFERENCES)")
	}
	if _, ok := LookupThreadAlgorithm("REFS"); ok {
		t.Error("unknown algorithm accepted")
	}
}

// TestAppendThreads formats the tree of the RFC 5256 §4 example by hand
// and expects its wire form.
func TestAppendThreads(t *testing.T) {
	n := func(i int, c ...*ThreadNode) *ThreadNode { return &ThreadNode{Index: i, Children: c} }
	roots := []*ThreadNode{
		n(2),
		n(3, n(6, n(4, n(23)), n(44, n(7, n(96))))),
	}
	got := string(AppendThreads(nil, roots, func(i int) uint32 { return uint32(i) }))
	if want := "(2)(3 6 (4 23)(44 7 96))"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	// A dummy root holding siblings, and a dummy with one child.
	roots = []*ThreadNode{n(-1, n(3), n(5, n(-1, n(9)))), n(-1)}
	got = string(AppendThreads(nil, roots, func(i int) uint32 { return uint32(i) }))
	if want := "((3)(5 9))"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
