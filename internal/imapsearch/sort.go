package imapsearch

import (
	"cmp"
	"slices"
	"strings"

	"freehold/internal/store"
)

// sortKeyNames maps SORT criteria names (RFC 5256 §3, RFC 5957 §3) to
// keys. It is read-only.
var sortKeyNames = map[string]SortKey{
	"ARRIVAL":     SortArrival,
	"CC":          SortCc,
	"DATE":        SortDate,
	"FROM":        SortFrom,
	"SIZE":        SortSize,
	"SUBJECT":     SortSubject,
	"TO":          SortTo,
	"DISPLAYFROM": SortDisplayFrom,
	"DISPLAYTO":   SortDisplayTo,
}

// sortRec holds one candidate's precomputed sort keys, so that the
// comparison function neither parses nor folds.
type sortRec struct {
	idx  int
	strs []string // one per string criterion, folded
	nums []int64  // one per numeric criterion
}

// sortCandidates implements Sort.
func sortCandidates(cands []Candidate, keys []SortCriterion) {
	recs := make([]sortRec, len(cands))
	for i := range cands {
		recs[i] = makeSortRec(i, &cands[i], keys)
	}
	slices.SortStableFunc(recs, func(a, b sortRec) int {
		si, ni := 0, 0
		for _, k := range keys {
			var c int
			if isStringSortKey(k.Key) {
				c = strings.Compare(a.strs[si], b.strs[si])
				si++
			} else {
				c = cmp.Compare(a.nums[ni], b.nums[ni])
				ni++
			}
			if k.Reverse {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		// RFC 5256 §3: ties are broken by sequence number.
		return cmp.Compare(cands[a.idx].Seq, cands[b.idx].Seq)
	})
	sorted := make([]Candidate, len(cands))
	for i, r := range recs {
		sorted[i] = cands[r.idx]
	}
	copy(cands, sorted)
}

func isStringSortKey(k SortKey) bool {
	switch k {
	case SortArrival, SortDate, SortSize:
		return false
	}
	return true
}

// makeSortRec computes the keys of one candidate.
func makeSortRec(i int, c *Candidate, keys []SortCriterion) sortRec {
	r := sortRec{idx: i}
	env := c.Envelope
	if env == nil {
		env = &store.Envelope{}
	}
	for _, k := range keys {
		switch k.Key {
		case SortArrival:
			r.nums = append(r.nums, c.InternalDate.UnixNano())
		case SortDate:
			// RFC 5256 §3: the sent date, else the internal date; both
			// compare as instants (UTC).
			t := env.Date
			if t.IsZero() {
				t = c.InternalDate
			}
			r.nums = append(r.nums, t.UnixNano())
		case SortSize:
			r.nums = append(r.nums, c.Size)
		case SortSubject:
			r.strs = append(r.strs, baseSubject(env.Subject))
		case SortFrom:
			r.strs = append(r.strs, foldString(firstMailbox(env.From)))
		case SortTo:
			r.strs = append(r.strs, foldString(firstMailbox(env.To)))
		case SortCc:
			r.strs = append(r.strs, foldString(firstMailbox(env.Cc)))
		case SortDisplayFrom:
			r.strs = append(r.strs, foldString(displayName(env.From)))
		case SortDisplayTo:
			r.strs = append(r.strs, foldString(displayName(env.To)))
		default:
			r.strs = append(r.strs, "")
		}
	}
	return r
}

// firstMailbox returns the addr-mailbox (local part) of the first address,
// "" if there is none (RFC 5256 §3 CC, FROM, TO).
func firstMailbox(as []store.EnvelopeAddress) string {
	if len(as) == 0 {
		return ""
	}
	a := as[0].Address
	if at := strings.LastIndexByte(a, '@'); at >= 0 {
		return a[:at]
	}
	return a
}

// displayName returns the display name of the first address, or its
// address when it has none (RFC 5957 §3 DISPLAYFROM, DISPLAYTO).
func displayName(as []store.EnvelopeAddress) string {
	if len(as) == 0 {
		return ""
	}
	if n := strings.TrimSpace(as[0].Name); n != "" {
		return n
	}
	return as[0].Address
}
