package imapserver

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"freehold/internal/imapsearch"
	"freehold/internal/store"
)

// searchBatch is how many messages' metadata is loaded at a time when
// criteria need envelopes or contents.
const searchBatch = 1000

// Command: SEARCH and UID SEARCH, RFC 9051 §6.4.4 and §6.4.9, with
// ESEARCH (RFC 4731), SEARCHRES (RFC 5182) and the MODSEQ key (RFC 7162
// §3.1.5).
func cmdSearch(ctx context.Context, c *conn, k *cmd) error {
	var ret searchReturn
	if !c.dec.ExpectSP() {
		return c.dec.Err()
	}
	pending, ok := c.parseSearchReturn(&ret)
	if !ok {
		return c.dec.Err()
	}
	if pending == "" {
		var err error
		if pending, err = c.parseCharset(); err != nil {
			return err
		}
	}
	crit, ok := c.parseSearchKeys(pending)
	if !ok {
		return c.dec.Err()
	}
	if err := c.endArgs(); err != nil {
		return err
	}
	if ret.save {
		// A failed SEARCH SAVE leaves an empty saved result (RFC 5182 §2.1).
		c.saved = nil
	}
	idxs, err := c.runSearch(ctx, crit)
	if err != nil {
		return err
	}
	withModSeq := usesModSeq(crit.Keys)
	if ret.save {
		c.saveResult(idxs, ret)
	}
	if ret.given || c.enabled.rev2 {
		if !ret.given {
			ret.all = true
		}
		c.writeESearch(k, idxs, ret, withModSeq)
		return nil
	}
	c.enc.Raw("* SEARCH")
	for _, i := range idxs {
		c.enc.SP().Number(c.number(i, k.uid))
	}
	if withModSeq && len(idxs) > 0 {
		c.enc.Raw(" (MODSEQ ").Number64(int64(c.highestOf(idxs))).Byte(')')
	}
	c.enc.CRLF()
	return nil
}

// number returns the sequence number or UID of entry i.
func (c *conn) number(i int, uid bool) uint32 {
	if uid {
		return uint32(c.sel.entries[i].UID)
	}
	return uint32(i + 1)
}

func (c *conn) highestOf(idxs []int) store.ModSeq {
	var m store.ModSeq
	for _, i := range idxs {
		m = max(m, c.sel.entries[i].ModSeq)
	}
	return m
}

func usesModSeq(keys []imapsearch.Key) bool {
	for _, k := range keys {
		if k.Kind == imapsearch.KeyModSeq || usesModSeq(k.Sub) {
			return true
		}
	}
	return false
}

// saveResult keeps the result for "$" (RFC 5182 §2.4): MIN and/or MAX
// alone save just those.
func (c *conn) saveResult(idxs []int, ret searchReturn) {
	c.saved = nil
	if len(idxs) == 0 {
		return
	}
	if (ret.min || ret.max) && !ret.all && !ret.count {
		if ret.min {
			c.saved = append(c.saved, c.sel.entries[idxs[0]].UID)
		}
		if ret.max && (!ret.min || len(idxs) > 1) {
			c.saved = append(c.saved, c.sel.entries[idxs[len(idxs)-1]].UID)
		}
		return
	}
	c.saved = make([]store.UID, len(idxs))
	for j, i := range idxs {
		c.saved[j] = c.sel.entries[i].UID
	}
}

// writeESearch writes an ESEARCH response (RFC 4731 §3.1, RFC 9051 §7.3.4).
func (c *conn) writeESearch(k *cmd, idxs []int, ret searchReturn, withModSeq bool) {
	if !ret.min && !ret.max && !ret.all && !ret.count {
		return // RETURN (SAVE) alone answers nothing (RFC 5182 §2.4)
	}
	e := c.enc
	e.Raw("* ESEARCH (TAG ").String(k.tag).Byte(')')
	if k.uid {
		e.Raw(" UID")
	}
	if len(idxs) > 0 {
		if ret.min {
			e.Raw(" MIN ").Number(c.number(idxs[0], k.uid))
		}
		if ret.max {
			e.Raw(" MAX ").Number(c.number(idxs[len(idxs)-1], k.uid))
		}
		if ret.all {
			ns := make([]uint32, len(idxs))
			for j, i := range idxs {
				ns[j] = c.number(i, k.uid)
			}
			e.Raw(" ALL ").Raw(imapsearch.NumSetOf(ns).String())
		}
	}
	if ret.count {
		e.Raw(" COUNT ").Raw(strconv.Itoa(len(idxs)))
	}
	if withModSeq && len(idxs) > 0 {
		e.Raw(" MODSEQ ").Number64(int64(c.highestOf(idxs)))
	}
	e.CRLF()
}

