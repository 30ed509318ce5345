package store

import (
	"slices"
	"strings"
)

// NormalizeKeywords returns keywords in their stored form: lower-case,
// sorted, without duplicates or empty strings. It returns nil when nothing
// is left, so that "no keywords" has one representation.
func NormalizeKeywords(kw []string) []string {
	if len(kw) == 0 {
		return nil
	}
	out := make([]string, 0, len(kw))
	for _, k := range kw {
		k = strings.ToLower(strings.TrimSpace(k))
		if k != "" {
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		return nil
	}
	slices.Sort(out)
	return slices.Compact(out)
}
