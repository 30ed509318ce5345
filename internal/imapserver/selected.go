package imapserver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"freehold/internal/imapsearch"
	"freehold/internal/store"
)

// selected is a session's view of its selected mailbox. entries[i] is the
// message with sequence number i+1; UIDs ascend. The view changes only on
// the connection's goroutine: by the session's own commands and by
// pollUpdates, which applies the store's change log since modseq.
//
// Invariant: a message expunged by another session keeps its sequence
// number (and stays in entries, its UID in gone) until an EXPUNGE or
// VANISHED response for it has been sent, which RFC 9051 §7.5.1 allows
// only at certain moments. Until then FETCH on it answers from the cached
// entry or fails with EXPUNGEISSUED.
type selected struct {
	mbox     store.Mailbox
	readOnly bool
	entries  []store.MailboxEntry
	gone     map[store.UID]struct{}
	// modseq is the mailbox HighestModSeq the view reflects.
	modseq store.ModSeq
	// kw interns keyword lists: most messages share a few flag sets.
	kw map[string][]string
}

func newSelected(mbox store.Mailbox, readOnly bool) *selected {
	return &selected{mbox: mbox, readOnly: readOnly, gone: map[store.UID]struct{}{}, kw: map[string][]string{}}
}

// intern returns a shared copy of a sorted keyword list.
func (s *selected) intern(kws []string) []string {
	if len(kws) == 0 {
		return nil
	}
	key := strings.Join(kws, " ")
	if v, ok := s.kw[key]; ok {
		return v
	}
	if len(s.kw) > 4096 {
		clear(s.kw)
	}
	v := slices.Clone(kws)
	sort.Strings(v)
	s.kw[key] = v
	return v
}

// index returns the position (sequence number - 1) of uid.
func (s *selected) index(uid store.UID) (int, bool) {
	i := sort.Search(len(s.entries), func(i int) bool { return s.entries[i].UID >= uid })
	return i, i < len(s.entries) && s.entries[i].UID == uid
}

func (s *selected) maxUID() store.UID {
	if len(s.entries) == 0 {
		return 0
	}
	return s.entries[len(s.entries)-1].UID
}

// isGone reports whether entry i was expunged elsewhere, not yet reported.
func (s *selected) isGone(i int) bool {
	if len(s.gone) == 0 {
		return false
	}
	_, ok := s.gone[s.entries[i].UID]
	return ok
}

// errBadSeq answers a sequence number beyond the mailbox.
var errBadSeq = bad("", "Invalid message sequence number")

// resolve turns a sequence set into ascending entry indexes. With uid,
// numbers are UIDs and those not present are skipped (RFC 9051 §6.4.9);
// otherwise they are sequence numbers and must exist.
func (c *conn) resolve(set imapsearch.NumSet, uid bool) ([]int, error) {
	s := c.sel
	if set.SearchRes {
		return c.resolveSaved(), nil
	}
	var out []int
	if uid {
		rs := set.Resolve(uint32(s.maxUID())).Ranges
		for _, r := range rs {
			i, _ := s.index(store.UID(r.Start))
			for ; i < len(s.entries) && uint32(s.entries[i].UID) <= r.Stop; i++ {
				out = append(out, i)
			}
		}
		return out, nil
	}
	n := uint32(len(s.entries))
	rs := clipStar(set, n).Resolve(n).Ranges
	for _, r := range rs {
		if r.Stop > n {
			return nil, errBadSeq
		}
		for m := r.Start; m <= r.Stop; m++ {
			out = append(out, int(m-1))
		}
	}
	return out, nil
}

// uidRanges resolves a UID set against the highest UID in the view, as
// sorted merged ranges. "$" yields no ranges (not nil, which callers read
// as "no restriction"); commands that accept "$" use resolveSaved.
func uidRanges(set imapsearch.NumSet, maxUID store.UID) []imapsearch.NumRange {
	if set.SearchRes {
		return []imapsearch.NumRange{}
	}
	return set.Resolve(uint32(maxUID)).Ranges
}

// clipStar makes sequence ranges that end at "*" stop at n: "5:*" in a
// three-message mailbox means 3, and "1:*" in an empty one means nothing,
// as clients that always ask for "1:*" expect. Numbers written out beyond
// n stay, and are refused.
func clipStar(set imapsearch.NumSet, n uint32) imapsearch.NumSet {
	out := imapsearch.NumSet{Ranges: make([]imapsearch.NumRange, 0, len(set.Ranges))}
	for _, r := range set.Ranges {
		if r.Start == imapsearch.Star || r.Stop == imapsearch.Star {
			if n == 0 {
				continue
			}
			r.Start, r.Stop = min(r.Start, n), min(r.Stop, n)
		}
		out.Ranges = append(out.Ranges, r)
	}
	return out
}

// resolveSaved returns the indexes of the saved search result's messages
// still in the view (RFC 5182 §2.1: expunged ones drop out).
func (c *conn) resolveSaved() []int {
	var out []int
	for _, uid := range c.saved {
		if i, ok := c.sel.index(uid); ok {
			out = append(out, i)
		}
	}
	return out
}

// pollUpdates brings the view up to date with the store and tells the
// client: EXPUNGE or VANISHED (when allowed), EXISTS, and FETCH for flag
// changes made elsewhere. Output is buffered; the caller flushes.
func (c *conn) pollUpdates(ctx context.Context, allowExpunge bool) error {
	s := c.sel
	delta, err := c.srv.opts.Store.MailboxChanges(ctx, c.acct.ID, s.mbox.ID, s.modseq)
	switch {
	case errors.Is(err, store.ErrChangesTooOld):
		delta, err = c.fullDelta(ctx)
	case errors.Is(err, store.ErrNotFound):
		// The mailbox was deleted under us: everything is gone.
		delta, err = store.MailboxDelta{Highest: s.modseq}, nil
		for _, e := range s.entries {
			delta.Expunged = append(delta.Expunged, e.UID)
		}
	}
	if err != nil {
		return fmt.Errorf("mailbox changes: %w", err)
	}
	c.applyDelta(delta)
	if allowExpunge {
		c.reportGone()
	}
	return nil
}

