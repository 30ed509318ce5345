package mail

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrBadXtext is wrapped by every xtext decoding error.
var ErrBadXtext = errors.New("malformed xtext")

// DecodeXtext decodes an RFC 3461 §4 xtext: printable US-ASCII from "!"
// to "~" except "+" and "=", with any octet written as "+" and two
// hexadecimal digits. The RFC asks for upper-case digits; lower-case ones
// are accepted too, since the meaning is unambiguous and refusing a whole
// message over them helps no one.
func DecodeXtext(s string) (string, error) {
	if strings.IndexByte(s, '+') < 0 {
		for i := 0; i < len(s); i++ {
			if !xchar(s[i]) {
				return "", fmt.Errorf("%w: octet %#02x", ErrBadXtext, s[i])
			}
		}
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			if i+2 >= len(s) {
				return "", fmt.Errorf("%w: truncated hexchar", ErrBadXtext)
			}
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return "", fmt.Errorf("%w: bad hexchar %q", ErrBadXtext, s[i:i+3])
			}
			b.WriteByte(hi<<4 | lo)
			i += 2
		case xchar(c):
			b.WriteByte(c)
		default:
			return "", fmt.Errorf("%w: octet %#02x", ErrBadXtext, c)
		}
	}
	return b.String(), nil
}

// EncodeXtext encodes s as an RFC 3461 xtext.
func EncodeXtext(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if xchar(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('+')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// OriginalRecipient returns the ORCPT value (RFC 3461 §4.2) recording
// addr as a recipient's original address: "rfc822;" and the address as
// xtext, or for an address that is not ASCII "utf-8;" and the address as
// RFC 6533 §3 utf-8-addr-xtext, where every character outside QCHAR is
// written \x{HEX}.
func OriginalRecipient(addr string) string {
	ascii := true
	for i := 0; i < len(addr); i++ {
		if addr[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return "rfc822;" + EncodeXtext(addr)
	}
	var b strings.Builder
	b.WriteString("utf-8;")
	for _, r := range addr {
		if r < 0x80 && xchar(byte(r)) && r != '\\' {
			b.WriteRune(r)
			continue
		}
		if r == utf8.RuneError {
			r = 0xFFFD
		}
		fmt.Fprintf(&b, `\x{%X}`, r)
	}
	return b.String()
}

// xchar reports whether c stands for itself in xtext.
func xchar(c byte) bool { return c >= '!' && c <= '~' && c != '+' && c != '=' }

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
