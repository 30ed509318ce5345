package jmap

import (
	"encoding/json"
	"strings"
	"time"

	"freehold/internal/store"
)

// emailFilter is an Email/query FilterOperator or FilterCondition
// (RFC 8621 §4.4.1).
type emailFilter struct {
	Operator                string        `json:"operator"`
	Conditions              []emailFilter `json:"conditions"`
	InMailbox               *string       `json:"inMailbox"`
	InMailboxOtherThan      []string      `json:"inMailboxOtherThan"`
	Before                  *string       `json:"before"`
	After                   *string       `json:"after"`
	MinSize                 *int64        `json:"minSize"`
	MaxSize                 *int64        `json:"maxSize"`
	AllInThreadHaveKeyword  *string       `json:"allInThreadHaveKeyword"`
	SomeInThreadHaveKeyword *string       `json:"someInThreadHaveKeyword"`
	NoneInThreadHaveKeyword *string       `json:"noneInThreadHaveKeyword"`
	HasKeyword              *string       `json:"hasKeyword"`
	NotKeyword              *string       `json:"notKeyword"`
	HasAttachment           *bool         `json:"hasAttachment"`
	Text                    *string       `json:"text"`
	From                    *string       `json:"from"`
	To                      *string       `json:"to"`
	Cc                      *string       `json:"cc"`
	Bcc                     *string       `json:"bcc"`
	Subject                 *string       `json:"subject"`
	Body                    *string       `json:"body"`
	Header                  []string      `json:"header"`
}

var emailFilterKeys = map[string]bool{"operator": true, "conditions": true, "inMailbox": true,
	"inMailboxOtherThan": true, "before": true, "after": true, "minSize": true, "maxSize": true,
	"allInThreadHaveKeyword": true, "someInThreadHaveKeyword": true, "noneInThreadHaveKeyword": true,
	"hasKeyword": true, "notKeyword": true, "hasAttachment": true, "text": true, "from": true, "to": true,
	"cc": true, "bcc": true, "subject": true, "body": true, "header": true}

func (f *emailFilter) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	for k := range raw {
		if !emailFilterKeys[k] {
			return &MethodError{Type: errUnsupportedFilter, Description: "unknown filter property " + k}
		}
	}
	type plain emailFilter
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*f = emailFilter(p)
	return nil
}

// qnode is a compiled filter: operator nodes, conditions the store
// evaluates (sql), and conditions read from the messages (text, body,
// header), which the store cannot evaluate.
type qnode struct {
	op   string
	kids []*qnode
	sql  *store.EmailFilter
	gc   *goCond
}

// goCond is a condition evaluated on the message itself.
type goCond struct {
	text, body string
	header     []string
}

// maxFilterNodes bounds a filter's size.
const maxFilterNodes = 200

// compileFilter validates a filter and splits each condition into its
// store part and its message part.
func (c *call) compileFilter(f *emailFilter, depth int, count *int) (*qnode, error) {
	*count++
	if depth > 16 || *count > maxFilterNodes {
		return nil, methodErr(errUnsupportedFilter, "the filter is too complex")
	}
	if f.Operator != "" {
		op, err := filterOperator(f.Operator)
		if err != nil {
			return nil, err
		}
		n := &qnode{op: op}
		for i := range f.Conditions {
			k, err := c.compileFilter(&f.Conditions[i], depth+1, count)
			if err != nil {
				return nil, err
			}
			n.kids = append(n.kids, k)
		}
		return n, nil
	}
	if f.Conditions != nil {
		return nil, invalidArgs("conditions without an operator")
	}
	sf, any, err := c.storeCondition(f)
	if err != nil {
		return nil, err
	}
	var gc *goCond
	if (f.Text != nil && *f.Text != "") || (f.Body != nil && *f.Body != "") || f.Header != nil {
		gc = &goCond{text: derefOr(f.Text, ""), body: derefOr(f.Body, ""), header: f.Header}
		if f.Header != nil && (len(f.Header) == 0 || len(f.Header) > 2 || !validHeaderName(f.Header[0])) {
			return nil, invalidArgs("header must be [name] or [name, value]")
		}
	}
	switch {
	case gc == nil && !any:
		return &qnode{sql: &store.EmailFilter{}}, nil
	case gc == nil:
		return &qnode{sql: sf}, nil
	case !any:
		return &qnode{gc: gc}, nil
	}
	return &qnode{op: "AND", kids: []*qnode{{sql: sf}, {gc: gc}}}, nil
}

