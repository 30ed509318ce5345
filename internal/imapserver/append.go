package imapserver

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"time"

	"freehold/internal/imapserver/imapwire"
	"freehold/internal/message"
	"freehold/internal/store"
)

// Command: APPEND, RFC 9051 §6.3.12, with APPENDUID (RFC 4315), literal8
// (RFC 3516) and APPENDLIMIT (RFC 7889).
func cmdAppend(ctx context.Context, c *conn, k *cmd) error {
	d := c.dec
	var wire string
	if !d.ExpectSP() || !d.ExpectAString(&wire) || !d.ExpectSP() {
		return d.Err()
	}
	var keywords []string
	if d.Peek('(') {
		if !d.ExpectList(func() bool {
			var f string
			if !d.ExpectFlag(&f) {
				return false
			}
			if kw, ok := flagToKeyword(f); ok {
				keywords = append(keywords, kw)
			} else if !strings.EqualFold(f, `\Recent`) {
				return d.SetErr(bad("", "Invalid flag "+f))
			}
			return true
		}) || !d.ExpectSP() {
			return d.Err()
		}
	}
	var received time.Time
	if d.Peek('"') {
		var s string
		if !d.ExpectString(&s) || !d.ExpectSP() {
			return d.Err()
		}
		t, err := parseDateTime(s)
		if err != nil {
			return bad("", "Invalid date-time")
		}
		received = t
	}
	// Look the mailbox up before the literal, so that a synchronising
	// literal for a missing mailbox is refused before its data is sent.
	mbox, lookupErr := c.appendTarget(ctx, wire)
	raw, err := c.readAppendLiteral(lookupErr)
	if err != nil {
		return err
	}
	if err := c.endArgs(); err != nil {
		return err
	}
	if lookupErr != nil {
		return lookupErr
	}
	if received.IsZero() {
		received = c.srv.opts.Clock()
	}
	entry, err := c.appendMessage(ctx, mbox, raw, received, keywords)
	if err != nil {
		return err
	}
	k.code = "APPENDUID " + itoa(int64(mbox.UIDValidity)) + " " + itoa(int64(entry.UID))
	return nil
}

// appendTarget resolves APPEND's mailbox; a missing one is TRYCREATE.
func (c *conn) appendTarget(ctx context.Context, wire string) (store.Mailbox, error) {
	name, err := c.mailboxName(wire)
	if err != nil {
		return store.Mailbox{}, err
	}
	mbox, err := c.srv.opts.Store.MailboxByName(ctx, c.acct.ID, name)
	if errors.Is(err, store.ErrNotFound) {
		return mbox, no("TRYCREATE", "No such mailbox")
	}
	return mbox, err
}

// readAppendLiteral reads the message literal under APPENDLIMIT. When the
// command is bound to fail (lookupErr), a synchronising literal is
// refused without its data; a non-synchronising one is on its way and is
// read, then dropped.
func (c *conn) readAppendLiteral(lookupErr error) ([]byte, error) {
	d := c.dec
	d.MaxLiteral = c.srv.opts.MaxAppendSize
	d.Literal = func(size int64, nonSync bool) error {
		if lookupErr != nil && !nonSync {
			return lookupErr
		}
		return c.acceptLiteral(size, nonSync)
	}
	defer func() {
		d.MaxLiteral = c.srv.opts.MaxLiteral
		d.Literal = c.acceptLiteral
	}()
	var raw []byte
	if d.LiteralBytes(&raw, true) {
		return raw, nil
	}
	err := d.Err()
	if err == nil {
		return nil, bad("", "Message literal expected")
	}
	var le *imapwire.LiteralError
	if errors.As(err, &le) && !le.NonSync {
		var re *replyError
		if errors.As(le.Err, &re) {
			return nil, re
		}
		if errors.Is(le.Err, imapwire.ErrTooBig) {
			return nil, no("TOOBIG", "Message exceeds APPENDLIMIT")
		}
	}
	return nil, err
}

// appendMessage stores raw in the blob store and adds it to mbox.
func (c *conn) appendMessage(ctx context.Context, mbox store.Mailbox, raw []byte, received time.Time, keywords []string) (store.MailboxEntry, error) {
	if len(raw) == 0 {
		return store.MailboxEntry{}, no("CANNOT", "Empty message")
	}
	id, size, err := c.srv.opts.Blobs.Put(ctx, bytes.NewReader(raw))
	if err != nil {
		return store.MailboxEntry{}, err
	}
	env, preview, hasAtt := message.Summarize(raw)
	return c.srv.opts.Store.Append(ctx, c.acct.ID, mbox.ID, store.NewMessage{
		BlobID: id, Size: size, ReceivedAt: received,
		Envelope: env, Preview: preview, HasAttachment: hasAtt,
		Keywords: keywords,
	})
}

// parseDateTime parses date-time (RFC 9051 §9): "dd-Mon-yyyy hh:mm:ss
// +zzzz", the day space- or zero-padded or one digit.
func parseDateTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	t, err := time.Parse("2-Jan-2006 15:04:05 -0700", s)
	if err != nil {
		t, err = time.Parse(internalDateLayout, s)
	}
	return t, err
}
