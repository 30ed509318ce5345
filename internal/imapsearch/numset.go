package imapsearch

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// ErrBadNumSet is wrapped by every ParseNumSet error.
var ErrBadNumSet = errors.New("bad sequence set")

// Star is the value of a NumRange bound written "*": the largest number in
// use in the mailbox (RFC 9051 §9, seq-number). Zero is never a valid
// sequence number or UID, so it can stand for "*".
const Star uint32 = 0

// NumRange is one element of a sequence set: Start:Stop, or a single
// number when Start == Stop. Either bound may be Star. Start may be larger
// than Stop ("4:2" is the same as "2:4").
type NumRange struct {
	Start, Stop uint32
}

// NumSet is a sequence set (RFC 9051 §9 sequence-set) of message sequence
// numbers or UIDs; which one is up to the command or search key that
// carries it. The server resolves "*" against its mailbox with Resolve or
// Contains.
type NumSet struct {
	Ranges []NumRange
	// SearchRes is true for "$", the saved search result of RFC 5182; a
	// set with SearchRes has no Ranges. It always denotes UIDs.
	SearchRes bool
}

// ParseNumSet parses the wire form of a sequence set: "1:3,5,7:*", "*" or
// "$". It accepts numbers from 1 to 4294967295.
func ParseNumSet(s string) (NumSet, error) {
	if s == "$" {
		return NumSet{SearchRes: true}, nil
	}
	if s == "" {
		return NumSet{}, fmt.Errorf("%w: empty", ErrBadNumSet)
	}
	var set NumSet
	for len(s) > 0 {
		var r NumRange
		var err error
		if r.Start, s, err = parseSeqNum(s); err != nil {
			return NumSet{}, err
		}
		r.Stop = r.Start
		if len(s) > 0 && s[0] == ':' {
			if r.Stop, s, err = parseSeqNum(s[1:]); err != nil {
				return NumSet{}, err
			}
		}
		set.Ranges = append(set.Ranges, r)
		if len(s) > 0 {
			if s[0] != ',' || len(s) == 1 {
				return NumSet{}, fmt.Errorf("%w: unexpected %q", ErrBadNumSet, s)
			}
			s = s[1:]
		}
	}
	return set, nil
}

// parseSeqNum parses one seq-number (nz-number or "*") at the start of s.
func parseSeqNum(s string) (uint32, string, error) {
	if len(s) > 0 && s[0] == '*' {
		return Star, s[1:], nil
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 || s[0] == '0' {
		return 0, s, fmt.Errorf("%w: expected a number at %q", ErrBadNumSet, s)
	}
	n, err := strconv.ParseUint(s[:i], 10, 32)
	if err != nil {
		return 0, s, fmt.Errorf("%w: %q out of range", ErrBadNumSet, s[:i])
	}
	return uint32(n), s[i:], nil
}

// String returns the wire form of the set.
func (s NumSet) String() string {
	return string(s.AppendTo(nil))
}

// AppendTo appends the wire form of the set to dst.
func (s NumSet) AppendTo(dst []byte) []byte {
	if s.SearchRes {
		return append(dst, '$')
	}
	for i, r := range s.Ranges {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendSeqNum(dst, r.Start)
		if r.Stop != r.Start {
			dst = append(dst, ':')
			dst = appendSeqNum(dst, r.Stop)
		}
	}
	return dst
}

func appendSeqNum(dst []byte, n uint32) []byte {
	if n == Star {
		return append(dst, '*')
	}
	return strconv.AppendUint(dst, uint64(n), 10)
}

// Dynamic reports whether the set mentions "*" (or is "$"), so that its
// meaning depends on the mailbox.
func (s NumSet) Dynamic() bool {
	if s.SearchRes {
		return true
	}
	for _, r := range s.Ranges {
		if r.Start == Star || r.Stop == Star {
			return true
		}
	}
	return false
}

// IsEmpty reports whether the set has no ranges and is not "$".
func (s NumSet) IsEmpty() bool { return !s.SearchRes && len(s.Ranges) == 0 }

// Resolve returns the set with "*" replaced by max (the highest sequence
// number or UID in use; 0 for an empty mailbox), each range ordered
// Start <= Stop, sorted and merged. Ranges wholly above max are kept: the
// caller clips them if it needs to (UID sets may name UIDs that do not
// exist). It must not be called on a "$" set (it returns it unchanged).
func (s NumSet) Resolve(max uint32) NumSet {
	if s.SearchRes {
		return s
	}
	rs := make([]NumRange, 0, len(s.Ranges))
	for _, r := range s.Ranges {
		if r.Start == Star {
			r.Start = max
		}
		if r.Stop == Star {
			r.Stop = max
		}
		if r.Start > r.Stop {
			r.Start, r.Stop = r.Stop, r.Start
		}
		if r.Stop == 0 { // "*" in an empty mailbox names nothing
			continue
		}
		if r.Start == 0 {
			r.Start = 1
		}
		rs = append(rs, r)
	}
	slices.SortFunc(rs, func(a, b NumRange) int {
		switch {
		case a.Start < b.Start:
			return -1
		case a.Start > b.Start:
			return 1
		}
		return 0
	})
	out := rs[:0]
	for _, r := range rs {
		if n := len(out); n > 0 && uint64(r.Start) <= uint64(out[n-1].Stop)+1 {
			out[n-1].Stop = max32(out[n-1].Stop, r.Stop)
			continue
		}
		out = append(out, r)
	}
	return NumSet{Ranges: out}
}

func max32(a, b uint32) uint32 {
	if a > b {
		return a
	}
	return b
}

// Contains reports whether n is in the set, with "*" standing for max. For
// many lookups, Resolve once and use ContainsResolved.
func (s NumSet) Contains(n, max uint32) bool {
	for _, r := range s.Ranges {
		lo, hi := r.Start, r.Stop
		if lo == Star {
			lo = max
		}
		if hi == Star {
			hi = max
		}
		if lo > hi {
			lo, hi = hi, lo
		}
		if n >= lo && n <= hi && n != 0 {
			return true
		}
	}
	return false
}

// ContainsResolved reports whether n is in a set returned by Resolve, by
// binary search.
func (s NumSet) ContainsResolved(n uint32) bool {
	rs := s.Ranges
	i, _ := slices.BinarySearchFunc(rs, n, func(r NumRange, n uint32) int {
		switch {
		case r.Stop < n:
			return -1
		case r.Start > n:
			return 1
		}
		return 0
	})
	return i < len(rs) && rs[i].Start <= n && n <= rs[i].Stop
}

// NumSetOf returns the most compact set holding exactly nums, which need
// not be sorted or unique (ESEARCH ALL, RFC 4731 §3.1; COPYUID).
func NumSetOf(nums []uint32) NumSet {
	sorted := slices.Clone(nums)
	slices.Sort(sorted)
	var s NumSet
	for _, n := range sorted {
		if n == 0 {
			continue
		}
		if k := len(s.Ranges); k > 0 && (s.Ranges[k-1].Stop == n || s.Ranges[k-1].Stop+1 == n) {
			s.Ranges[k-1].Stop = n
			continue
		}
		s.Ranges = append(s.Ranges, NumRange{n, n})
	}
	return s
}
