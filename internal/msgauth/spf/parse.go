package spf

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// errSyntax is wrapped by every record syntax error; any syntax error
// anywhere in a record makes its evaluation a permerror (RFC 7208 §4.6).
var errSyntax = errors.New("spf: syntax error")

// mechKind is one of the mechanisms of RFC 7208 §5.
type mechKind uint8

const (
	mechAll mechKind = iota + 1
	mechInclude
	mechA
	mechMX
	mechPTR
	mechIP4
	mechIP6
	mechExists
)

// directive is a qualified mechanism.
type directive struct {
	qual   Result // Pass, Fail, SoftFail or Neutral
	kind   mechKind
	domain string       // domain-spec, unexpanded; "" means the current domain
	prefix netip.Prefix // for ip4 and ip6
	cidr4  int          // for a and mx; -1 when absent
	cidr6  int
	text   string // as written, for traces and errors
}

// record is a parsed SPF record (RFC 7208 §4.6.1).
type record struct {
	directives []directive
	redirect   string // domain-spec, "" when absent
	exp        string // domain-spec, "" when absent
}

// isSPFRecord reports whether a TXT string is an SPF version 1 record
// (RFC 7208 §4.5): "v=spf1" followed by a space or the end.
func isSPFRecord(txt string) bool {
	if len(txt) < 6 || !strings.EqualFold(txt[:6], "v=spf1") {
		return false
	}
	return len(txt) == 6 || txt[6] == ' '
}

// parseRecord parses a whole record, reporting any syntax error, so that
// an error after a matching mechanism is still detected (RFC 7208 §4.6).
func parseRecord(txt string) (*record, error) {
	if !isSPFRecord(txt) {
		return nil, fmt.Errorf("%w: not an spf1 record", errSyntax)
	}
	// A modifier's value is never empty once checked, so an empty field
	// means the modifier has not been seen.
	r := &record{}
	for _, term := range strings.Split(txt[6:], " ") {
		if term == "" {
			continue
		}
		if name, value, ok := modifierParts(term); ok {
			if err := checkMacroString(value); err != nil {
				return nil, fmt.Errorf("%w: modifier %q: %v", errSyntax, term, err)
			}
			switch strings.ToLower(name) {
			case "redirect":
				if r.redirect != "" {
					return nil, fmt.Errorf("%w: two redirect modifiers", errSyntax)
				}
				if err := checkDomainSpec(value); err != nil {
					return nil, fmt.Errorf("%w: %q: %v", errSyntax, term, err)
				}
				r.redirect = value
			case "exp":
				if r.exp != "" {
					return nil, fmt.Errorf("%w: two exp modifiers", errSyntax)
				}
				if err := checkDomainSpec(value); err != nil {
					return nil, fmt.Errorf("%w: %q: %v", errSyntax, term, err)
				}
				r.exp = value
			}
			continue
		}
		d, err := parseDirective(term)
		if err != nil {
			return nil, err
		}
		r.directives = append(r.directives, d)
	}
	return r, nil
}

// modifierParts splits name=value when term is a modifier: a name
// (ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )) then "=".
func modifierParts(term string) (name, value string, ok bool) {
	i := strings.IndexByte(term, '=')
	if i <= 0 {
		return "", "", false
	}
	name = term[:i]
	if !isAlpha(name[0]) {
		return "", "", false
	}
	for j := 1; j < len(name); j++ {
		c := name[j]
		if !isAlpha(c) && !isDigit(c) && c != '-' && c != '_' && c != '.' {
			return "", "", false
		}
	}
	return name, term[i+1:], true
}

