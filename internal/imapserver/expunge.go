package imapserver

import (
	"context"
	"slices"
	"strconv"

	"freehold/internal/imapsearch"
	"freehold/internal/store"
)

// Command: EXPUNGE, RFC 9051 §6.4.3, and UID EXPUNGE, RFC 9051 §6.4.9
// (RFC 4315 §2.1).
func cmdExpunge(ctx context.Context, c *conn, k *cmd) error {
	var set imapsearch.NumSet
	if k.uid && (!c.dec.ExpectSP() || !c.dec.ExpectSeqSet(&set)) {
		return c.dec.Err()
	}
	if err := c.endArgs(); err != nil {
		return err
	}
	if c.sel.readOnly {
		return no("READ-ONLY", "Mailbox is read-only")
	}
	var uids []store.UID // nil: every message marked \Deleted
	if k.uid {
		idxs, err := c.resolve(set, true)
		if err != nil {
			return err
		}
		uids = []store.UID{}
		for _, i := range idxs {
			if e := c.sel.entries[i]; slices.Contains(e.Keywords, store.KeywordDeleted) {
				uids = append(uids, e.UID)
			}
		}
		if len(uids) == 0 {
			return nil
		}
	}
	removed, err := c.srv.opts.Store.Expunge(ctx, c.acct.ID, c.sel.mbox.ID, uids)
	if err != nil {
		return err
	}
	slices.Sort(removed)
	c.removeFromView(removed)
	if c.enabled.condstore {
		k.wantHighest = true
	}
	return nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
