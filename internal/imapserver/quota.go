package imapserver

import (
	"context"
)

// The account's quota is one root, "", holding every mailbox; only the
// STORAGE resource (in units of 1024 octets) is limited (RFC 9208).

// Command: GETQUOTAROOT, RFC 9208 §4.3.
func cmdGetQuotaRoot(ctx context.Context, c *conn, k *cmd) error {
	name, err := c.mailboxArg()
	if err != nil {
		return err
	}
	if _, err := c.srv.opts.Store.MailboxByName(ctx, c.acct.ID, name); err != nil {
		return err
	}
	u, err := c.srv.opts.Store.AccountUsage(ctx, c.acct.ID)
	if err != nil {
		return err
	}
	c.enc.Raw("* QUOTAROOT ").AString(c.encodeName(name))
	if u.QuotaBytes > 0 {
		c.enc.Raw(` ""`)
	}
	c.enc.CRLF()
	if u.QuotaBytes > 0 {
		c.writeQuota(u.Bytes, u.QuotaBytes)
	}
	return nil
}

// Command: GETQUOTA, RFC 9208 §4.2.
func cmdGetQuota(ctx context.Context, c *conn, k *cmd) error {
	var root string
	if !c.dec.ExpectSP() || !c.dec.ExpectAString(&root) {
		return c.dec.Err()
	}
	if err := c.endArgs(); err != nil {
		return err
	}
	u, err := c.srv.opts.Store.AccountUsage(ctx, c.acct.ID)
	if err != nil {
		return err
	}
	if root != "" || u.QuotaBytes <= 0 {
		return no("NONEXISTENT", "No such quota root")
	}
	c.writeQuota(u.Bytes, u.QuotaBytes)
	return nil
}

func (c *conn) writeQuota(used, limit int64) {
	c.enc.Raw(`* QUOTA "" (STORAGE `).Number64((used + 1023) / 1024).SP().Number64(limit / 1024).Raw(")\r\n")
}

// Command: SETQUOTA, RFC 9208 §4.1: quotas are the administrator's.
func cmdSetQuota(ctx context.Context, c *conn, k *cmd) error {
	return no("NOPERM", "Quotas are set by the administrator")
}