func parseDirective(term string) (directive, error) {
	d := directive{qual: Pass, cidr4: -1, cidr6: -1, text: term}
	switch term[0] {
	case '+':
		term = term[1:]
	case '-':
		d.qual, term = Fail, term[1:]
	case '~':
		d.qual, term = SoftFail, term[1:]
	case '?':
		d.qual, term = Neutral, term[1:]
	}
	name, arg, hasArg := term, "", false
	if i := strings.IndexAny(term, ":/"); i >= 0 {
		name, arg, hasArg = term[:i], term[i:], true
	}
	bad := func(why string) (directive, error) {
		return directive{}, fmt.Errorf("%w: %q: %s", errSyntax, d.text, why)
	}
	var err error
	switch strings.ToLower(name) {
	case "all":
		if hasArg {
			return bad("all takes no argument")
		}
		d.kind = mechAll
	case "include", "exists":
		d.kind = mechInclude
		if strings.EqualFold(name, "exists") {
			d.kind = mechExists
		}
		if !strings.HasPrefix(arg, ":") {
			return bad("domain required")
		}
		d.domain = arg[1:]
		if err := checkDomainSpec(d.domain); err != nil {
			return bad(err.Error())
		}
	case "a", "mx":
		d.kind = mechA
		if strings.EqualFold(name, "mx") {
			d.kind = mechMX
		}
		arg, d.cidr4, d.cidr6, err = splitDualCIDR(arg)
		if err != nil {
			return bad(err.Error())
		}
		if arg != "" {
			if arg[0] != ':' {
				return bad("unexpected " + arg)
			}
			d.domain = arg[1:]
			if err := checkDomainSpec(d.domain); err != nil {
				return bad(err.Error())
			}
		}
	case "ptr":
		d.kind = mechPTR
		if hasArg {
			if arg[0] != ':' {
				return bad("unexpected " + arg)
			}
			d.domain = arg[1:]
			if err := checkDomainSpec(d.domain); err != nil {
				return bad(err.Error())
			}
		}
	case "ip4", "ip6":
		d.kind = mechIP4
		if strings.EqualFold(name, "ip6") {
			d.kind = mechIP6
		}
		if !strings.HasPrefix(arg, ":") {
			return bad("network required")
		}
		d.prefix, err = parseNetwork(arg[1:], d.kind == mechIP6)
		if err != nil {
			return bad(err.Error())
		}
	default:
		return bad("unknown mechanism")
	}
	return d, nil
}

// splitDualCIDR removes a trailing dual-cidr-length ("/24", "//64",
// "/24//64") and returns the rest; absent lengths are -1.
func splitDualCIDR(s string) (rest string, v4, v6 int, err error) {
	v4, v6 = -1, -1
	if i := strings.LastIndex(s, "//"); i >= 0 && allDigits(s[i+2:]) {
		if v6, err = cidrLength(s[i+2:], 128); err != nil {
			return "", 0, 0, err
		}
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, '/'); i >= 0 && allDigits(s[i+1:]) {
		if v4, err = cidrLength(s[i+1:], 32); err != nil {
			return "", 0, 0, err
		}
		s = s[:i]
	}
	if strings.HasPrefix(s, "/") {
		return "", 0, 0, errors.New("bad cidr length")
	}
	return s, v4, v6, nil
}

// cidrLength parses "0" / %x31-39 0*2DIGIT within 0..max.
func cidrLength(s string, max int) (int, error) {
	if s == "" || len(s) > 3 || (len(s) > 1 && s[0] == '0') {
		return 0, fmt.Errorf("bad cidr length %q", s)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > max {
		return 0, fmt.Errorf("bad cidr length %q", s)
	}
	return n, nil
}

func parseNetwork(s string, v6 bool) (netip.Prefix, error) {
	addr, length := s, -1
	if i := strings.IndexByte(s, '/'); i >= 0 {
		max := 32
		if v6 {
			max = 128
		}
		n, err := cidrLength(s[i+1:], max)
		if err != nil {
			return netip.Prefix{}, err
		}
		addr, length = s[:i], n
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil || ip.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("bad address %q", addr)
	}
	if ip.Is4() == v6 || ip.Is4In6() && !v6 {
		return netip.Prefix{}, fmt.Errorf("wrong address family %q", addr)
	}
	if length < 0 {
		length = ip.BitLen()
	}
	return ip.Prefix(length)
}

// checkMacroString validates a macro-string (RFC 7208 §7.1).
func checkMacroString(s string) error {
	_, err := expand(s, nil, false)
	return err
}

// checkDomainSpec validates domain-spec = macro-string domain-end, where
// domain-end is "." toplabel ["."] or a macro-expand (RFC 7208 §7.1).
func checkDomainSpec(s string) error {
	if s == "" {
		return errors.New("empty domain")
	}
	if err := checkMacroString(s); err != nil {
		return err
	}
	if strings.HasSuffix(s, "}") || strings.HasSuffix(s, "%%") && !strings.HasSuffix(s, "%%%") ||
		strings.HasSuffix(s, "%_") || strings.HasSuffix(s, "%-") {
		return nil
	}
	t := strings.TrimSuffix(s, ".")
	i := strings.LastIndexByte(t, '.')
	if i < 0 {
		return errors.New("domain does not end in a top label")
	}
	if !validTopLabel(t[i+1:]) {
		return fmt.Errorf("bad top label %q", t[i+1:])
	}
	return nil
}

// validTopLabel: ( *alphanum ALPHA *alphanum ) /
// ( 1*alphanum "-" *( alphanum / "-" ) alphanum ).
func validTopLabel(l string) bool {
	if l == "" || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	alpha := false
	for i := 0; i < len(l); i++ {
		c := l[i]
		switch {
		case isAlpha(c):
			alpha = true
		case isDigit(c):
		case c == '-':
			alpha = true // the second form: a hyphen inside makes it valid
		default:
			return false
		}
	}
	return alpha
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}
