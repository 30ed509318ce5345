package imapmsg

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxQuoted is the longest string sent quoted; longer ones are literals,
// which clients read without scanning for escapes.
const maxQuoted = 4096

// appendString appends s as an IMAP string (RFC 9051 §4.3): quoted when
// it is short and safe (no CR, LF or NUL, and no 8-bit octets unless
// utf8OK), otherwise as a literal {n}\r\n followed by the octets. NUL
// octets, which no IMAP string may hold, are dropped.
func appendString(dst []byte, s string, utf8OK bool) []byte {
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	if quotable(s, utf8OK) {
		dst = append(dst, '"')
		for i := 0; i < len(s); i++ {
			if c := s[i]; c == '"' || c == '\\' {
				dst = append(dst, '\\')
			}
			dst = append(dst, s[i])
		}
		return append(dst, '"')
	}
	dst = append(dst, '{')
	dst = strconv.AppendInt(dst, int64(len(s)), 10)
	dst = append(dst, "}\r\n"...)
	return append(dst, s...)
}

// appendNString is appendString, except that an empty s is sent as NIL.
func appendNString(dst []byte, s string, utf8OK bool) []byte {
	if s == "" {
		return append(dst, "NIL"...)
	}
	return appendString(dst, s, utf8OK)
}

// quotable reports whether s may be sent as a quoted string.
func quotable(s string, utf8OK bool) bool {
	if len(s) > maxQuoted {
		return false
	}
	ascii := true
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\r' || c == '\n':
			return false
		case c >= 0x80:
			ascii = false
		}
	}
	return ascii || (utf8OK && utf8.ValidString(s))
}

// appendUpperString appends s upper-cased (ASCII) as a string; used for
// the media types and encodings of BODYSTRUCTURE.
func appendUpperString(dst []byte, s string, o Options) []byte {
	return appendString(dst, strings.ToUpper(s), o.UTF8)
}

// appendParams appends a body-fld-param: NIL or ("NAME" "value" …).
func appendParams(dst []byte, ps []Param, o Options) []byte {
	if len(ps) == 0 {
		return append(dst, "NIL"...)
	}
	dst = append(dst, '(')
	for i, p := range ps {
		if i > 0 {
			dst = append(dst, ' ')
		}
		dst = appendUpperString(dst, p.Name, o)
		dst = append(dst, ' ')
		dst = appendString(dst, p.Value, o.UTF8)
	}
	return append(dst, ')')
}
