package jmap

import (
	"strings"
	"time"

	"freehold/internal/message"
	"freehold/internal/store"
)

// headerProp is a parsed "header:{name}[:as{Form}][:all]" property
// (RFC 8621 §4.1.3).
type headerProp struct {
	name string // as requested
	form string // Raw, Text, Addresses, GroupedAddresses, MessageIds, Date, URLs
	all  bool
}

func parseHeaderProp(p string) (headerProp, bool) {
	if !strings.HasPrefix(p, "header:") {
		return headerProp{}, false
	}
	parts := strings.Split(p[len("header:"):], ":")
	hp := headerProp{name: parts[0], form: "Raw"}
	if hp.name == "" || !validHeaderName(hp.name) {
		return headerProp{}, false
	}
	rest := parts[1:]
	if len(rest) > 0 && rest[len(rest)-1] == "all" {
		hp.all = true
		rest = rest[:len(rest)-1]
	}
	if len(rest) > 1 {
		return headerProp{}, false
	}
	if len(rest) == 1 {
		switch rest[0] {
		case "asRaw", "asText", "asAddresses", "asGroupedAddresses", "asMessageIds", "asDate", "asURLs":
			hp.form = strings.TrimPrefix(rest[0], "as")
		default:
			return headerProp{}, false
		}
	}
	return hp, true
}

// validHeaderName checks RFC 5322 §3.6.8 field-name characters.
func validHeaderName(n string) bool {
	for i := 0; i < len(n); i++ {
		if n[i] < 33 || n[i] > 126 || n[i] == ':' {
			return false
		}
	}
	return n != ""
}

// headerValue renders a header property from a part's fields: the last
// field of that name, or with :all every one (null / [] when absent).
func headerValue(fields []rawField, hp headerProp) any {
	var vals []any
	for _, f := range fields {
		if strings.EqualFold(f.Name, hp.name) {
			vals = append(vals, headerForm(f.Raw, hp.form))
		}
	}
	if hp.all {
		if vals == nil {
			return []any{}
		}
		return vals
	}
	if len(vals) == 0 {
		return nil
	}
	return vals[len(vals)-1]
}

// headerForm parses one raw value in a form (RFC 8621 §4.1.2).
func headerForm(raw, form string) any {
	switch form {
	case "Raw":
		return raw
	case "Text":
		return asText(raw)
	case "Addresses":
		return emailAddresses(message.ParseAddressList(unfold(raw)))
	case "GroupedAddresses":
		return []any{map[string]any{"name": nil, "addresses": emailAddresses(message.ParseAddressList(unfold(raw)))}}
	case "MessageIds":
		ids := angleList(unfold(raw))
		if ids == nil {
			return nil
		}
		return ids
	case "Date":
		t := message.ParseDate(unfold(raw))
		if t.IsZero() {
			return nil
		}
		return t.Format(time.RFC3339)
	case "URLs":
		u := angleList(unfold(raw))
		if u == nil {
			return nil
		}
		return u
	}
	return nil
}

// asText is the Text form: unfolded, leading space removed, encoded words
// decoded.
func asText(raw string) string {
	return strings.TrimSpace(decodeText(unfold(raw)))
}

// angleList returns the <...> items of a value, without the brackets.
func angleList(s string) []string {
	var out []string
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			return out
		}
		if v := strings.TrimSpace(s[i+1 : i+j]); v != "" {
			out = append(out, v)
		}
		s = s[i+j+1:]
	}
}

// emailAddresses renders addresses as EmailAddress objects (RFC 8621
// §4.1.2.3).
func emailAddresses(l []store.EnvelopeAddress) []any {
	out := make([]any, 0, len(l))
	for _, a := range l {
		var name any
		if a.Name != "" {
			name = a.Name
		}
		out = append(out, map[string]any{"name": name, "email": a.Address})
	}
	return out
}

// addressesOrNull is the convenience property form: null when absent.
func addressesOrNull(l []store.EnvelopeAddress) any {
	if len(l) == 0 {
		return nil
	}
	return emailAddresses(l)
}

func stringsOrNull(l []string) any {
	if len(l) == 0 {
		return nil
	}
	return l
}

// headersList renders the "headers" property: every field, raw.
func headersList(fields []rawField) []any {
	out := make([]any, 0, len(fields))
	for _, f := range fields {
		out = append(out, map[string]any{"name": f.Name, "value": f.Raw})
	}
	return out
}
