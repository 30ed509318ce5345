package mail

import (
	"errors"
	"strings"
	"testing"
)

func TestXtext(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain", "plain"},
		{"a+2Bb", "a+b"},
		{"x+3Dy", "x=y"},
		{"+20lead", " lead"},
		{"lower+2b", "lower+"},
		{"", ""},
	} {
		got, err := DecodeXtext(c.in)
		if err != nil || got != c.want {
			t.Errorf("DecodeXtext(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"a+", "a+2", "a+G0", "a=b", "sp ace", "tab\t", "é", "+2"} {
		if _, err := DecodeXtext(bad); !errors.Is(err, ErrBadXtext) {
			t.Errorf("DecodeXtext(%q) err %v, want ErrBadXtext", bad, err)
		}
	}
	if got := EncodeXtext("a+b=c d\x01~"); got != "a+2Bb+3Dc+20d+01~" {
		t.Errorf("EncodeXtext: %q", got)
	}
}

func TestOriginalRecipient(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"alice+tag@example.org", "rfc822;alice+2Btag@example.org"},
		{"jösé@example.org", `utf-8;j\x{F6}s\x{E9}@example.org`},
		{`ä\+=@x`, `utf-8;\x{E4}\x{5C}\x{2B}\x{3D}@x`},
	} {
		if got := OriginalRecipient(c.in); got != c.want {
			t.Errorf("OriginalRecipient(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// FuzzXtext checks that decoding never panics, and that encoding any
// string gives valid xtext that decodes back to it.
func FuzzXtext(f *testing.F) {
	for _, s := range []string{"", "a+2Bb", "+", "+zz", "x=y", "\x00\xff", "rfc822;a@b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := DecodeXtext(s); err == nil && strings.ContainsAny(s, " =") {
			t.Errorf("accepted %q as %q", s, d)
		}
		enc := EncodeXtext(s)
		back, err := DecodeXtext(enc)
		if err != nil || back != s {
			t.Errorf("round trip of %q: %q, %v", s, back, err)
		}
	})
}
