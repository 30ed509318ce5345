package jmap

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

type emailImportArgs struct {
	AccountID string                     `json:"accountId"`
	IfInState *string                    `json:"ifInState"`
	Emails    map[string]json.RawMessage `json:"emails"`
}

type emailImportObj struct {
	BlobID     string          `json:"blobId"`
	MailboxIDs json.RawMessage `json:"mailboxIds"`
	Keywords   json.RawMessage `json:"keywords"`
	ReceivedAt *string         `json:"receivedAt"`
}

// emailImport implements Email/import (RFC 8621 §4.8): uploaded blobs
// become Emails.
func emailImport(ctx context.Context, c *call) (any, error) {
	var a emailImportArgs
	if err := c.decode(&a); err != nil {
		return nil, err
	}
	_, state, err := c.state(ctx)
	if err != nil {
		return nil, err
	}
	sa := setArgs{AccountID: a.AccountID, IfInState: a.IfInState, Create: a.Emails}
	if err := c.checkSet(&sa, state); err != nil {
		return nil, err
	}
	created := map[string]any{}
	notCreated := map[string]*SetError{}
	for _, cid := range sortedKeys(a.Emails) {
		obj, se := c.importOne(ctx, a.Emails[cid])
		if se != nil {
			notCreated[cid] = se
			continue
		}
		c.req.created[cid] = obj["id"].(string)
		created[cid] = obj
	}
	_, newState, err := c.state(ctx)
	if err != nil {
		return nil, err
	}
	return map[string]any{"accountId": a.AccountID, "oldState": state, "newState": newState,
		"created": created, "notCreated": notCreated}, nil
}

func (c *call) importOne(ctx context.Context, raw json.RawMessage) (map[string]any, *SetError) {
	var o emailImportObj
	if json.Unmarshal(raw, &o) != nil || o.BlobID == "" {
		return nil, invalidProps("needs blobId and mailboxIds", "blobId")
	}
	mboxes, se := c.mailboxSet(ctx, o.MailboxIDs)
	if se != nil {
		return nil, se
	}
	kw, se := keywordSet(o.Keywords)
	if se != nil {
		return nil, se
	}
	received := c.s.now()
	if o.ReceivedAt != nil {
		t, err := time.Parse(time.RFC3339, *o.ReceivedAt)
		if err != nil {
			return nil, invalidProps("bad receivedAt", "receivedAt")
		}
		received = t
	}
	id, _ := c.resolveID(o.BlobID)
	data, err := c.s.openBlob(ctx, c.acct().ID, id)
	if errors.Is(err, errBlobNotFound) {
		return nil, &SetError{Type: setBlobNotFound, NotFound: []string{o.BlobID}}
	}
	if err != nil {
		return nil, &SetError{Type: setForbidden, Description: "the blob could not be read"}
	}
	if len(data) == 0 {
		return nil, &SetError{Type: setInvalidEmail, Description: "the blob is empty"}
	}
	return c.storeMessage(ctx, data, mboxes, kw, received)
}

type emailCopyArgs struct {
	FromAccountID string `json:"fromAccountId"`
	AccountID     string `json:"accountId"`
}

// emailCopy implements Email/copy (RFC 8621 §4.7, RFC 8620 §5.4). /copy
// moves records between two different accounts; a user here has one
// account and no shared ones, so no call can name a valid source.
func emailCopy(_ context.Context, c *call) (any, error) {
	var a emailCopyArgs
	if err := c.decode(&a); err != nil {
		return nil, err
	}
	if err := c.checkAccount(a.AccountID); err != nil {
		return nil, err
	}
	if a.FromAccountID == a.AccountID {
		return nil, invalidArgs("fromAccountId must differ from accountId")
	}
	return nil, methodErr(errFromAccountNotFound, "no such account")
}

type emailParseArgs struct {
	emailGetArgs
	BlobIDs []string `json:"blobIds"`
}

// emailParseProps are the properties Email/parse can return (RFC 8621
// §4.9): those of a message that is not stored.
var emailParseProps = []string{"messageId", "inReplyTo", "references", "sender", "from", "to", "cc",
	"bcc", "replyTo", "subject", "sentAt", "hasAttachment", "preview", "bodyValues", "textBody",
	"htmlBody", "attachments", "headers", "bodyStructure", "blobId", "size"}

var defaultParseProps = []string{"messageId", "inReplyTo", "references", "sender", "from", "to", "cc",
	"bcc", "replyTo", "subject", "sentAt", "hasAttachment", "preview", "bodyValues", "textBody",
	"htmlBody", "attachments"}

// emailParse implements Email/parse (RFC 8621 §4.9).
func emailParse(ctx context.Context, c *call) (any, error) {
	var a emailParseArgs
	if err := c.decode(&a); err != nil {
		return nil, err
	}
	if err := c.checkAccount(a.AccountID); err != nil {
		return nil, err
	}
	if len(a.BlobIDs) > c.s.limits.MaxObjectsInGet {
		return nil, methodErr(errRequestTooLarge, "too many blobIds")
	}
	view, err := newEmailView(&a.emailGetArgs, emailParseProps, defaultParseProps)
	if err != nil {
		return nil, err
	}
	parsed := map[string]any{}
	var notFound, notParsable []string
	for _, raw := range a.BlobIDs {
		id, _ := c.resolveID(raw)
		data, err := c.s.openBlob(ctx, c.acct().ID, id)
		if errors.Is(err, errBlobNotFound) {
			notFound = append(notFound, raw)
			continue
		}
		if err != nil {
			return nil, err
		}
		if len(data) == 0 {
			notParsable = append(notParsable, raw)
			continue
		}
		base := ""
		if pb, ok := parseBlobID(id); ok && pb.whole != "" {
			base = pb.whole
		}
		obj, err := c.s.renderEmail(ctx, view, nil, data, base)
		if err != nil {
			return nil, err
		}
		if view.props["blobId"] {
			obj["blobId"] = raw
		}
		if view.props["size"] {
			obj["size"] = len(data)
		}
		parsed[raw] = obj
	}
	return map[string]any{"accountId": a.AccountID, "parsed": parsed,
		"notParsable": nonNilStrings(notParsable), "notFound": nonNilStrings(notFound)}, nil
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
