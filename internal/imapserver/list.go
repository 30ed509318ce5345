package imapserver

import (
	"context"
	"sort"
	"strings"

	"freehold/internal/imapserver/imapwire"
	"freehold/internal/store"
)

// listOptions are LIST-EXTENDED's selection and return options (RFC 5258,
// RFC 6154, RFC 5819).
type listOptions struct {
	selSubscribed bool
	selRecursive  bool
	selSpecialUse bool
	retSubscribed bool
	retStatus     []string // LIST-STATUS items, upper case
	lsub          bool
}

// Command: LIST, RFC 9051 §6.3.9 with LIST-EXTENDED (RFC 5258),
// SPECIAL-USE (RFC 6154), LIST-STATUS (RFC 5819) and CHILDREN (RFC 3348);
// and LSUB, RFC 3501 §6.3.9.
func cmdList(ctx context.Context, c *conn, k *cmd) error {
	d := c.dec
	opts := listOptions{lsub: k.name == "LSUB"}
	if !d.ExpectSP() {
		return d.Err()
	}
	if !opts.lsub && d.Peek('(') {
		ok := d.ExpectList(func() bool {
			var o string
			if !d.ExpectAtom(&o) {
				return false
			}
			switch strings.ToUpper(o) {
			case "SUBSCRIBED":
				opts.selSubscribed = true
			case "RECURSIVEMATCH":
				opts.selRecursive = true
			case "SPECIAL-USE":
				opts.selSpecialUse = true
			case "REMOTE":
			default:
				return d.SetErr(bad("", "Unknown LIST selection option"))
			}
			return true
		})
		if !ok || !d.ExpectSP() {
			return d.Err()
		}
		if opts.selRecursive && !opts.selSubscribed {
			return bad("", "RECURSIVEMATCH needs another selection option")
		}
	}
	var ref string
	if !d.ExpectAString(&ref) || !d.ExpectSP() {
		return d.Err()
	}
	var patterns []string
	if !opts.lsub && d.Peek('(') {
		if !d.ExpectList(func() bool {
			var p string
			if !d.ExpectListMailbox(&p) {
				return false
			}
			patterns = append(patterns, p)
			return true
		}) {
			return d.Err()
		}
	} else {
		var p string
		if !d.ExpectListMailbox(&p) {
			return d.Err()
		}
		patterns = append(patterns, p)
	}
	if !opts.lsub && d.SP() {
		if !c.parseListReturn(&opts) {
			return d.Err()
		}
	}
	if err := c.endArgs(); err != nil {
		return err
	}
	if opts.lsub {
		opts.selSubscribed = true
	}
	return c.list(ctx, ref, patterns, &opts)
}

// parseListReturn reads "RETURN (options)".
func (c *conn) parseListReturn(opts *listOptions) bool {
	d := c.dec
	var ret string
	if !d.ExpectAtom(&ret) || !strings.EqualFold(ret, "RETURN") || !d.ExpectSP() {
		return d.SetErr(bad("", "RETURN expected"))
	}
	return d.ExpectList(func() bool {
		var o string
		if !d.ExpectAtom(&o) {
			return false
		}
		switch strings.ToUpper(o) {
		case "SUBSCRIBED":
			opts.retSubscribed = true
		case "CHILDREN", "SPECIAL-USE":
			// Always returned.
		case "STATUS":
			if !d.ExpectSP() {
				return false
			}
			items, ok := c.parseStatusItems()
			if !ok {
				return false
			}
			opts.retStatus = items
		default:
			return d.SetErr(bad("", "Unknown LIST return option"))
		}
		return true
	})
}