// storeCondition translates the conditions of f the store evaluates; any
// reports whether there were some.
func (c *call) storeCondition(f *emailFilter) (*store.EmailFilter, bool, error) {
	sf := &store.EmailFilter{}
	any := false
	if f.InMailbox != nil {
		sf.InMailbox = c.filterMailbox(*f.InMailbox)
		any = true
	}
	if f.InMailboxOtherThan != nil {
		for _, id := range f.InMailboxOtherThan {
			sf.InMailboxOtherThan = append(sf.InMailboxOtherThan, c.filterMailbox(id))
		}
		if len(sf.InMailboxOtherThan) == 0 {
			// In at least one mailbox other than none: every message.
			sf.InMailboxOtherThan = []store.MailboxID{-1}
		}
		any = true
	}
	for _, d := range []struct {
		v   *string
		out *time.Time
	}{{f.Before, &sf.Before}, {f.After, &sf.After}} {
		if d.v != nil {
			t, err := time.Parse(time.RFC3339, *d.v)
			if err != nil {
				return nil, false, invalidArgs("bad UTCDate %q", *d.v)
			}
			*d.out = t
			any = true
		}
	}
	if f.MinSize != nil {
		sf.MinSize, any = max(*f.MinSize, 0), true
	}
	if f.MaxSize != nil {
		if *f.MaxSize <= 0 {
			// Smaller than nothing: matches no message.
			sf.InMailbox, any = -1, true
		} else {
			sf.MaxSize, any = *f.MaxSize, true
		}
	}
	for _, k := range []struct {
		v   *string
		out *string
	}{{f.AllInThreadHaveKeyword, &sf.AllInThreadHaveKeyword}, {f.SomeInThreadHaveKeyword, &sf.SomeInThreadHaveKeyword},
		{f.NoneInThreadHaveKeyword, &sf.NoneInThreadHaveKeyword}, {f.HasKeyword, &sf.HasKeyword}, {f.NotKeyword, &sf.NotKeyword}} {
		if k.v != nil {
			if !validKeyword(*k.v) {
				return nil, false, invalidArgs("bad keyword %q", *k.v)
			}
			*k.out, any = strings.ToLower(*k.v), true
		}
	}
	if f.HasAttachment != nil {
		sf.HasAttachment, any = f.HasAttachment, true
	}
	for _, t := range []struct {
		v   *string
		out *string
	}{{f.From, &sf.From}, {f.To, &sf.To}, {f.Cc, &sf.Cc}, {f.Bcc, &sf.Bcc}, {f.Subject, &sf.Subject}} {
		if t.v != nil && *t.v != "" {
			*t.out, any = *t.v, true
		}
	}
	return sf, any, nil
}

// filterMailbox maps a mailbox id of a filter to the store's; an id that
// names nothing matches nothing.
func (c *call) filterMailbox(raw string) store.MailboxID {
	id, _ := c.resolveID(raw)
	if n, ok := parseMailboxID(id); ok {
		return n
	}
	return -1
}

// storeOnly reports whether the whole subtree is evaluated by the store.
func (n *qnode) storeOnly() bool {
	if n.gc != nil {
		return false
	}
	for _, k := range n.kids {
		if !k.storeOnly() {
			return false
		}
	}
	return true
}

// toStore converts a store-only subtree.
func (n *qnode) toStore() *store.EmailFilter {
	if n.op == "" {
		return n.sql
	}
	f := &store.EmailFilter{Operator: n.op}
	for _, k := range n.kids {
		f.Conditions = append(f.Conditions, *k.toStore())
	}
	return f
}

// candidates returns the store filter that every match must pass: the
// store-only conjuncts at the top of the tree, through nested ANDs (nil:
// no restriction). evaluator.match treats exactly these as already true.
func (n *qnode) candidates() *store.EmailFilter {
	if n.storeOnly() {
		return n.toStore()
	}
	f := &store.EmailFilter{Operator: "AND"}
	var collect func(*qnode)
	collect = func(k *qnode) {
		switch {
		case k.storeOnly():
			f.Conditions = append(f.Conditions, *k.toStore())
		case k.op == "AND":
			for _, kk := range k.kids {
				collect(kk)
			}
		}
	}
	collect(n)
	if len(f.Conditions) == 0 {
		return nil
	}
	return f
}

// validKeyword checks a keyword's characters (RFC 8621 §4.1.1: IMAP atom
// characters minus "]").
func validKeyword(k string) bool {
	if k == "" || len(k) > 255 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c < 0x21 || c > 0x7e || strings.IndexByte(`()]{%*"\`, c) >= 0 {
			return false
		}
	}
	return true
}
