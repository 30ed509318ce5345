package imapserver

import (
	"context"
	"errors"
	"slices"

	"freehold/internal/imapsearch"
	"freehold/internal/store"
)

// Command: COPY and UID COPY, RFC 9051 §6.4.7, and MOVE and UID MOVE,
// RFC 9051 §6.4.8 (RFC 6851), with COPYUID (RFC 4315).
func cmdCopy(ctx context.Context, c *conn, k *cmd) error {
	var set imapsearch.NumSet
	var wire string
	if !c.dec.ExpectSP() || !c.dec.ExpectSeqSet(&set) || !c.dec.ExpectSP() || !c.dec.ExpectAString(&wire) {
		return c.dec.Err()
	}
	if err := c.endArgs(); err != nil {
		return err
	}
	move := k.name == "MOVE"
	if move && c.sel.readOnly {
		return no("READ-ONLY", "Mailbox is read-only")
	}
	name, err := c.mailboxName(wire)
	if err != nil {
		return err
	}
	dest, err := c.srv.opts.Store.MailboxByName(ctx, c.acct.ID, name)
	if errors.Is(err, store.ErrNotFound) {
		return no("TRYCREATE", "No such mailbox")
	}
	if err != nil {
		return err
	}
	idxs, err := c.resolve(set, k.uid)
	if err != nil {
		return err
	}
	uids := make([]store.UID, 0, len(idxs))
	for _, i := range idxs {
		if !c.sel.isGone(i) {
			uids = append(uids, c.sel.entries[i].UID)
		}
	}
	if len(uids) == 0 {
		if len(idxs) > 0 {
			return no("EXPUNGEISSUED", "Messages were expunged")
		}
		return nil
	}
	pairs, err := c.srv.opts.Store.Copy(ctx, c.acct.ID, store.CopyRequest{From: c.sel.mbox.ID, To: dest.ID, UIDs: uids, Move: move})
	if err != nil {
		return err
	}
	if len(pairs) == 0 {
		return no("EXPUNGEISSUED", "Messages were expunged")
	}
	slices.SortFunc(pairs, func(a, b store.UIDPair) int { return int(int64(a.From) - int64(b.From)) })
	from := make([]uint32, len(pairs))
	to := make([]uint32, len(pairs))
	moved := make([]store.UID, len(pairs))
	for j, p := range pairs {
		from[j], to[j], moved[j] = uint32(p.From), uint32(p.To), p.From
	}
	code := "COPYUID " + itoa(int64(dest.UIDValidity)) + " " + formatList(from) + " " + formatList(to)
	if !move {
		k.code = code
		return nil
	}
	// MOVE: COPYUID goes in an untagged OK before the expunges (RFC 6851
	// §4.3).
	c.enc.Raw("* OK [").Raw(code).Raw("] Moved").CRLF()
	c.removeFromView(moved)
	return nil
}

// formatList writes numbers in the given order as a sequence set, joining
// runs; COPYUID's two sets must correspond element by element, so the
// order is kept rather than sorted.
func formatList(ns []uint32) string {
	if slices.IsSorted(ns) {
		return imapsearch.NumSetOf(ns).String()
	}
	var b []byte
	for i, n := range ns {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, itoa(int64(n))...)
	}
	return string(b)
}