func (c *conn) list(ctx context.Context, ref string, patterns []string, opts *listOptions) error {
	resp := "LIST"
	if opts.lsub {
		resp = "LSUB"
	}
	if len(patterns) == 1 && patterns[0] == "" && !opts.selSubscribed {
		// The hierarchy delimiter and root (RFC 9051 §6.3.9).
		c.enc.Raw("* ").Raw(resp).Raw(` (\Noselect) "/" ""`).CRLF()
		return nil
	}
	var pats []string
	for _, p := range patterns {
		full := ref + p
		if !c.enabled.rev2 && isASCII(full) {
			if dec, err := imapwire.DecodeUTF7(full); err == nil {
				full = dec
			}
		}
		if len(full) >= 5 && strings.EqualFold(full[:5], "INBOX") {
			full = "INBOX" + full[5:]
		}
		pats = append(pats, full)
	}
	boxes, err := c.srv.opts.Store.Mailboxes(ctx, c.acct.ID)
	if err != nil {
		return err
	}
	sort.Slice(boxes, func(i, j int) bool { return boxes[i].Name < boxes[j].Name })
	children := map[string]bool{}    // has any child
	subChildren := map[string]bool{} // has a subscribed descendant
	for _, b := range boxes {
		parts := strings.Split(b.Name, store.HierarchySeparator)
		for i := 1; i < len(parts); i++ {
			p := strings.Join(parts[:i], store.HierarchySeparator)
			if i == len(parts)-1 {
				children[p] = true
			}
			if b.Subscribed {
				subChildren[p] = true
			}
		}
	}
	for _, b := range boxes {
		matched := false
		for _, p := range pats {
			if matchPattern(p, b.Name) {
				matched = true
				break
			}
		}
		if !matched {
			continue
		}
		childInfo := false
		if opts.selSubscribed && !b.Subscribed {
			if !opts.selRecursive || !subChildren[b.Name] {
				continue
			}
			childInfo = true
		}
		if opts.selSpecialUse && b.SpecialUse == "" {
			continue
		}
		c.writeListLine(resp, b, children[b.Name], childInfo, opts)
		if len(opts.retStatus) > 0 && !childInfo {
			if err := c.writeStatus(ctx, b, opts.retStatus); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *conn) writeListLine(resp string, b store.Mailbox, hasChildren, childInfo bool, opts *listOptions) {
	var attrs []string
	if hasChildren {
		attrs = append(attrs, `\HasChildren`)
	} else {
		attrs = append(attrs, `\HasNoChildren`)
	}
	if b.Subscribed && (opts.selSubscribed || opts.retSubscribed) && !opts.lsub {
		attrs = append(attrs, `\Subscribed`)
	}
	if b.SpecialUse != "" {
		attrs = append(attrs, b.SpecialUse)
	}
	c.enc.Raw("* ").Raw(resp).Raw(" (").Raw(strings.Join(attrs, " ")).Raw(`) "/" `)
	c.enc.AString(c.encodeName(b.Name))
	if childInfo {
		c.enc.Raw(` ("CHILDINFO" ("SUBSCRIBED"))`)
	}
	c.enc.CRLF()
}

// matchPattern matches a LIST pattern: "*" matches anything, "%" anything
// but the hierarchy separator (RFC 9051 §6.3.9). Dynamic programming keeps
// hostile patterns linear in len(pattern)*len(name).
func matchPattern(pattern, name string) bool {
	// prev[j]: pattern[:i] matches name[:j].
	prev := make([]bool, len(name)+1)
	cur := make([]bool, len(name)+1)
	prev[0] = true
	for i := 0; i < len(pattern); i++ {
		pc := pattern[i]
		cur[0] = prev[0] && (pc == '*' || pc == '%')
		for j := 1; j <= len(name); j++ {
			switch pc {
			case '*':
				cur[j] = prev[j] || cur[j-1]
			case '%':
				cur[j] = prev[j] || cur[j-1] && name[j-1] != '/'
			default:
				cur[j] = prev[j-1] && name[j-1] == pc
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(name)]
}

// Command: NAMESPACE, RFC 9051 §6.3.10: one personal namespace.
func cmdNamespace(ctx context.Context, c *conn, k *cmd) error {
	if err := c.endArgs(); err != nil {
		return err
	}
	c.enc.Raw(`* NAMESPACE (("" "/")) NIL NIL`).CRLF()
	return nil
}
