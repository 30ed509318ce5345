package imapwire

import "freehold/internal/imapsearch"

// ExpectSeqSet reads a sequence-set (RFC 9051 §9) or "$", the result saved
// by SEARCH SAVE (RFC 5182). The set type is imapsearch.NumSet, shared with
// the search keys so that commands and SEARCH resolve sets the same way.
func (d *Decoder) ExpectSeqSet(s *imapsearch.NumSet) bool {
	if d.Special('$') {
		*s = imapsearch.NumSet{SearchRes: true}
		return true
	}
	var set imapsearch.NumSet
	for {
		var r imapsearch.NumRange
		if !d.seqNumber(&r.Start) {
			return false
		}
		r.Stop = r.Start
		if d.Special(':') && !d.seqNumber(&r.Stop) {
			return false
		}
		if len(set.Ranges) >= 100000 {
			return d.syntax("sequence set too long")
		}
		set.Ranges = append(set.Ranges, r)
		if !d.Special(',') {
			break
		}
	}
	*s = set
	return true
}

// SeqSetNext reports whether a sequence set (digits, "*" or "$") is next.
func (d *Decoder) SeqSetNext() bool {
	b, ok := d.peek()
	return ok && (b >= '0' && b <= '9' || b == '*' || b == '$')
}

func (d *Decoder) seqNumber(n *uint32) bool {
	if d.Special('*') {
		*n = imapsearch.Star
		return true
	}
	return d.ExpectNZNumber(n)
}
