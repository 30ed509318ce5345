package imapsearch

import (
	"freehold/internal/imapmsg"
)

// rawKey evaluates HEADER, BODY and TEXT, which read the message.
func (e *eval) rawKey(n *node) (bool, error) {
	p, err := e.parsed()
	if err != nil {
		return false, err
	}
	switch n.kind {
	case KeyHeader:
		// RFC 9051 §6.4.4: an empty string matches every message that
		// has the field.
		for _, v := range p.GetAll(n.field) {
			if containsFold(imapmsg.DecodeHeader(v), n.str) {
				return true, nil
			}
		}
		return false, nil
	case KeyText:
		if headerContains(p, n.str) {
			return true, nil
		}
	}
	return bodyContains(p, n.str), nil
}

// parsed returns the candidate's parsed MIME structure.
func (e *eval) parsed() (*imapmsg.Part, error) {
	if e.part != nil {
		return e.part, nil
	}
	raw, err := e.load()
	if err != nil {
		return nil, err
	}
	e.part = imapmsg.Parse(raw)
	return e.part, nil
}

// headerContains searches the decoded fields of a header.
func headerContains(p *imapmsg.Part, needle string) bool {
	for _, f := range p.Fields() {
		if containsFold(f.Name+": "+imapmsg.DecodeHeader(f.Value), needle) {
			return true
		}
	}
	return false
}

// bodyContains searches the text of an entity's body: every text part,
// transfer-decoded and converted to UTF-8, and the header and body of
// messages attached as message/rfc822. Other attachments are not searched
// here; their text is the full-text index's job. Recursion is bounded by
// the nesting limit of imapmsg.Parse.
func bodyContains(p *imapmsg.Part, needle string) bool {
	switch {
	case len(p.Parts) > 0:
		for _, c := range p.Parts {
			if bodyContains(c, needle) {
				return true
			}
		}
		return false
	case p.Message != nil:
		return headerContains(p.Message, needle) || bodyContains(p.Message, needle)
	case p.Type == "text":
		text, err := p.Text()
		return err == nil && containsFold(text, needle)
	}
	return false
}
