package imapserver

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"freehold/internal/imapserver/imapwire"
	"freehold/internal/store"
)

// mailboxName turns a mailbox name from the wire into the store's form:
// UTF-8 (decoded from modified UTF-7 unless the client enabled
// IMAP4rev2), no trailing separator, INBOX in capitals.
func (c *conn) mailboxName(wire string) (string, error) {
	name := wire
	if !c.enabled.rev2 && isASCII(wire) {
		dec, err := imapwire.DecodeUTF7(wire)
		if err != nil {
			return "", no("CANNOT", "Invalid mailbox name")
		}
		name = dec
	}
	name = strings.TrimSuffix(name, store.HierarchySeparator)
	switch {
	case strings.EqualFold(name, "INBOX"):
		name = "INBOX"
	case len(name) > 6 && strings.EqualFold(name[:6], "INBOX/"):
		name = "INBOX" + name[5:]
	}
	if !validMailboxName(name) {
		return "", no("CANNOT", "Invalid mailbox name")
	}
	return name, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func validMailboxName(name string) bool {
	if name == "" || len(name) > 1000 || !utf8.ValidString(name) {
		return false
	}
	for _, part := range strings.Split(name, store.HierarchySeparator) {
		if part == "" {
			return false
		}
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || r == '*' || r == '%' {
			return false
		}
	}
	return true
}

// encodeName spells a store mailbox name for this client.
func (c *conn) encodeName(name string) string {
	if c.enabled.rev2 {
		return name
	}
	return imapwire.EncodeUTF7(name)
}

// specialUses lists the attributes CREATE accepts (RFC 6154 §2).
func validSpecialUse(a string) (string, bool) {
	for _, u := range []string{store.UseSent, store.UseDrafts, store.UseJunk, store.UseTrash, store.UseArchive, store.UseAll, store.UseFlagged} {
		if strings.EqualFold(a, u) {
			return u, true
		}
	}
	return "", false
}

// Command: CREATE, RFC 9051 §6.3.4, with USE (RFC 6154 §3).
func cmdCreate(ctx context.Context, c *conn, k *cmd) error {
	var wire string
	if !c.dec.ExpectSP() || !c.dec.ExpectAString(&wire) {
		return c.dec.Err()
	}
	var uses []string
	if c.dec.SP() {
		ok := c.dec.ExpectList(func() bool {
			var p string
			if !c.dec.ExpectAtom(&p) || !strings.EqualFold(p, "USE") {
				return c.dec.SetErr(bad("", "Unknown CREATE parameter"))
			}
			return c.dec.ExpectSP() && c.dec.ExpectList(func() bool {
				var a string
				if !c.dec.ExpectFlag(&a) {
					return false
				}
				uses = append(uses, a)
				return true
			})
		})
		if !ok {
			return c.dec.Err()
		}
	}
	if err := c.endArgs(); err != nil {
		return err
	}
	name, err := c.mailboxName(wire)
	if err != nil {
		return err
	}
	if name == "INBOX" {
		return no("ALREADYEXISTS", "INBOX always exists")
	}
	var use string
	switch len(uses) {
	case 0:
	case 1:
		u, ok := validSpecialUse(uses[0])
		if !ok {
			return no("USEATTR", "Unsupported special-use attribute")
		}
		use = u
	default:
		return no("USEATTR", "One special-use attribute per mailbox")
	}
	if err := c.createParents(ctx, name); err != nil {
		return err
	}
	_, err = c.srv.opts.Store.CreateMailbox(ctx, c.acct.ID, store.NewMailbox{Name: name, SpecialUse: use})
	return err
}

// createParents creates the missing superiors of name, as RFC 9051
// §6.3.4 asks.
func (c *conn) createParents(ctx context.Context, name string) error {
	parts := strings.Split(name, store.HierarchySeparator)
	for i := 1; i < len(parts); i++ {
		parent := strings.Join(parts[:i], store.HierarchySeparator)
		_, err := c.srv.opts.Store.MailboxByName(ctx, c.acct.ID, parent)
		if err == nil {
			continue
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		_, err = c.srv.opts.Store.CreateMailbox(ctx, c.acct.ID, store.NewMailbox{Name: parent})
		if err != nil && !errors.Is(err, store.ErrExists) {
			return err
		}
	}
	return nil
}

// mailboxArg reads the single mailbox argument " SP mailbox CRLF" that
// ends DELETE, SUBSCRIBE, UNSUBSCRIBE and GETQUOTAROOT, and decodes it.
func (c *conn) mailboxArg() (string, error) {
	var wire string
	if !c.dec.ExpectSP() || !c.dec.ExpectAString(&wire) {
		return "", c.dec.Err()
	}
	if err := c.endArgs(); err != nil {
		return "", err
	}
	return c.mailboxName(wire)
}

// Command: DELETE, RFC 9051 §6.3.5. Mailboxes with children are refused:
// the store has no \Noselect placeholders.
func cmdDelete(ctx context.Context, c *conn, k *cmd) error {
	name, err := c.mailboxArg()
	if err != nil {
		return err
	}
	if name == "INBOX" {
		return no("CANNOT", "INBOX cannot be deleted")
	}
	mbox, err := c.srv.opts.Store.MailboxByName(ctx, c.acct.ID, name)
	if err != nil {
		return err
	}
	if err := c.srv.opts.Store.DeleteMailbox(ctx, c.acct.ID, mbox.ID); err != nil {
		if errors.Is(err, store.ErrInvalid) {
			return &replyError{Status: statusNO, Code: "INUSE", Text: "Mailbox has children", Err: err}
		}
		return err
	}
	return nil
}

// Command: RENAME, RFC 9051 §6.3.6.
func cmdRename(ctx context.Context, c *conn, k *cmd) error {
	var from, to string
	if !c.dec.ExpectSP() || !c.dec.ExpectAString(&from) || !c.dec.ExpectSP() || !c.dec.ExpectAString(&to) {
		return c.dec.Err()
	}
	if err := c.endArgs(); err != nil {
		return err
	}
	fromName, err := c.mailboxName(from)
	if err != nil {
		return err
	}
	toName, err := c.mailboxName(to)
	if err != nil {
		return err
	}
	if toName == "INBOX" {
		return no("ALREADYEXISTS", "INBOX always exists")
	}
	mbox, err := c.srv.opts.Store.MailboxByName(ctx, c.acct.ID, fromName)
	if err != nil {
		return err
	}
	if _, err := c.srv.opts.Store.MailboxByName(ctx, c.acct.ID, toName); err == nil {
		return no("ALREADYEXISTS", "Mailbox already exists")
	}
	if err := c.createParents(ctx, toName); err != nil {
		return err
	}
	return c.srv.opts.Store.RenameMailbox(ctx, c.acct.ID, mbox.ID, toName)
}

// Command: SUBSCRIBE and UNSUBSCRIBE, RFC 9051 §6.3.7 and §6.3.8.
func cmdSubscribe(ctx context.Context, c *conn, k *cmd) error {
	name, err := c.mailboxArg()
	if err != nil {
		return err
	}
	mbox, err := c.srv.opts.Store.MailboxByName(ctx, c.acct.ID, name)
	if err != nil {
		return err
	}
	return c.srv.opts.Store.SetSubscribed(ctx, c.acct.ID, mbox.ID, k.name == "SUBSCRIBE")
}
