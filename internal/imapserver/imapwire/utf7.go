package imapwire

import (
	"encoding/base64"
	"errors"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// IMAP4rev1 spells non-ASCII mailbox names in modified UTF-7 (RFC 3501
// §5.1.3): printable ASCII stands for itself except "&", written "&-";
// other text is UTF-16BE in a base64 variant ("," for "/", no padding)
// between "&" and "-". IMAP4rev2 and UTF8=ACCEPT clients use UTF-8.

var b64 = base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,").WithPadding(base64.NoPadding)

// ErrBadUTF7 is returned for a name that is not valid modified UTF-7.
var ErrBadUTF7 = errors.New("invalid modified UTF-7")

// EncodeUTF7 converts a UTF-8 mailbox name to modified UTF-7.
func EncodeUTF7(s string) string {
	var sb strings.Builder
	var pending []uint16
	flush := func() {
		if len(pending) == 0 {
			return
		}
		buf := make([]byte, 2*len(pending))
		for i, u := range pending {
			buf[2*i] = byte(u >> 8)
			buf[2*i+1] = byte(u)
		}
		sb.WriteByte('&')
		sb.WriteString(b64.EncodeToString(buf))
		sb.WriteByte('-')
		pending = pending[:0]
	}
	for _, r := range s {
		if r >= 0x20 && r <= 0x7e {
			flush()
			if r == '&' {
				sb.WriteString("&-")
			} else {
				sb.WriteRune(r)
			}
			continue
		}
		if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
			pending = append(pending, uint16(r1), uint16(r2))
		} else {
			pending = append(pending, uint16(r))
		}
	}
	flush()
	return sb.String()
}

// DecodeUTF7 converts a modified UTF-7 mailbox name to UTF-8.
func DecodeUTF7(s string) (string, error) {
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e {
			return "", ErrBadUTF7
		}
		if c != '&' {
			sb.WriteByte(c)
			continue
		}
		end := strings.IndexByte(s[i+1:], '-')
		if end < 0 {
			return "", ErrBadUTF7
		}
		enc := s[i+1 : i+1+end]
		i += end + 1
		if enc == "" {
			sb.WriteByte('&')
			continue
		}
		raw, err := b64.DecodeString(enc)
		if err != nil || len(raw)%2 != 0 {
			return "", ErrBadUTF7
		}
		units := make([]uint16, len(raw)/2)
		for j := range units {
			units[j] = uint16(raw[2*j])<<8 | uint16(raw[2*j+1])
		}
		for _, r := range utf16.Decode(units) {
			if r == utf8.RuneError || r >= 0x20 && r <= 0x7e {
				// Printable ASCII must be written directly.
				return "", ErrBadUTF7
			}
			sb.WriteRune(r)
		}
	}
	return sb.String(), nil
}
