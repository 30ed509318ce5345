package imapsearch

import (
	"cmp"
	"slices"
	"strings"

	"freehold/internal/store"
)

// sortKeyByName maps SORT criteria names (RFC 5256 §3, RFC 5957 §3) to
// keys.
func sortKeyByName(name string) (SortKey, bool) {
	switch name {
	case "ARRIVAL":
		return SortArrival, true
	case "CC":
		return SortCc, true
	case "DATE":
		return SortDate, true
	case "FROM":
		return SortFrom, true
	case "SIZE":
		return SortSize, true
	case "SUBJECT":
		return SortSubject, true
	case "TO":
		return SortTo, true
	case "DISPLAYFROM":
		return SortDisplayFrom, true
	case "DISPLAYTO":
		return SortDisplayTo, true
	}
	return 0, false
}

// sortCandidates implements Sort. It sorts indices rather than records:
// with ties broken by sequence number (then position) the order is total,
// so an unstable sort is deterministic and moves less memory.
func sortCandidates(cands []Candidate, keys []SortCriterion) {
	nStr := 0
	for _, k := range keys {
		if isStringSortKey(k.Key) {
			nStr++
		}
	}
	nNum := len(keys) - nStr
	strs := make([]string, len(cands)*nStr)
	nums := make([]int64, len(cands)*nNum)
	for i := range cands {
		fillSortKeys(&cands[i], keys, strs[i*nStr:(i+1)*nStr], nums[i*nNum:(i+1)*nNum])
	}
	order := make([]int32, len(cands))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		sa, sb := strs[int(a)*nStr:], strs[int(b)*nStr:]
		na, nb := nums[int(a)*nNum:], nums[int(b)*nNum:]
		si, ni := 0, 0
		for _, k := range keys {
			var c int
			if isStringSortKey(k.Key) {
				c = strings.Compare(sa[si], sb[si])
				si++
			} else {
				c = cmp.Compare(na[ni], nb[ni])
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
		if c := cmp.Compare(cands[a].Seq, cands[b].Seq); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	sorted := make([]Candidate, len(cands))
	for i, j := range order {
		sorted[i] = cands[j]
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

// fillSortKeys computes the keys of one candidate into strs and nums, in
// the order of keys.
func fillSortKeys(c *Candidate, keys []SortCriterion, strs []string, nums []int64) {
	env := c.Envelope
	if env == nil {
		env = &store.Envelope{}
	}
	si, ni := 0, 0
	for _, k := range keys {
		if !isStringSortKey(k.Key) {
			switch k.Key {
			case SortArrival:
				nums[ni] = c.InternalDate.UnixNano()
			case SortDate:
				// RFC 5256 §3: the sent date, else the internal date; both
				// compare as instants (UTC).
				t := env.Date
				if t.IsZero() {
					t = c.InternalDate
				}
				nums[ni] = t.UnixNano()
			case SortSize:
				nums[ni] = c.Size
			}
			ni++
			continue
		}
		var v string
		switch k.Key {
		case SortSubject:
			v = baseSubject(env.Subject)
		case SortFrom:
			v = foldString(firstMailbox(env.From))
		case SortTo:
			v = foldString(firstMailbox(env.To))
		case SortCc:
			v = foldString(firstMailbox(env.Cc))
		case SortDisplayFrom:
			v = foldString(displayName(env.From))
		case SortDisplayTo:
			v = foldString(displayName(env.To))
		}
		strs[si] = v
		si++
	}
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
