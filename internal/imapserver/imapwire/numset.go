package imapwire

import (
	"sort"
	"strconv"
	"strings"
)

// Star stands for "*" in a sequence range: the largest number in use.
const Star = 0

// Range is one seq-number or seq-range; Start or Stop is Star for "*".
// Ranges are kept as written (Start may exceed Stop); Resolve orders them.
type Range struct{ Start, Stop uint32 }

// SeqSet is a sequence-set (RFC 9051 §9): message sequence numbers or UIDs
// depending on the command, or "$", the result saved by SEARCH SAVE
// (RFC 5182).
type SeqSet struct {
	Ranges []Range
	Saved  bool // "$"
}

// ExpectSeqSet reads a sequence-set.
func (d *Decoder) ExpectSeqSet(s *SeqSet) bool {
	if d.Special('$') {
		*s = SeqSet{Saved: true}
		return true
	}
	var set SeqSet
	for {
		var r Range
		if !d.seqNumber(&r.Start) {
			return false
		}
		r.Stop = r.Start
		if d.Special(':') && !d.seqNumber(&r.Stop) {
			return false
		}
		if len(set.Ranges) >= 100000 {
			return d.syntax("sequence set too long")
		}
		set.Ranges = append(set.Ranges, r)
		if !d.Special(',') {
			break
		}
	}
	*s = set
	return true
}

// SeqSetNext reports whether a sequence set (digits, "*" or "$") is next.
func (d *Decoder) SeqSetNext() bool {
	b, ok := d.peek()
	return ok && (b >= '0' && b <= '9' || b == '*' || b == '$')
}

func (d *Decoder) seqNumber(n *uint32) bool {
	if d.Special('*') {
		*n = Star
		return true
	}
	return d.ExpectNZNumber(n)
}

// String formats the set in wire form.
func (s SeqSet) String() string {
	if s.Saved {
		return "$"
	}
	var sb strings.Builder
	for i, r := range s.Ranges {
		if i > 0 {
			sb.WriteByte(',')
		}
		writeSeq(&sb, r.Start)
		if r.Stop != r.Start {
			sb.WriteByte(':')
			writeSeq(&sb, r.Stop)
		}
	}
	return sb.String()
}

func writeSeq(sb *strings.Builder, n uint32) {
	if n == Star {
		sb.WriteByte('*')
		return
	}
	sb.WriteString(strconv.FormatUint(uint64(n), 10))
}

// Normalize replaces "*" with max and orders each range, then sorts and
// merges the ranges. With max 0 (an empty mailbox) "*" stays 0 and ranges
// made only of it vanish.
func (s SeqSet) Normalize(max uint32) []Range {
	out := make([]Range, 0, len(s.Ranges))
	for _, r := range s.Ranges {
		a, b := r.Start, r.Stop
		if a == Star {
			a = max
		}
		if b == Star {
			b = max
		}
		if a > b {
			a, b = b, a
		}
		if a == 0 {
			if b == 0 {
				continue
			}
			a = 1
		}
		out = append(out, Range{a, b})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	merged := out[:0]
	for _, r := range out {
		if n := len(merged); n > 0 && uint64(r.Start) <= uint64(merged[n-1].Stop)+1 {
			if r.Stop > merged[n-1].Stop {
				merged[n-1].Stop = r.Stop
			}
			continue
		}
		merged = append(merged, r)
	}
	return merged
}

// Contains reports whether n is in the normalised ranges rs.
func Contains(rs []Range, n uint32) bool {
	i := sort.Search(len(rs), func(i int) bool { return rs[i].Stop >= n })
	return i < len(rs) && rs[i].Start <= n
}

// FormatUIDs writes ascending numbers as a compact sequence set
// ("1:3,7"); an empty list gives "".
func FormatUIDs(ns []uint32) string {
	var sb strings.Builder
	for i := 0; i < len(ns); {
		j := i
		for j+1 < len(ns) && ns[j+1] == ns[j]+1 {
			j++
		}
		if sb.Len() > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(strconv.FormatUint(uint64(ns[i]), 10))
		if j > i {
			sb.WriteByte(':')
			sb.WriteString(strconv.FormatUint(uint64(ns[j]), 10))
		}
		i = j + 1
	}
	return sb.String()
}
