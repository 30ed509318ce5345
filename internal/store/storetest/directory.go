package storetest

import (
	"slices"
	"testing"

	"freehold/internal/store"
)

func testDomains(t *testing.T, s store.Store) {
	c := ctx(t)
	noErr(t, s.AddDomain(c, "Example.ORG"))
	noErr(t, s.AddDomain(c, "b.example"))
	wantErr(t, s.AddDomain(c, "example.org"), store.ErrExists)
	wantErr(t, s.AddDomain(c, "bad domain"), store.ErrInvalid)
	for _, name := range []string{"example.org", "EXAMPLE.org"} {
		if ok := must(s.HasDomain(c, name))(t); !ok {
			t.Fatalf("HasDomain(%q) = false", name)
		}
	}
	if ok := must(s.HasDomain(c, "other.example"))(t); ok {
		t.Fatal("HasDomain(other.example) = true")
	}
	ds := must(s.Domains(c))(t)
	if len(ds) != 2 || ds[0].Name != "b.example" || ds[1].Name != "example.org" || ds[0].Created.IsZero() {
		t.Fatalf("Domains = %+v", ds)
	}
	newAccount(t, s, "alice")
	wantErr(t, s.RemoveDomain(c, "example.org"), store.ErrInvalid)
	wantErr(t, s.RemoveDomain(c, "none.example"), store.ErrNotFound)
	noErr(t, s.RemoveDomain(c, "b.example"))
	if ok := must(s.HasDomain(c, "b.example"))(t); ok {
		t.Fatal("removed domain still there")
	}
}

func testAccounts(t *testing.T, s store.Store) {
	c := ctx(t)
	_, err := s.CreateAccount(c, store.NewAccount{Address: "x@unknown.example"})
	wantErr(t, err, store.ErrInvalid)
	a := newAccount(t, s, "Alice")
	if a.ID == 0 || a.Address != "alice@example.org" || a.Created.IsZero() {
		t.Fatalf("CreateAccount = %+v", a)
	}
	_, err = s.CreateAccount(c, store.NewAccount{Address: "ALICE@example.org"})
	wantErr(t, err, store.ErrExists)
	b := newAccount(t, s, "bob")

	got := must(s.AccountByAddress(c, "ALICE@Example.org"))(t)
	if got.ID != a.ID || got.PasswordHash != "$argon2id$x" || !got.Created.Equal(a.Created) {
		t.Fatalf("AccountByAddress = %+v, want %+v", got, a)
	}
	_, err = s.AccountByAddress(c, "carol@example.org")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.Account(c, b.ID+100)
	wantErr(t, err, store.ErrNotFound)

	noErr(t, s.SetPassword(c, a.ID, "$argon2id$y"))
	noErr(t, s.SetQuota(c, a.ID, 1<<20))
	got = must(s.Account(c, a.ID))(t)
	if got.PasswordHash != "$argon2id$y" || got.QuotaBytes != 1<<20 {
		t.Fatalf("after updates: %+v", got)
	}
	wantErr(t, s.SetPassword(c, b.ID+100, "h"), store.ErrNotFound)
	wantErr(t, s.SetQuota(c, b.ID+100, 1), store.ErrNotFound)

	m := msg("usage")
	must(s.Append(c, a.ID, mailboxNamed(t, s, a.ID, "INBOX").ID, m))(t)
	u := must(s.AccountUsage(c, a.ID))(t)
	if u.Messages != 1 || u.Bytes != m.Size {
		t.Fatalf("AccountUsage = %+v", u)
	}
	all := must(s.Accounts(c))(t)
	if len(all) != 2 || all[0].ID != a.ID || all[0].Messages != 1 || all[0].Bytes != m.Size || all[1].ID != b.ID || all[1].Messages != 0 {
		t.Fatalf("Accounts = %+v", all)
	}
}

func testAliases(t *testing.T, s store.Store) {
	c := ctx(t)
	newAccount(t, s, "alice")
	noErr(t, s.SetAlias(c, store.Alias{Address: "Info@example.org", Targets: []string{"alice@example.org", "x@remote.example"}}))
	noErr(t, s.SetAlias(c, store.Alias{Address: "@example.org", Targets: []string{"alice@example.org"}}))
	wantErr(t, s.SetAlias(c, store.Alias{Address: "empty@example.org"}), store.ErrInvalid)
	a := must(s.Alias(c, "info@EXAMPLE.org"))(t)
	if a.Address != "info@example.org" || !slices.Equal(a.Targets, []string{"alice@example.org", "x@remote.example"}) {
		t.Fatalf("Alias = %+v", a)
	}
	noErr(t, s.SetAlias(c, store.Alias{Address: "info@example.org", Targets: []string{"bob@example.org"}}))
	a = must(s.Alias(c, "info@example.org"))(t)
	if !slices.Equal(a.Targets, []string{"bob@example.org"}) {
		t.Fatalf("replaced alias = %+v", a)
	}
	all := must(s.Aliases(c))(t)
	if len(all) != 2 || all[0].Address != "@example.org" || all[1].Address != "info@example.org" {
		t.Fatalf("Aliases = %+v", all)
	}
	noErr(t, s.RemoveAlias(c, "info@example.org"))
	_, err := s.Alias(c, "info@example.org")
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.RemoveAlias(c, "info@example.org"), store.ErrNotFound)
}

func testDeleteAccount(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newAccount(t, s, "alice")
	b := newAccount(t, s, "bob")
	inbox := mailboxNamed(t, s, a.ID, "INBOX")
	appendN(t, s, a.ID, inbox.ID, 3)
	appendN(t, s, b.ID, mailboxNamed(t, s, b.ID, "INBOX").ID, 1)
	noErr(t, s.DeleteAccount(c, a.ID))
	wantErr(t, s.DeleteAccount(c, a.ID), store.ErrNotFound)
	_, err := s.Account(c, a.ID)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.AccountByAddress(c, "alice@example.org")
	wantErr(t, err, store.ErrNotFound)
	if mbs := must(s.Mailboxes(c, a.ID))(t); len(mbs) != 0 {
		t.Fatalf("deleted account still has mailboxes %+v", mbs)
	}
	_, err = s.Entries(c, a.ID, inbox.ID)
	wantErr(t, err, store.ErrNotFound)
	if u := must(s.AccountUsage(c, b.ID))(t); u.Messages != 1 {
		t.Fatalf("other account's usage changed: %+v", u)
	}
	// The address can be used again, for a new account.
	a2 := newAccount(t, s, "alice")
	if a2.ID == a.ID {
		t.Fatal("account id reused")
	}
	if es := must(s.Entries(c, a2.ID, mailboxNamed(t, s, a2.ID, "INBOX").ID))(t); len(es) != 0 {
		t.Fatalf("new account sees old mail: %+v", es)
	}
}
