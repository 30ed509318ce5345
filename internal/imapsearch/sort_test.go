package imapsearch

import (
	"testing"
	"time"

	"freehold/internal/store"
)

func TestBaseSubject(t *testing.T) {
	tests := []struct {
		in, want string
		reply    bool
	}{
		{"Hello", "hello", false},
		{"Re: hello", "hello", true},
		{"RE: Re: re:hello", "hello", true},
		{"Fwd: hello (fwd)", "hello", true},
		{"hello (FWD)  (fwd) ", "hello", true},
		{"Fw : hello", "hello", true},
		{"Re[2]: hello", "hello", true},
		{"[list] Re: hello", "hello", true},
		{"Re: [list] hello", "hello", true},
		{"[list] hello", "hello", false},
		{"[list]", "[list]", false},
		{"[a][b] [c]", "[c]", false},
		{"[fwd: hello]", "hello", true},
		{"Re: [fwd: Re: [list] hello] (fwd)", "hello", true},
		{"[Fwd: ]", "", true},
		{"Reply: hello", "reply: hello", false},
		{"Re hello", "re hello", false},
		{"  multiple   spaces\t\there\r\n  folded ", "multiple spaces here folded", false},
		{"Ré: Évènement", "ré: évènement", false},
		{"", "", false},
		{"Re:", "", true},
		{"[unterminated blob", "[unterminated blob", false},
	}
	for _, tt := range tests {
		got, reply := extractBaseSubject(tt.in)
		// Accented letters come out decomposed (NFKD); compare folded.
		if got != foldString(tt.want) || reply != tt.reply {
			t.Errorf("base subject of %q = %q, %v; want %q, %v", tt.in, got, reply, tt.want, tt.reply)
		}
	}
	if BaseSubject("Re: Hello") != BaseSubject("hello") {
		t.Error("BaseSubject of a reply differs from its original")
	}
}

func FuzzBaseSubject(f *testing.F) {
	for _, s := range []string{"Re: [fwd: Re: [list] hello] (fwd)", "[", "[fwd:]", "re[]:", "\xff\xfe", "Fwd: (fwd)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := BaseSubject(s)
		// Extraction is idempotent on its own output, apart from folding.
		if again := BaseSubject(b); again != b && BaseSubject(again) != again {
			t.Fatalf("BaseSubject not stable: %q -> %q -> %q", s, b, again)
		}
	})
}

func sortCand(seq uint32, size int64, arrival, sent time.Time, subject, from, fromName, to, cc string) Candidate {
	env := &store.Envelope{Date: sent, Subject: subject}
	if from != "" {
		env.From = []store.EnvelopeAddress{{Name: fromName, Address: from}}
	}
	if to != "" {
		env.To = []store.EnvelopeAddress{{Address: to}}
	}
	if cc != "" {
		env.Cc = []store.EnvelopeAddress{{Address: cc}}
	}
	return Candidate{Seq: seq, UID: store.UID(seq * 10), Size: size, InternalDate: arrival, Envelope: env}
}

func TestSort(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2025, 1, d, 12, 0, 0, 0, time.UTC) }
	base := []Candidate{
		sortCand(1, 300, day(5), day(2), "Re: beta", "zed@x.org", "Anna", "bob@y", ""),
		sortCand(2, 100, day(3), time.Time{}, "alpha", "Amy@x.org", "", "carl@y", "c1@z"),
		sortCand(3, 200, day(4), day(1).In(time.FixedZone("", -11*3600)), "[list] Alpha", "bea@x.org", "zoe", "Bob@y", "c2@z"),
		sortCand(4, 200, day(1), day(3), "BETA", "amy@x.org", "", "", "c0@z"),
	}
	seqs := func(cs []Candidate) []uint32 {
		var out []uint32
		for _, c := range cs {
			out = append(out, c.Seq)
		}
		return out
	}
	tests := []struct {
		name string
		keys []SortCriterion
		want []uint32
	}{
		{"ARRIVAL", []SortCriterion{{Key: SortArrival}}, []uint32{4, 2, 3, 1}},
		{"REVERSE ARRIVAL", []SortCriterion{{Key: SortArrival, Reverse: true}}, []uint32{1, 3, 2, 4}},
		// Message 2 has no Date: its internal date (day 3) stands in; ties
		// with message 4 break by sequence number.
		{"DATE", []SortCriterion{{Key: SortDate}}, []uint32{3, 1, 2, 4}},
		{"SIZE", []SortCriterion{{Key: SortSize}}, []uint32{2, 3, 4, 1}},
		{"REVERSE SIZE (ties keep sequence order)", []SortCriterion{{Key: SortSize, Reverse: true}}, []uint32{1, 3, 4, 2}},
		{"SUBJECT", []SortCriterion{{Key: SortSubject}}, []uint32{2, 3, 1, 4}},
		{"SUBJECT REVERSE DATE", []SortCriterion{{Key: SortSubject}, {Key: SortDate, Reverse: true}}, []uint32{2, 3, 4, 1}},
		{"FROM (local part, case-insensitive)", []SortCriterion{{Key: SortFrom}}, []uint32{2, 4, 3, 1}},
		{"TO (missing sorts first)", []SortCriterion{{Key: SortTo}}, []uint32{4, 1, 3, 2}},
		{"CC", []SortCriterion{{Key: SortCc}}, []uint32{1, 4, 2, 3}},
		{"DISPLAYFROM (name, else address)", []SortCriterion{{Key: SortDisplayFrom}}, []uint32{2, 4, 1, 3}},
		{"DISPLAYTO", []SortCriterion{{Key: SortDisplayTo}}, []uint32{4, 1, 3, 2}},
	}
	for _, tt := range tests {
		cs := append([]Candidate(nil), base...)
		Sort(cs, tt.keys)
		got := seqs(cs)
		if len(got) != len(tt.want) {
			t.Fatalf("%s: %v", tt.name, got)
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
				break
			}
		}
	}
	for name, want := range map[string]SortKey{"arrival": SortArrival, "DisplayFrom": SortDisplayFrom, "SUBJECT": SortSubject} {
		if k, ok := LookupSortKey(name); !ok || k != want {
			t.Errorf("LookupSortKey(%q) = %v, %v", name, k, ok)
		}
	}
	if _, ok := LookupSortKey("REVERSE"); ok {
		t.Error("REVERSE is a modifier, not a key")
	}
}
