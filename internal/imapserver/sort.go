package imapserver

import (
	"context"
	"strings"

	"freehold/internal/imapsearch"
)

// parseSortCharsetKeys reads "charset SP search-keys" of SORT and THREAD,
// where the charset is mandatory (RFC 5256 §3).
func (c *conn) parseSortCharsetKeys() (imapsearch.Criteria, error) {
	d := c.dec
	var cs string
	if !d.ExpectAString(&cs) || !d.ExpectSP() {
		return imapsearch.Criteria{}, d.Err()
	}
	switch strings.ToUpper(cs) {
	case "UTF-8", "US-ASCII", "UTF8":
	default:
		return imapsearch.Criteria{}, no("BADCHARSET (UTF-8 US-ASCII)", "Unsupported charset")
	}
	crit, ok := c.parseSearchKeys("")
	if !ok {
		return crit, d.Err()
	}
	return crit, c.endArgs()
}

// candidates returns the messages matching crit as sort candidates, with
// envelopes when withEnvelope.
func (c *conn) candidates(ctx context.Context, crit imapsearch.Criteria, withEnvelope bool) ([]imapsearch.Candidate, error) {
	m, err := c.matcher(crit)
	if err != nil {
		return nil, err
	}
	needs := m.Needs()
	needs.Envelope = needs.Envelope || withEnvelope
	var cands []imapsearch.Candidate
	err = c.eachCandidate(ctx, needs, func(i int, cand *imapsearch.Candidate) error {
		ok, err := m.Match(cand)
		if err != nil || !ok {
			return err
		}
		cand.Raw = nil // not kept: it would pin the batch's closures
		cands = append(cands, *cand)
		return nil
	})
	return cands, err
}

// Command: SORT and UID SORT, RFC 5256 §3.
func cmdSort(ctx context.Context, c *conn, k *cmd) error {
	d := c.dec
	var keys []imapsearch.SortCriterion
	if !d.ExpectSP() || !d.ExpectList(func() bool {
		var name string
		if !d.ExpectAtom(&name) {
			return false
		}
		reverse := false
		if strings.EqualFold(name, "REVERSE") {
			reverse = true
			if !d.ExpectSP() || !d.ExpectAtom(&name) {
				return false
			}
		}
		key, ok := imapsearch.LookupSortKey(name)
		if !ok {
			return d.SetErr(bad("", "Unknown sort key"))
		}
		keys = append(keys, imapsearch.SortCriterion{Key: key, Reverse: reverse})
		return true
	}) || !d.ExpectSP() {
		return d.Err()
	}
	if len(keys) == 0 {
		return bad("", "SORT needs sort keys")
	}
	crit, err := c.parseSortCharsetKeys()
	if err != nil {
		return err
	}
	envelope := false
	for _, sk := range keys {
		if sk.Key != imapsearch.SortArrival && sk.Key != imapsearch.SortSize {
			envelope = true
		}
	}
	cands, err := c.candidates(ctx, crit, envelope)
	if err != nil {
		return err
	}
	imapsearch.Sort(cands, keys)
	c.enc.Raw("* SORT")
	for _, cand := range cands {
		if k.uid {
			c.enc.SP().Number(uint32(cand.UID))
		} else {
			c.enc.SP().Number(cand.Seq)
		}
	}
	if usesModSeq(crit.Keys) && len(cands) > 0 {
		var m int64
		for _, cand := range cands {
			m = max(m, int64(cand.ModSeq))
		}
		c.enc.Raw(" (MODSEQ ").Number64(m).Byte(')')
	}
	c.enc.CRLF()
	return nil
}

// Command: THREAD and UID THREAD, RFC 5256 §3 (ORDEREDSUBJECT and
// REFERENCES).
func cmdThread(ctx context.Context, c *conn, k *cmd) error {
	d := c.dec
	var name string
	if !d.ExpectSP() || !d.ExpectAtom(&name) || !d.ExpectSP() {
		return d.Err()
	}
	alg, ok := imapsearch.LookupThreadAlgorithm(name)
	if !ok {
		return bad("", "Unknown threading algorithm")
	}
	crit, err := c.parseSortCharsetKeys()
	if err != nil {
		return err
	}
	cands, err := c.candidates(ctx, crit, true)
	if err != nil {
		return err
	}
	roots := imapsearch.Thread(cands, alg)
	if len(roots) == 0 {
		c.enc.Raw("* THREAD").CRLF()
		return nil
	}
	out := imapsearch.AppendThreads([]byte("* THREAD "), roots, func(i int) uint32 {
		if k.uid {
			return uint32(cands[i].UID)
		}
		return cands[i].Seq
	})
	c.enc.RawBytes(out).CRLF()
	return nil
}
