package imapserver

import (
	"strings"
	"time"

	"freehold/internal/imapsearch"
)

// searchReturn is the RETURN options of ESEARCH (RFC 4731) and SEARCHRES
// (RFC 5182).
type searchReturn struct {
	given                      bool // RETURN was present
	min, max, all, count, save bool
}

// parseSearchReturn reads "RETURN (opts) SP" when it is next. An atom
// read that turns out to be a search key (RECENT) is returned as pending.
func (c *conn) parseSearchReturn(r *searchReturn) (pending string, ok bool) {
	d := c.dec
	if !d.Peek('R') && !d.Peek('r') {
		return "", true
	}
	var a string
	if !d.ExpectAtom(&a) {
		return "", false
	}
	if !strings.EqualFold(a, "RETURN") {
		return a, true
	}
	r.given = true
	if !d.ExpectSP() || !d.ExpectList(func() bool {
		var o string
		if !d.ExpectAtom(&o) {
			return false
		}
		switch strings.ToUpper(o) {
		case "MIN":
			r.min = true
		case "MAX":
			r.max = true
		case "ALL":
			r.all = true
		case "COUNT":
			r.count = true
		case "SAVE":
			r.save = true
		default:
			return d.SetErr(bad("", "Unknown RETURN option"))
		}
		return true
	}) {
		return "", false
	}
	if !r.min && !r.max && !r.count && !r.save {
		r.all = true // RETURN () means ALL (RFC 4731 §3.1)
	}
	return "", d.ExpectSP()
}

// parseCharset reads "CHARSET name SP" if present. Only UTF-8 and its
// subset US-ASCII are accepted (RFC 9051 §6.4.4). An atom read that turns
// out to be a search key (CC) is returned as pending, for the key parser.
func (c *conn) parseCharset() (pending string, err error) {
	d := c.dec
	if !d.Peek('C') && !d.Peek('c') {
		return "", nil
	}
	var a string
	if !d.Atom(&a) {
		return "", d.Err()
	}
	if !strings.EqualFold(a, "CHARSET") {
		return a, nil
	}
	var cs string
	if !d.ExpectSP() || !d.ExpectAString(&cs) || !d.ExpectSP() {
		return "", d.Err()
	}
	switch strings.ToUpper(cs) {
	case "UTF-8", "US-ASCII", "UTF8":
		return "", nil
	}
	return "", no("BADCHARSET (UTF-8 US-ASCII)", "Unsupported charset")
}

// parseSearchKeys reads one or more space-separated search keys up to
// the end of the line.
func (c *conn) parseSearchKeys(pending string) (imapsearch.Criteria, bool) {
	var crit imapsearch.Criteria
	for {
		var k imapsearch.Key
		if !c.parseSearchKey(&k, pending) {
			return crit, false
		}
		pending = ""
		crit.Keys = append(crit.Keys, k)
		if len(crit.Keys) > 1000 {
			return crit, c.dec.SetErr(bad("", "Too many search keys"))
		}
		if !c.dec.SP() {
			return crit, true
		}
	}
}

// parseSearchKey reads one search-key (RFC 9051 §9), using imapsearch's
// table of key names and argument shapes. pending is a key name already
// read, or "".
func (c *conn) parseSearchKey(k *imapsearch.Key, pending string) bool {
	d := c.dec
	if !d.Enter() {
		return false
	}
	defer d.Leave()
	if pending == "" && d.Peek('(') {
		k.Kind = imapsearch.KeyAnd
		return d.ExpectList(func() bool {
			var sub imapsearch.Key
			if !c.parseSearchKey(&sub, "") {
				return false
			}
			k.Sub = append(k.Sub, sub)
			return true
		}) && len(k.Sub) > 0 || d.SetErr(bad("", "Empty parenthesised search key"))
	}
	name := pending
	switch {
	case name != "":
	case d.SeqSetNext():
		var set imapsearch.NumSet
		if !d.ExpectSeqSet(&set) {
			return false
		}
		*k = imapsearch.Key{Kind: imapsearch.KeySeqSet, Set: set}
		return true
	case !d.ExpectAtom(&name):
		return false
	}
	kind, shape, ok := imapsearch.LookupKey(name)
	if !ok {
		return d.SetErr(bad("", "Unknown search key"))
	}
	k.Kind = kind
	if shape == imapsearch.ArgNone {
		return true
	}
	if !d.ExpectSP() {
		return false
	}
	return c.parseSearchArg(k, shape)
}

// parseSearchArg reads the argument of a key of the given shape.
func (c *conn) parseSearchArg(k *imapsearch.Key, shape imapsearch.ArgShape) bool {
	d := c.dec
	switch shape {
	case imapsearch.ArgString:
		return d.ExpectAString(&k.Value)
	case imapsearch.ArgHeader:
		return d.ExpectAString(&k.Field) && d.ExpectSP() && d.ExpectAString(&k.Value)
	case imapsearch.ArgDate:
		return c.parseSearchDate(&k.Date)
	case imapsearch.ArgNumber:
		return d.ExpectNumber64(&k.Num)
	case imapsearch.ArgKeyword:
		return d.ExpectFlag(&k.Value)
	case imapsearch.ArgSearchKey:
		k.Sub = make([]imapsearch.Key, 1)
		return c.parseSearchKey(&k.Sub[0], "")
	case imapsearch.ArgTwoKeys:
		k.Sub = make([]imapsearch.Key, 2)
		return c.parseSearchKey(&k.Sub[0], "") && d.ExpectSP() && c.parseSearchKey(&k.Sub[1], "")
	case imapsearch.ArgModSeq:
		c.enabled.condstore = true
		if d.Peek('"') {
			// The entry name (e.g. "/flags/\\draft") and type ("priv",
			// "shared", "all") are read and ignored: Freehold keeps one
			// ModSeq per message, so they do not change the result.
			var entry, typ string
			if !d.ExpectString(&entry) || !d.ExpectSP() || !d.ExpectAtom(&typ) || !d.ExpectSP() {
				return false
			}
		}
		return d.ExpectNumber64(&k.Num)
	case imapsearch.ArgSet:
		var set imapsearch.NumSet
		if !d.ExpectSeqSet(&set) {
			return false
		}
		k.Set = set
		return true
	}
	return d.SetErr(bad("", "Unsupported search key"))
}

// parseSearchDate reads date (RFC 9051 §9): d-Mon-yyyy, optionally quoted.
func (c *conn) parseSearchDate(t *time.Time) bool {
	d := c.dec
	var s string
	if d.Peek('"') {
		if !d.ExpectString(&s) {
			return false
		}
	} else if !d.ExpectAtom(&s) {
		return false
	}
	v, err := time.Parse("2-Jan-2006", s)
	if err != nil {
		return d.SetErr(bad("", "Invalid date"))
	}
	*t = v
	return true
}
