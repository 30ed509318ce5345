package imapserver

import (
	"context"
	"errors"
	"slices"
	"strings"

	"freehold/internal/imapsearch"
	"freehold/internal/store"
)

// qresyncParams are the arguments of SELECT (QRESYNC (...)), RFC 7162
// §3.2.5.
type qresyncParams struct {
	uidValidity uint32
	modseq      store.ModSeq
	known       *imapsearch.NumSet // known-uids, optional
}

// Command: SELECT and EXAMINE, RFC 9051 §6.3.2 and §6.3.3, with the
// CONDSTORE and QRESYNC parameters of RFC 7162 §3.1.8 and §3.2.5.
func cmdSelect(ctx context.Context, c *conn, k *cmd) error {
	var name string
	if !c.dec.ExpectSP() || !c.dec.ExpectAString(&name) {
		return c.dec.Err()
	}
	var qr *qresyncParams
	condstore := false
	if c.dec.SP() {
		ok := c.dec.ExpectList(func() bool {
			var p string
			if !c.dec.ExpectAtom(&p) {
				return false
			}
			switch strings.ToUpper(p) {
			case "CONDSTORE":
				condstore = true
				return true
			case "QRESYNC":
				qr = &qresyncParams{}
				return c.dec.ExpectSP() && c.parseQresync(qr)
			}
			return c.dec.SetErr(bad("", "Unknown SELECT parameter"))
		})
		if !ok {
			return c.dec.Err()
		}
	}
	if err := c.endArgs(); err != nil {
		return err
	}
	if qr != nil && !c.enabled.qresync {
		return bad("", "QRESYNC is not enabled")
	}
	hadMailbox := c.sel != nil
	c.unselect()
	if hadMailbox && (c.enabled.qresync || c.enabled.rev2) {
		c.enc.Raw("* OK [CLOSED] Previous mailbox closed").CRLF()
	}
	if condstore {
		c.enabled.condstore = true
	}
	mboxName, err := c.mailboxName(name)
	if err != nil {
		return err
	}
	mbox, err := c.srv.opts.Store.MailboxByName(ctx, c.acct.ID, mboxName)
	if err != nil {
		return err
	}
	readOnly := k.name == "EXAMINE"
	sel, err := c.loadView(ctx, mbox, readOnly)
	if err != nil {
		return err
	}
	c.sel = sel
	c.state = stateSelected
	c.writeSelectResponses()
	if qr != nil && qr.uidValidity == sel.mbox.UIDValidity {
		if err := c.qresyncReport(ctx, qr); err != nil {
			return err
		}
	}
	if readOnly {
		k.code = "READ-ONLY"
	} else {
		k.code = "READ-WRITE"
	}
	return nil
}

// parseQresync reads "(uidvalidity modseq [known-uids [seq-match-data]])".
func (c *conn) parseQresync(qr *qresyncParams) bool {
	d := c.dec
	var ms int64
	if !d.ExpectSpecial('(') || !d.ExpectNZNumber(&qr.uidValidity) || !d.ExpectSP() || !d.ExpectNumber64(&ms) {
		return false
	}
	qr.modseq = store.ModSeq(ms)
	if d.SP() {
		if d.Peek('(') {
			// seq-match-data without known-uids is not in the grammar.
			return d.SetErr(bad("", "known-uids expected"))
		}
		var set imapsearch.NumSet
		if !d.ExpectSeqSet(&set) {
			return false
		}
		qr.known = &set
		if d.SP() {
			// seq-match-data: the server may use it to narrow the
			// report; reporting on all known UIDs is always correct.
			var a, b imapsearch.NumSet
			if !d.ExpectSpecial('(') || !d.ExpectSeqSet(&a) || !d.ExpectSP() || !d.ExpectSeqSet(&b) || !d.ExpectSpecial(')') {
				return false
			}
		}
	}
	return d.ExpectSpecial(')')
}

// loadView reads a mailbox's index. The status (and its HighestModSeq) is
// read before the entries, so the entries are at least as new as the
// ModSeq the view records: later polls may repeat a change already seen,
// which applyDelta ignores, but never miss one.
func (c *conn) loadView(ctx context.Context, mbox store.Mailbox, readOnly bool) (*selected, error) {
	st, err := c.srv.opts.Store.MailboxStatus(ctx, c.acct.ID, mbox.ID)
	if err != nil {
		return nil, err
	}
	entries, err := c.srv.opts.Store.Entries(ctx, c.acct.ID, mbox.ID)
	if err != nil {
		return nil, err
	}
	s := newSelected(st.Mailbox, readOnly)
	s.modseq = st.HighestModSeq
	for i := range entries {
		entries[i].Keywords = s.intern(entries[i].Keywords)
	}
	s.entries = entries
	return s, nil
}

