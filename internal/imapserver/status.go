package imapserver

import (
	"context"
	"strings"

	"freehold/internal/store"
)

// parseStatusItems reads "(item ...)" of STATUS (RFC 9051 §6.3.11) and
// LIST-STATUS.
func (c *conn) parseStatusItems() ([]string, bool) {
	var items []string
	ok := c.dec.ExpectList(func() bool {
		var a string
		if !c.dec.ExpectAtom(&a) {
			return false
		}
		a = strings.ToUpper(a)
		switch a {
		case "MESSAGES", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "DELETED", "SIZE", "RECENT", "HIGHESTMODSEQ", "APPENDLIMIT":
			items = append(items, a)
			return true
		}
		return c.dec.SetErr(bad("", "Unknown STATUS item"))
	})
	if ok && len(items) == 0 {
		return nil, c.dec.SetErr(bad("", "STATUS needs items"))
	}
	return items, ok
}

// Command: STATUS, RFC 9051 §6.3.11, with STATUS=SIZE (RFC 8438),
// HIGHESTMODSEQ (RFC 7162 §3.1.6) and APPENDLIMIT (RFC 7889).
func cmdStatus(ctx context.Context, c *conn, k *cmd) error {
	var wire string
	if !c.dec.ExpectSP() || !c.dec.ExpectAString(&wire) || !c.dec.ExpectSP() {
		return c.dec.Err()
	}
	items, ok := c.parseStatusItems()
	if !ok {
		return c.dec.Err()
	}
	if err := c.endArgs(); err != nil {
		return err
	}
	name, err := c.mailboxName(wire)
	if err != nil {
		return err
	}
	mbox, err := c.srv.opts.Store.MailboxByName(ctx, c.acct.ID, name)
	if err != nil {
		return err
	}
	return c.writeStatus(ctx, mbox, items)
}

// writeStatus writes "* STATUS name (...)" for mbox.
func (c *conn) writeStatus(ctx context.Context, mbox store.Mailbox, items []string) error {
	st, err := c.srv.opts.Store.MailboxStatus(ctx, c.acct.ID, mbox.ID)
	if err != nil {
		return err
	}
	c.enc.Raw("* STATUS ").AString(c.encodeName(mbox.Name)).Raw(" (")
	for i, it := range items {
		if i > 0 {
			c.enc.SP()
		}
		c.enc.Raw(it).SP()
		switch it {
		case "MESSAGES":
			c.enc.Number(st.Messages)
		case "UIDNEXT":
			c.enc.Number(uint32(st.UIDNext))
		case "UIDVALIDITY":
			c.enc.Number(st.UIDValidity)
		case "UNSEEN":
			c.enc.Number(st.Unseen)
		case "DELETED":
			c.enc.Number(st.Deleted)
		case "SIZE":
			c.enc.Number64(st.Size)
		case "RECENT":
			c.enc.Number(0)
		case "HIGHESTMODSEQ":
			c.enabled.condstore = true
			c.enc.Number64(int64(st.HighestModSeq))
		case "APPENDLIMIT":
			c.enc.Number64(c.srv.opts.MaxAppendSize)
		}
	}
	c.enc.Raw(")\r\n")
	return nil
}
