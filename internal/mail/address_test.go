package mail

import (
	"errors"
	"testing"
)

func TestParseAddress(t *testing.T) {
	good := map[string]Address{
		"alice@example.org":        {"alice", "example.org"},
		"Alice@EXAMPLE.org":        {"Alice", "example.org"},
		"bob+tag@example.org.":     {"bob+tag", "example.org"},
		"δοκιμή@παράδειγμα.δοκιμή": {"δοκιμή", "παράδειγμα.δοκιμή"},
		"x@xn--mnchen-3ya.de":      {"x", "münchen.de"},
	}
	for in, want := range good {
		got, err := ParseAddress(in)
		if err != nil || got != want {
			t.Errorf("ParseAddress(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "@x.org", "a@", "noat", "a b@x.org", "a@[127.0.0.1]", "a@-bad-.org"} {
		if _, err := ParseAddress(in); !errors.Is(err, ErrBadAddress) {
			t.Errorf("ParseAddress(%q) err = %v; want ErrBadAddress", in, err)
		}
	}
}

func TestKeyAndPlus(t *testing.T) {
	a, _ := ParseAddress("Alice+News@Example.org")
	if a.Key() != "alice+news@example.org" {
		t.Errorf("Key = %q", a.Key())
	}
	if a.StripPlus().Key() != "alice@example.org" {
		t.Errorf("StripPlus = %q", a.StripPlus())
	}
}
