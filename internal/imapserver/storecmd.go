package imapserver

import (
	"context"
	"strings"

	"freehold/internal/imapsearch"
	"freehold/internal/store"
)

// storeReq is a parsed STORE command.
type storeReq struct {
	set            imapsearch.NumSet
	unchangedSince store.ModSeq
	hasUnchanged   bool
	mode           store.KeywordMode
	silent         bool
	keywords       []string
}

// parseStore reads the arguments of STORE (RFC 9051 §6.4.6, with
// UNCHANGEDSINCE from RFC 7162 §3.1.3).
func (c *conn) parseStore(r *storeReq) bool {
	d := c.dec
	if !d.ExpectSP() || !d.ExpectSeqSet(&r.set) || !d.ExpectSP() {
		return false
	}
	if d.Peek('(') {
		if !d.ExpectList(func() bool {
			var m string
			var n int64
			if !d.ExpectAtom(&m) {
				return false
			}
			if !strings.EqualFold(m, "UNCHANGEDSINCE") {
				return d.SetErr(bad("", "Unknown STORE modifier"))
			}
			if !d.ExpectSP() || !d.ExpectNumber64(&n) {
				return false
			}
			r.unchangedSince, r.hasUnchanged = store.ModSeq(n), true
			return true
		}) || !d.ExpectSP() {
			return false
		}
	}
	var item string
	if !d.ExpectAtom(&item) {
		return false
	}
	item = strings.ToUpper(item)
	switch {
	case strings.HasPrefix(item, "+"):
		r.mode, item = store.KeywordsAdd, item[1:]
	case strings.HasPrefix(item, "-"):
		r.mode, item = store.KeywordsRemove, item[1:]
	default:
		r.mode = store.KeywordsReplace
	}
	switch item {
	case "FLAGS":
	case "FLAGS.SILENT":
		r.silent = true
	default:
		return d.SetErr(bad("", "Unknown STORE item"))
	}
	if !d.ExpectSP() {
		return false
	}
	flag := func() bool {
		var f string
		if !d.ExpectFlag(&f) {
			return false
		}
		kw, ok := flagToKeyword(f)
		if !ok {
			if strings.EqualFold(f, `\Recent`) {
				return true
			}
			return d.SetErr(bad("", "Invalid flag "+f))
		}
		r.keywords = append(r.keywords, kw)
		return true
	}
	if d.Peek('(') {
		return d.ExpectList(flag)
	}
	for {
		if !flag() {
			return false
		}
		if !d.SP() {
			return true
		}
	}
}

// Command: STORE and UID STORE, RFC 9051 §6.4.6 and §6.4.9, with
// UNCHANGEDSINCE and MODIFIED (RFC 7162 §3.1.3).
func cmdStore(ctx context.Context, c *conn, k *cmd) error {
	var r storeReq
	if !c.parseStore(&r) {
		return c.dec.Err()
	}
	if err := c.endArgs(); err != nil {
		return err
	}
	if c.sel.readOnly {
		return no("READ-ONLY", "Mailbox is read-only")
	}
	if r.hasUnchanged {
		c.enabled.condstore = true
	}
	idxs, err := c.resolve(r.set, k.uid)
	if err != nil {
		return err
	}
	if len(idxs) == 0 {
		return nil
	}
	uids := make([]store.UID, 0, len(idxs))
	for _, i := range idxs {
		uids = append(uids, c.sel.entries[i].UID)
	}
	upd := store.KeywordUpdate{Mailbox: c.sel.mbox.ID, UIDs: uids, Mode: r.mode, Keywords: r.keywords}
	if r.hasUnchanged {
		upd.UnchangedSince = r.unchangedSince
		if upd.UnchangedSince == 0 {
			// UNCHANGEDSINCE 0 fails for every message (RFC 7162 §3.1.3).
			upd.UnchangedSince = -1
		}
	}
	changed, failed, err := c.srv.opts.Store.UpdateKeywords(ctx, c.acct.ID, upd)
	if err != nil {
		return err
	}
	changedAt := map[int]bool{}
	for _, e := range changed {
		if i, ok := c.sel.index(e.UID); ok {
			e.Keywords = c.sel.intern(e.Keywords)
			c.sel.entries[i] = e
			changedAt[i] = true
		}
	}
	failedSet := map[store.UID]bool{}
	for _, u := range failed {
		failedSet[u] = true
	}
	for _, i := range idxs {
		e := c.sel.entries[i]
		if failedSet[e.UID] || c.sel.isGone(i) {
			continue
		}
		switch {
		case !r.silent:
			c.writeFlagsFetch(i, k.uid || c.enabled.qresync)
		case c.enabled.condstore && changedAt[i]:
			// .SILENT still tells a CONDSTORE client the new MODSEQ
			// (RFC 7162 §3.1.3).
			c.enc.Raw("* ").Number(uint32(i + 1)).Raw(" FETCH (")
			if k.uid {
				c.enc.Raw("UID ").Number(uint32(e.UID)).SP()
			}
			c.enc.Raw("MODSEQ (").Number64(int64(e.ModSeq)).Raw("))\r\n")
		}
	}
	if len(failed) > 0 {
		ns := make([]uint32, 0, len(failed))
		for _, u := range failed {
			if k.uid {
				ns = append(ns, uint32(u))
			} else if i, ok := c.sel.index(u); ok {
				ns = append(ns, uint32(i+1))
			}
		}
		k.code = "MODIFIED " + imapsearch.NumSetOf(ns).String()
		k.text = "Conditional STORE failed"
	}
	return nil
}