// writeSelectResponses writes the untagged data of SELECT/EXAMINE.
func (c *conn) writeSelectResponses() {
	s := c.sel
	flags := mailboxFlags(s.entries)
	c.enc.Raw("* FLAGS (").Raw(strings.Join(flags, " ")).Raw(")\r\n")
	if s.readOnly {
		c.enc.Raw("* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n")
	} else {
		c.enc.Raw("* OK [PERMANENTFLAGS (").Raw(strings.Join(flags, " ")).Raw(` \*)] Flags permitted`).CRLF()
	}
	c.untagged("%d EXISTS", len(s.entries))
	if !c.enabled.rev2 {
		c.untagged("0 RECENT")
		for i, e := range s.entries {
			if !slices.Contains(e.Keywords, store.KeywordSeen) {
				c.untagged("OK [UNSEEN %d] First unseen", i+1)
				break
			}
		}
	}
	c.untagged("OK [UIDVALIDITY %d] UIDs valid", s.mbox.UIDValidity)
	c.untagged("OK [UIDNEXT %d] Predicted next UID", c.uidNext())
	c.untagged("OK [HIGHESTMODSEQ %d] Highest", int64(s.modseq))
	if c.enabled.rev2 {
		c.enc.Raw("* LIST () \"/\" ")
		c.enc.AString(c.encodeName(s.mbox.Name)).CRLF()
	}
}

// uidNext is the mailbox's UIDNEXT, never at or below a UID in the view.
func (c *conn) uidNext() store.UID {
	n := c.sel.mbox.UIDNext
	if m := c.sel.maxUID(); m >= n {
		n = m + 1
	}
	return n
}

// qresyncReport sends, after SELECT (QRESYNC ...), the UIDs expunged
// since the client's ModSeq as VANISHED (EARLIER) and the messages
// changed since then as FETCH (RFC 7162 §3.2.5.1).
func (c *conn) qresyncReport(ctx context.Context, qr *qresyncParams) error {
	s := c.sel
	delta, err := c.srv.opts.Store.MailboxChanges(ctx, c.acct.ID, s.mbox.ID, qr.modseq)
	tooOld := errors.Is(err, store.ErrChangesTooOld)
	if err != nil && !tooOld {
		return err
	}
	var known []imapsearch.NumRange
	if qr.known != nil {
		known = uidRanges(*qr.known, s.maxUID())
	}
	inKnown := func(u store.UID) bool {
		return known == nil || imapsearch.NumSet{Ranges: known}.ContainsResolved(uint32(u))
	}
	var vanished []uint32
	if tooOld {
		// Without the log, report every known UID not in the mailbox.
		limit := uint32(s.maxUID())
		if known != nil && len(known) > 0 {
			limit = max(limit, known[len(known)-1].Stop)
		}
		vanished = missingUIDs(s, known, limit)
	} else {
		for _, u := range delta.Expunged {
			if _, present := s.index(u); !present && inKnown(u) {
				vanished = append(vanished, uint32(u))
			}
		}
	}
	if len(vanished) > 0 {
		c.enc.Raw("* VANISHED (EARLIER) ").Raw(imapsearch.NumSetOf(vanished).String()).CRLF()
	}
	for i, e := range s.entries {
		if e.ModSeq > qr.modseq && inKnown(e.UID) {
			c.writeFlagsFetch(i, true)
		}
	}
	return nil
}

// missingUIDs lists the UIDs from 1 to limit (restricted to known, if
// given) that are not in the view.
func missingUIDs(s *selected, known []imapsearch.NumRange, limit uint32) []uint32 {
	if known == nil {
		known = []imapsearch.NumRange{{Start: 1, Stop: limit}}
	}
	var out []uint32
	for _, r := range known {
		for u := r.Start; u <= r.Stop && u != 0; u++ {
			if _, ok := s.index(store.UID(u)); !ok {
				out = append(out, u)
			}
			if len(out) > 1_000_000 {
				return out
			}
		}
	}
	return out
}

// Command: CLOSE, RFC 9051 §6.4.1, and UNSELECT, RFC 9051 §6.4.2 (RFC
// 3691). CLOSE expunges messages marked \Deleted, silently.
func cmdClose(ctx context.Context, c *conn, k *cmd) error {
	if err := c.endArgs(); err != nil {
		return err
	}
	if k.name == "CLOSE" && !c.sel.readOnly {
		// nil: every message marked $deleted now, including ones this
		// session has not yet heard of.
		if _, err := c.srv.opts.Store.Expunge(ctx, c.acct.ID, c.sel.mbox.ID, nil); err != nil {
			return err
		}
	}
	c.unselect()
	return nil
}
