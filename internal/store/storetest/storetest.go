// Package storetest is the conformance suite every store.Store backend
// passes. A backend's test calls Run with a function that opens a new,
// empty store; the suite closes each store it opens.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"freehold/internal/blob"
	"freehold/internal/store"
)

// Run runs the whole suite, each test on a store of its own.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Domains", testDomains},
		{"Accounts", testAccounts},
		{"Aliases", testAliases},
		{"DefaultMailboxes", testDefaultMailboxes},
		{"CreateMailbox", testCreateMailbox},
		{"SetSubscribed", testSetSubscribed},
		{"Append", testAppend},
		{"Deliver", testDeliver},
		{"DeliverAtomic", testDeliverAtomic},
		{"DeliverOutbound", testDeliverOutbound},
		{"DeliverBlobs", testDeliverBlobs},
		{"BlobRows", testBlobRows},
		{"Copy", testCopy},
		{"Move", testMove},
		{"CopyIntoSameMailbox", testCopySame},
		{"UpdateKeywords", testUpdateKeywords},
		{"UnchangedSince", testUnchangedSince},
		{"Expunge", testExpunge},
		{"MailboxChanges", testMailboxChanges},
		{"ChangesOrder", testChangesOrder},
		{"ChangesPruned", testChangesPruned},
		{"HighestModSeqMonotonic", testHighestModSeq},
		{"Listen", testListen},
		{"Threads", testThreads},
		{"Quota", testQuota},
		{"DeleteMailbox", testDeleteMailbox},
		{"RenameMailbox", testRenameMailbox},
		{"RenameInbox", testRenameInbox},
		{"DeleteAccount", testDeleteAccount},
		{"Queue", testQueue},
		{"ConcurrentDeliver", testConcurrentDeliver},
		{"SubmissionQueue", testSubmissionQueue},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			tc.fn(t, s)
		})
	}
}

// ctx returns a context that ends with the test.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

// must returns v, failing the test if err is set: must(s.X(...))(t).
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want %v", err, target)
	}
}

// newAccount creates domain (if needed) and an account local@example.org.
func newAccount(t *testing.T, s store.Store, local string) store.Account {
	t.Helper()
	c := ctx(t)
	if ok, err := s.HasDomain(c, "example.org"); err != nil {
		t.Fatal(err)
	} else if !ok {
		noErr(t, s.AddDomain(c, "example.org"))
	}
	return must(s.CreateAccount(c, store.NewAccount{Address: local + "@example.org", PasswordHash: "$argon2id$x"}))(t)
}

func mailboxNamed(t *testing.T, s store.Store, acct store.AccountID, name string) store.Mailbox {
	t.Helper()
	return must(s.MailboxByName(ctx(t), acct, name))(t)
}

// msg builds a NewMessage whose blob id is the hash of a body made from
// subject, as a real caller's would be.
func msg(subject string) store.NewMessage {
	body := "Subject: " + subject + "\r\n\r\nbody of " + subject + "\r\n"
	return store.NewMessage{
		BlobID:     blob.Sum([]byte(body)),
		Size:       int64(len(body)),
		ReceivedAt: time.Date(2025, 3, 4, 5, 6, 7, 8000, time.UTC),
		Envelope: store.Envelope{
			Subject:   subject,
			MessageID: subject + "@example.net",
		},
		Preview: "body of " + subject,
	}
}

// appendN appends n messages to a mailbox and returns their entries.
func appendN(t *testing.T, s store.Store, acct store.AccountID, mb store.MailboxID, n int, kw ...string) []store.MailboxEntry {
	t.Helper()
	var out []store.MailboxEntry
	for i := range n {
		m := msg(fmt.Sprintf("m%d-%d-%d", acct, mb, time.Now().UnixNano()+int64(i)))
		m.Keywords = kw
		out = append(out, must(s.Append(ctx(t), acct, mb, m))(t))
	}
	return out
}

func entryUIDs(es []store.MailboxEntry) []store.UID {
	out := make([]store.UID, len(es))
	for i, e := range es {
		out[i] = e.UID
	}
	return out
}

func uids(t *testing.T, s store.Store, acct store.AccountID, mb store.MailboxID) []store.UID {
	t.Helper()
	return entryUIDs(must(s.Entries(ctx(t), acct, mb))(t))
}

func status(t *testing.T, s store.Store, acct store.AccountID, mb store.MailboxID) store.MailboxStatus {
	t.Helper()
	return must(s.MailboxStatus(ctx(t), acct, mb))(t)
}

func equalUIDs(t *testing.T, what string, got, want []store.UID) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s: got UIDs %v, want %v", what, got, want)
	}
}

// hasChange reports whether cs holds a change of that kind, op and id.
func hasChange(cs []store.Change, kind store.ChangeKind, op store.ChangeOp, id int64) bool {
	return slices.ContainsFunc(cs, func(c store.Change) bool { return c.Kind == kind && c.Op == op && c.ID == id })
}
