package imapsearch

import (
	"errors"
	"slices"
	"testing"
)

func TestParseNumSet(t *testing.T) {
	tests := []struct {
		in   string
		want NumSet
		str  string
	}{
		{"1", NumSet{Ranges: []NumRange{{1, 1}}}, "1"},
		{"1:3,5,7:*", NumSet{Ranges: []NumRange{{1, 3}, {5, 5}, {7, Star}}}, "1:3,5,7:*"},
		{"*", NumSet{Ranges: []NumRange{{Star, Star}}}, "*"},
		{"*:4", NumSet{Ranges: []NumRange{{Star, 4}}}, "*:4"},
		{"4294967295", NumSet{Ranges: []NumRange{{4294967295, 4294967295}}}, "4294967295"},
		{"$", NumSet{SearchRes: true}, "$"},
	}
	for _, tt := range tests {
		got, err := ParseNumSet(tt.in)
		if err != nil {
			t.Errorf("ParseNumSet(%q): %v", tt.in, err)
			continue
		}
		if got.SearchRes != tt.want.SearchRes || !slices.Equal(got.Ranges, tt.want.Ranges) {
			t.Errorf("ParseNumSet(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
		if s := got.String(); s != tt.str {
			t.Errorf("String() = %q, want %q", s, tt.str)
		}
	}
	for _, bad := range []string{"", "0", "1,", ",1", "1:", ":1", "1::2", "a", "01", "4294967296", "1:3,,5", "$,1", "1 2", "-1"} {
		if _, err := ParseNumSet(bad); !errors.Is(err, ErrBadNumSet) {
			t.Errorf("ParseNumSet(%q) err = %v, want ErrBadNumSet", bad, err)
		}
	}
}

func TestNumSetResolve(t *testing.T) {
	s, _ := ParseNumSet("7:*,1:3,2,10,5:4")
	r := s.Resolve(8)
	if want := []NumRange{{1, 5}, {7, 8}, {10, 10}}; !slices.Equal(r.Ranges, want) {
		t.Errorf("Resolve(8) = %v, want %v", r.Ranges, want)
	}
	// "n:*" past the end names the last message (RFC 9051 §6.4.8 example).
	s, _ = ParseNumSet("20:*")
	if r := s.Resolve(5); !slices.Equal(r.Ranges, []NumRange{{5, 20}}) || !r.ContainsResolved(5) || r.ContainsResolved(4) {
		t.Errorf("20:* with max 5 = %v", r.Ranges)
	}
	// In an empty mailbox "*" names nothing.
	s, _ = ParseNumSet("*")
	if r := s.Resolve(0); !r.IsEmpty() {
		t.Errorf("* in an empty mailbox = %v", r.Ranges)
	}
	if !s.Dynamic() || (NumSet{Ranges: []NumRange{{1, 2}}}).Dynamic() {
		t.Error("Dynamic wrong")
	}
	for n := uint32(0); n < 12; n++ {
		s, _ := ParseNumSet("7:*,1:3,2,10,5:4")
		want := n == 1 || n == 2 || n == 3 || n == 4 || n == 5 || n == 7 || n == 8 || n == 10
		if got := s.Contains(n, 8); got != want {
			t.Errorf("Contains(%d, 8) = %v", n, got)
		}
		if got := s.Resolve(8).ContainsResolved(n); got != want {
			t.Errorf("ContainsResolved(%d) = %v", n, got)
		}
	}
}

func TestNumSetOf(t *testing.T) {
	if got := NumSetOf([]uint32{9, 1, 2, 3, 3, 5, 8, 0}).String(); got != "1:3,5,8:9" {
		t.Errorf("NumSetOf = %q", got)
	}
	if got := NumSetOf(nil); !got.IsEmpty() {
		t.Errorf("NumSetOf(nil) = %v", got)
	}
}

func FuzzParseNumSet(f *testing.F) {
	for _, s := range []string{"1", "1:3,5,7:*", "*", "$", "4294967295:1", "1,2,3", "0", "1:"} {
		f.Add(s, uint32(10))
	}
	f.Fuzz(func(t *testing.T, s string, max uint32) {
		set, err := ParseNumSet(s)
		if err != nil {
			return
		}
		// The wire form parses back to the same set.
		again, err := ParseNumSet(set.String())
		if err != nil || again.SearchRes != set.SearchRes || !slices.Equal(again.Ranges, set.Ranges) {
			t.Fatalf("%q -> %q -> %+v, %v", s, set.String(), again, err)
		}
		if set.SearchRes {
			return
		}
		r := set.Resolve(max % 1000)
		for i := 1; i < len(r.Ranges); i++ {
			if r.Ranges[i].Start <= r.Ranges[i-1].Stop {
				t.Fatalf("resolved ranges overlap or are unsorted: %v", r.Ranges)
			}
		}
		for n := uint32(0); n < 1100; n += 7 {
			if set.Contains(n, max%1000) != r.ContainsResolved(n) {
				t.Fatalf("Contains and ContainsResolved disagree on %d for %q", n, s)
			}
		}
	})
}
