package smtpserver

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"freehold/internal/mail"
)

// DSN parameters (RFC 3461 §4). They are validated here and carried to
// the queue: RET and ENVID with the message, NOTIFY and ORCPT with each
// recipient. ENVID is kept decoded (the SMTP client encodes it again);
// ORCPT is kept as on the wire, since it is relayed unchanged (§5.2.1).

// errBadDSN is wrapped by every DSN parameter error; they are answered
// 501 5.5.4.
var errBadDSN = errors.New("malformed DSN parameter")

// Limits of RFC 3461: ENVID at most 100 characters (§4.4), ORCPT at most
// 500 (§4.2).
const (
	maxEnvID = 100
	maxORcpt = 500
)

// parseRet parses RET=FULL|HDRS (§4.3), case-insensitively; it returns
// the upper-case form.
func parseRet(v string) (string, error) {
	u := strings.ToUpper(v)
	if u != "FULL" && u != "HDRS" {
		return "", fmt.Errorf("%w: RET=%q", errBadDSN, v)
	}
	return u, nil
}

// parseEnvID decodes ENVID=xtext (§4.4). The decoded identifier must be
// printable US-ASCII of at most 100 characters.
func parseEnvID(v string) (string, error) {
	id, err := mail.DecodeXtext(v)
	if err != nil {
		return "", fmt.Errorf("%w: ENVID: %v", errBadDSN, err)
	}
	if id == "" || len(id) > maxEnvID {
		return "", fmt.Errorf("%w: ENVID of %d characters", errBadDSN, len(id))
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x20 || id[i] > 0x7e {
			return "", fmt.Errorf("%w: ENVID has octet %#02x", errBadDSN, id[i])
		}
	}
	return id, nil
}

// notifyWords are the NOTIFY keywords other than NEVER, in the order the
// normalised value lists them.
var notifyWords = [...]string{"SUCCESS", "FAILURE", "DELAY"}

// parseNotify parses NOTIFY="NEVER" / 1#("SUCCESS" / "FAILURE" /
// "DELAY") (§4.1). NEVER excludes the others. It returns the upper-case
// value with each keyword once, in a fixed order.
func parseNotify(v string) (string, error) {
	var seen [len(notifyWords)]bool
	never := false
	for _, w := range strings.Split(v, ",") {
		w = strings.ToUpper(w)
		if w == "NEVER" {
			never = true
			continue
		}
		known := false
		for i, n := range notifyWords {
			if w == n {
				seen[i], known = true, true
			}
		}
		if !known {
			return "", fmt.Errorf("%w: NOTIFY=%q", errBadDSN, v)
		}
	}
	var out []string
	for i, n := range notifyWords {
		if seen[i] {
			out = append(out, n)
		}
	}
	switch {
	case never && len(out) > 0:
		return "", fmt.Errorf("%w: NOTIFY=NEVER with other keywords", errBadDSN)
	case never:
		return "NEVER", nil
	}
	return strings.Join(out, ","), nil
}

// parseORcpt validates ORCPT=addr-type ";" xtext (§4.2): addr-type is an
// atom (rfc822, or utf-8 from RFC 6533), the address is xtext. After
// SMTPUTF8 (RFC 6533 §3) a utf-8 address may also be written in UTF-8
// itself. The value is returned as given.
func parseORcpt(v string, smtputf8 bool) (string, error) {
	if len(v) > maxORcpt {
		return "", fmt.Errorf("%w: ORCPT of %d characters", errBadDSN, len(v))
	}
	typ, addr, ok := strings.Cut(v, ";")
	if !ok || !isAtom(typ) || addr == "" {
		return "", fmt.Errorf("%w: ORCPT=%q", errBadDSN, v)
	}
	if smtputf8 && strings.EqualFold(typ, "utf-8") && utf8.ValidString(addr) {
		// utf-8-addr-unitext: xtext characters and UTF-8 beyond ASCII.
		ascii := strings.Map(func(r rune) rune {
			if r >= 0x80 {
				return 'x'
			}
			return r
		}, addr)
		if _, err := mail.DecodeXtext(ascii); err != nil {
			return "", fmt.Errorf("%w: ORCPT: %v", errBadDSN, err)
		}
		return v, nil
	}
	if _, err := mail.DecodeXtext(addr); err != nil {
		return "", fmt.Errorf("%w: ORCPT: %v", errBadDSN, err)
	}
	return v, nil
}

// isAtom checks atext+ (RFC 5322 §3.2.3).
func isAtom(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0) {
			return false
		}
	}
	return true
}

// dsnReply is the answer to a malformed DSN parameter.
func dsnReply(err error) reply {
	return reply{code: 501, status: "5.5.4", text: "Invalid DSN parameter"}.withDetail("DSN", err)
}