// matcher compiles criteria against the selected mailbox.
func (c *conn) matcher(crit imapsearch.Criteria) (*imapsearch.Matcher, error) {
	m, err := imapsearch.NewMatcher(crit, imapsearch.MatchOptions{
		MaxSeq:    uint32(len(c.sel.entries)),
		MaxUID:    c.sel.maxUID(),
		SearchRes: c.saved,
		Location:  time.Local,
		Now:       c.srv.opts.Clock(),
	})
	if err != nil {
		if errors.Is(err, imapsearch.ErrBadCriteria) {
			return nil, &replyError{Status: statusBAD, Text: "Invalid search criteria", Err: err}
		}
		return nil, err
	}
	return m, nil
}

// runSearch returns the ascending indexes of the messages matching crit.
func (c *conn) runSearch(ctx context.Context, crit imapsearch.Criteria) ([]int, error) {
	m, err := c.matcher(crit)
	if err != nil {
		return nil, err
	}
	var out []int
	err = c.eachCandidate(ctx, m.Needs(), func(i int, cand *imapsearch.Candidate) error {
		ok, err := m.Match(cand)
		if err != nil {
			return err
		}
		if ok {
			out = append(out, i)
		}
		return nil
	})
	return out, err
}

// searchParallel is how many metadata batches are loaded at once.
const searchParallel = 3

// eachCandidate calls fn for every message of the view, in order,
// loading envelopes and contents only as needs says. Messages whose
// metadata is gone (expunged meanwhile) are skipped when it is needed.
// Metadata is read several batches at a time: the store's readers run
// side by side.
func (c *conn) eachCandidate(ctx context.Context, needs imapsearch.Needs, fn func(i int, cand *imapsearch.Candidate) error) error {
	n := len(c.sel.entries)
	load := needs.Envelope || needs.Raw
	for start := 0; start < n; start += searchBatch * searchParallel {
		var batches [searchParallel]map[store.MessageID]*store.Message
		if load {
			var errs [searchParallel]error
			var wg sync.WaitGroup
			for k := 0; k < searchParallel && start+k*searchBatch < n; k++ {
				from := start + k*searchBatch
				to := min(from+searchBatch, n)
				wg.Add(1)
				go func() {
					defer wg.Done()
					batches[k], errs[k] = c.loadMessages(ctx, from, to)
				}()
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					return err
				}
			}
		}
		end := min(start+searchBatch*searchParallel, n)
		for i := start; i < end; i++ {
			e := &c.sel.entries[i]
			cand := imapsearch.Candidate{
				Seq: uint32(i + 1), UID: e.UID, Keywords: e.Keywords, Size: e.Size,
				InternalDate: e.ReceivedAt, ModSeq: e.ModSeq,
			}
			if load {
				m := batches[(i-start)/searchBatch][e.MessageID]
				if m == nil {
					continue
				}
				cand.Envelope = &m.Envelope
				blobID := m.BlobID
				cand.Raw = func() ([]byte, error) { return c.loadRaw(ctx, blobID, needFull) }
			}
			if err := fn(i, &cand); err != nil {
				return err
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// loadMessages reads the metadata of the view's entries [from, to). It
// only reads the view, so it may run beside the connection's goroutine
// while that waits.
func (c *conn) loadMessages(ctx context.Context, from, to int) (map[store.MessageID]*store.Message, error) {
	ids := make([]store.MessageID, 0, to-from)
	for _, e := range c.sel.entries[from:to] {
		ids = append(ids, e.MessageID)
	}
	list, err := c.srv.opts.Store.Messages(ctx, c.acct.ID, ids)
	if err != nil {
		return nil, err
	}
	msgs := make(map[store.MessageID]*store.Message, len(list))
	for k := range list {
		msgs[list[k].ID] = &list[k]
	}
	return msgs, nil
}
