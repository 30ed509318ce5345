// Package mail holds the leaf types every part of Freehold shares: addresses
// and domains, and the xtext encoding SMTP carries them in (RFC 3461). It
// depends on the standard library and x/net/idna only.
package mail

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/net/idna"
)

// ErrBadAddress is wrapped by every address parsing error.
var ErrBadAddress = errors.New("bad address")

// Address is an email address split into its local part and domain. The
// domain is stored in lower-case Unicode (U-label) form; the local part is
// kept as received, since RFC 5321 §2.4 makes it case-sensitive on the wire,
// but Freehold compares local parts case-insensitively (see Key).
type Address struct {
	Local  string
	Domain string
}

// maxAddressLen is the RFC 5321 §4.5.3.1.3 path limit minus the brackets.
const maxAddressLen = 254

// ParseAddress parses "local@domain" (no angle brackets, no display name).
// It accepts UTF-8 local parts (RFC 6531) and IDNA domains, which it
// normalises to lower-case Unicode.
func ParseAddress(s string) (Address, error) {
	if len(s) == 0 || len(s) > maxAddressLen {
		return Address{}, fmt.Errorf("%w: length %d", ErrBadAddress, len(s))
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return Address{}, fmt.Errorf("%w: %q has no local part or domain", ErrBadAddress, s)
	}
	local, dom := s[:at], s[at+1:]
	if len(local) > 64 {
		return Address{}, fmt.Errorf("%w: local part longer than 64 octets", ErrBadAddress)
	}
	for _, r := range local {
		if r < 0x21 || r == 0x7f {
			return Address{}, fmt.Errorf("%w: control or space in local part", ErrBadAddress)
		}
	}
	d, err := ParseDomain(dom)
	if err != nil {
		return Address{}, err
	}
	return Address{Local: local, Domain: d}, nil
}

// String returns local@domain.
func (a Address) String() string {
	if a.Local == "" && a.Domain == "" {
		return ""
	}
	return a.Local + "@" + a.Domain
}

// Key is the canonical, case-folded form used for lookups.
func (a Address) Key() string {
	return strings.ToLower(a.Local) + "@" + a.Domain
}

// IsZero reports whether a is the null address (the <> reverse path).
func (a Address) IsZero() bool { return a.Local == "" && a.Domain == "" }

// StripPlus removes a "+tag" sub-address from the local part
// (alice+lists@example.org → alice@example.org). It returns the address
// unchanged when there is no tag.
func (a Address) StripPlus() Address {
	if i := strings.IndexByte(a.Local, '+'); i > 0 {
		a.Local = a.Local[:i]
	}
	return a
}

// ParseDomain validates a domain name and returns it in lower-case Unicode
// form. It accepts A-labels (xn--) and U-labels.
func ParseDomain(s string) (string, error) {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return "", fmt.Errorf("%w: bad domain length", ErrBadAddress)
	}
	if strings.HasPrefix(s, "[") {
		return "", fmt.Errorf("%w: address literals are not accepted", ErrBadAddress)
	}
	u, err := idna.Lookup.ToUnicode(strings.ToLower(s))
	if err != nil {
		return "", fmt.Errorf("%w: domain %q: %v", ErrBadAddress, s, err)
	}
	return u, nil
}

// ASCIIDomain returns the A-label (punycode) form of a domain, for DNS.
func ASCIIDomain(d string) (string, error) {
	return idna.Lookup.ToASCII(d)
}
