package imapsearch

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// foldString maps s to the form "i;unicode-casemap" (RFC 5051) compares:
// compatibility-decomposed (NFKD) and case-folded. ASCII strings take a
// fast path and do not allocate when already lower case.
func foldString(s string) string {
	if isASCII(s) {
		return lowerASCII(s)
	}
	s = norm.NFKD.String(strings.ToValidUTF8(s, "\uFFFD"))
	return strings.Map(foldRune, s)
}

// foldRune folds one rune: the lower case of its upper case, which unifies
// the variants simple case mapping knows (ſ, K, Σ/ς, …).
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		return r
	}
	return unicode.ToLower(unicode.ToUpper(r))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// lowerASCII lower-cases an ASCII string, allocating only if it must.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// containsFold reports whether hay contains needle, which must already be
// folded by foldString. An ASCII hay is compared in place without
// allocating; any other is folded first.
func containsFold(hay, needle string) bool {
	if needle == "" {
		return true
	}
	if !isASCII(hay) {
		return strings.Contains(foldString(hay), needle)
	}
	if len(needle) > len(hay) || !isASCII(needle) {
		return false
	}
	first := needle[0]
	for i := 0; i+len(needle) <= len(hay); i++ {
		c := hay[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != first {
			continue
		}
		if equalLowerASCII(hay[i+1:i+len(needle)], needle[1:]) {
			return true
		}
	}
	return false
}

// equalLowerASCII reports whether ASCII a, lower-cased, equals b.
func equalLowerASCII(a, b string) bool {
	for j := 0; j < len(b); j++ {
		c := a[j]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != b[j] {
			return false
		}
	}
	return true
}
