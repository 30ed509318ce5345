package imapsearch

import (
	"fmt"
	"testing"
	"time"

	"freehold/internal/store"
)

// synthetic returns n candidates with envelopes and no message bytes, as
// the server builds them from the store for a large mailbox.
func synthetic(n int) []Candidate {
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	senders := []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace"}
	cs := make([]Candidate, n)
	for i := range cs {
		var kws []string
		if i%3 != 0 {
			kws = append(kws, store.KeywordSeen)
		}
		if i%17 == 0 {
			kws = append(kws, store.KeywordFlagged)
		}
		s := senders[i%len(senders)]
		env := &store.Envelope{
			Date:      base.Add(time.Duration(i) * 10 * time.Minute),
			Subject:   fmt.Sprintf("Re: Report number %d for the quarter", i%500),
			From:      []store.EnvelopeAddress{{Name: "User " + s, Address: s + "@example.com"}},
			To:        []store.EnvelopeAddress{{Address: "me@example.org"}},
			MessageID: fmt.Sprintf("m%d@example.com", i),
		}
		if i%4 != 0 {
			env.References = []string{fmt.Sprintf("m%d@example.com", i/4*4)}
		}
		cs[i] = Candidate{
			Seq: uint32(i + 1), UID: store.UID(i + 1), Keywords: kws,
			Size: int64(2000 + i%50000), InternalDate: base.Add(time.Duration(i) * 10 * time.Minute),
			ModSeq: store.ModSeq(i + 1), Envelope: env,
		}
	}
	return cs
}

// BenchmarkSearch100k runs one SEARCH over 100,000 messages with flag,
// date, size and envelope keys: UNSEEN SINCE 1-Jun-2020 FROM "carol"
// NOT SUBJECT "number 7" OR FLAGGED LARGER 10000.
func BenchmarkSearch100k(b *testing.B) {
	cs := synthetic(100_000)
	crit := Criteria{Keys: []Key{
		{Kind: KeyFrom, Value: "carol"},
		{Kind: KeyUnseen},
		{Kind: KeySince, Date: date(2020, 6, 1)},
		{Kind: KeyNot, Sub: []Key{{Kind: KeySubject, Value: "number 7"}}},
		{Kind: KeyOr, Sub: []Key{{Kind: KeyFlagged}, {Kind: KeyLarger, Num: 10000}}},
	}}
	m, err := NewMatcher(crit, MatchOptions{MaxSeq: 100_000, MaxUID: 100_000, Location: time.UTC})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	hits := 0
	for b.Loop() {
		hits = 0
		for i := range cs {
			ok, err := m.Match(&cs[i])
			if err != nil {
				b.Fatal(err)
			}
			if ok {
				hits++
			}
		}
	}
	if hits == 0 {
		b.Fatal("no message matched; the benchmark would measure nothing")
	}
}

// BenchmarkSearch100kSubject is the worst case for envelope keys: every
// message's subject is scanned.
func BenchmarkSearch100kSubject(b *testing.B) {
	cs := synthetic(100_000)
	m, err := NewMatcher(Criteria{Keys: []Key{{Kind: KeySubject, Value: "number 42 "}}}, MatchOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		for i := range cs {
			if _, err := m.Match(&cs[i]); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkSort100k(b *testing.B) {
	cs := synthetic(100_000)
	keys := []SortCriterion{{Key: SortSubject}, {Key: SortDate, Reverse: true}}
	work := make([]Candidate, len(cs))
	b.ReportAllocs()
	for b.Loop() {
		copy(work, cs)
		Sort(work, keys)
	}
}

func BenchmarkThreadReferences100k(b *testing.B) {
	cs := synthetic(100_000)
	b.ReportAllocs()
	for b.Loop() {
		Thread(cs, ThreadReferences)
	}
}