// fullDelta rebuilds a delta by comparing the whole mailbox with the view,
// for when the change log no longer reaches back to s.modseq.
func (c *conn) fullDelta(ctx context.Context) (store.MailboxDelta, error) {
	s := c.sel
	st, err := c.srv.opts.Store.MailboxStatus(ctx, c.acct.ID, s.mbox.ID)
	if err != nil {
		return store.MailboxDelta{}, err
	}
	all, err := c.srv.opts.Store.Entries(ctx, c.acct.ID, s.mbox.ID)
	if err != nil {
		return store.MailboxDelta{}, err
	}
	d := store.MailboxDelta{Highest: st.HighestModSeq}
	j := 0
	for _, e := range s.entries {
		for j < len(all) && all[j].UID < e.UID {
			j++
		}
		if j >= len(all) || all[j].UID != e.UID {
			d.Expunged = append(d.Expunged, e.UID)
		}
	}
	for _, e := range all {
		i, ok := s.index(e.UID)
		if !ok || s.entries[i].ModSeq != e.ModSeq {
			d.Changed = append(d.Changed, e)
		}
	}
	return d, nil
}

// applyDelta merges a change set into the view and writes EXISTS and
// FETCH responses. Expunges are only recorded in gone.
func (c *conn) applyDelta(d store.MailboxDelta) {
	s := c.sel
	expunged := make(map[store.UID]bool, len(d.Expunged))
	for _, uid := range d.Expunged {
		expunged[uid] = true
		if _, ok := s.index(uid); ok {
			s.gone[uid] = struct{}{}
		}
	}
	var changed []int
	added := 0
	for _, e := range d.Changed {
		if expunged[e.UID] {
			continue
		}
		i, ok := s.index(e.UID)
		if !ok {
			if e.UID > s.maxUID() {
				e.Keywords = s.intern(e.Keywords)
				s.entries = append(s.entries, e)
				added++
			}
			// A UID below the highest we know and not in the view was
			// already expunged and reported; it cannot reappear.
			continue
		}
		if s.isGone(i) || e.ModSeq <= s.entries[i].ModSeq {
			continue // already known (our own change) or reported gone
		}
		old := s.entries[i]
		e.Keywords = s.intern(e.Keywords)
		s.entries[i] = e
		if !slices.Equal(old.Keywords, e.Keywords) || c.enabled.condstore {
			changed = append(changed, i)
		}
	}
	if d.Highest > s.modseq {
		s.modseq = d.Highest
	}
	if added > 0 {
		c.untagged("%d EXISTS", len(s.entries))
	}
	for _, i := range changed {
		if i >= len(s.entries)-added {
			continue // new messages are announced by EXISTS alone
		}
		c.writeFlagsFetch(i, true)
	}
}

// writeFlagsFetch writes "* n FETCH (UID u FLAGS (...) [MODSEQ (m)])".
func (c *conn) writeFlagsFetch(i int, withUID bool) {
	e := c.sel.entries[i]
	c.enc.Raw("* ").Number(uint32(i + 1)).Raw(" FETCH (")
	if withUID {
		c.enc.Raw("UID ").Number(uint32(e.UID)).SP()
	}
	c.enc.Raw("FLAGS ")
	writeFlags(c.enc, e.Keywords)
	if c.enabled.condstore {
		c.enc.Raw(" MODSEQ (").Number64(int64(e.ModSeq)).Byte(')')
	}
	c.enc.Raw(")\r\n")
}

// reportGone sends EXPUNGE (or, with QRESYNC, VANISHED) for every message
// expunged elsewhere and drops them from the view.
func (c *conn) reportGone() {
	s := c.sel
	if len(s.gone) == 0 {
		return
	}
	var uids []store.UID
	for uid := range s.gone {
		uids = append(uids, uid)
	}
	slices.Sort(uids)
	c.removeFromView(uids)
	clear(s.gone)
}

// removeFromView removes ascending UIDs from the view and reports them.
func (c *conn) removeFromView(uids []store.UID) {
	s := c.sel
	if len(uids) == 0 {
		return
	}
	if c.enabled.qresync {
		ns := make([]uint32, 0, len(uids))
		for _, u := range uids {
			if _, ok := s.index(u); ok {
				ns = append(ns, uint32(u))
			}
		}
		if len(ns) > 0 {
			c.enc.Raw("* VANISHED ").Raw(imapsearch.NumSetOf(ns).String()).CRLF()
		}
	} else {
		// From the highest sequence number down, so that each number is
		// still valid when the client reads it.
		for k := len(uids) - 1; k >= 0; k-- {
			if i, ok := s.index(uids[k]); ok {
				c.enc.Raw("* ").Number(uint32(i + 1)).Raw(" EXPUNGE").CRLF()
			}
		}
	}
	drop := make(map[store.UID]bool, len(uids))
	for _, u := range uids {
		drop[u] = true
		delete(s.gone, u)
	}
	s.entries = slices.DeleteFunc(s.entries, func(e store.MailboxEntry) bool { return drop[e.UID] })
}

// unselect leaves the selected state, if in it.
func (c *conn) unselect() {
	if c.sel == nil {
		return
	}
	c.sel = nil
	c.saved = nil
	if c.state == stateSelected {
		c.state = stateAuth
	}
}
