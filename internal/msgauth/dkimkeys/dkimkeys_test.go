package dkimkeys_test

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"freehold/internal/dnsutil"
	"freehold/internal/msgauth"
	"freehold/internal/msgauth/dkimkeys"
	"freehold/internal/store"
	"freehold/internal/store/sqlite"
	"freehold/internal/testutil/dnstest"
)

func TestKeyLifecycle(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.OpenStore(ctx, filepath.Join(t.TempDir(), "db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	day := time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)
	m := &dkimkeys.Manager{Keys: st, Now: func() time.Time { return day }}
	srv := dnstest.New(t)
	r, err := dnsutil.New(dnsutil.Options{Server: srv.Addr, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	publish := func(keys []store.DKIMKey) {
		for _, k := range keys {
			txt, err := dkimkeys.TXTRecord(k)
			if err != nil {
				t.Fatal(err)
			}
			srv.AddTXT(k.Selector+"._domainkey."+k.Domain+".", txt)
		}
	}

	first, err := m.Generate(ctx, "Example.ORG")
	if err != nil || len(first) != 2 {
		t.Fatalf("generate: %v %v", first, err)
	}
	if first[0].Selector != "fh20260315e" || first[1].Selector != "fh20260315r" || first[0].State != store.DKIMActive {
		t.Fatalf("selectors/state: %+v", first)
	}
	if again, err := m.Generate(ctx, "example.org"); err != nil || again != nil {
		t.Fatalf("second Generate made keys: %v %v", again, err)
	}
	publish(first)

	ring := dkimkeys.NewKeyring(st, time.Nanosecond)
	signer := msgauth.NewSigner(ring)
	verifier := msgauth.NewVerifier(msgauth.VerifierOptions{Resolver: r, Hostname: "mx.test"})
	msg := []byte("From: a@example.org\r\nSubject: s\r\n\r\nbody\r\n")
	check := func(wantSelectors ...string) {
		t.Helper()
		sig, err := signer.Sign(ctx, msg)
		if err != nil {
			t.Fatal(err)
		}
		res := verifier.Verify(ctx, msgauth.In{RemoteIP: netip.MustParseAddr("192.0.2.1"), HELO: "h", Raw: append(sig, msg...)})
		var got []string
		for _, d := range res.DKIM {
			if d.Result != "pass" {
				t.Errorf("signature %s: %s %v", d.Selector, d.Result, d.Err)
			}
			got = append(got, d.Selector)
		}
		if strings.Join(got, " ") != strings.Join(wantSelectors, " ") {
			t.Errorf("signed by %v, want %v", got, wantSelectors)
		}
	}
	check("fh20260315e", "fh20260315r")

	// Rotation: the new keys wait for DNS before they sign.
	rotated, err := m.Rotate(ctx, "example.org")
	if err != nil || rotated[0].State != store.DKIMPending || rotated[0].Selector != "fh20260315e2" {
		t.Fatalf("rotate: %+v %v", rotated, err)
	}
	if ok, err := m.ActivatePublished(ctx, r, "example.org"); ok || err != nil {
		t.Fatalf("activated unpublished keys: %v %v", ok, err)
	}
	check("fh20260315e", "fh20260315r")
	publish(rotated)
	if ok, err := m.ActivatePublished(ctx, r, "example.org"); !ok || err != nil {
		t.Fatalf("published keys not activated: %v %v", ok, err)
	}
	check("fh20260315e2", "fh20260315r2")
	keys, _ := st.DKIMKeyList(ctx, "example.org")
	states := map[string]store.DKIMKeyState{}
	for _, k := range keys {
		states[k.Selector] = k.State
	}
	if states["fh20260315e"] != store.DKIMRetiring || states["fh20260315r2"] != store.DKIMActive {
		t.Fatalf("states after activation: %v", states)
	}
	// Retire removes retiring keys only; an active one is refused.
	if _, err := m.Retire(ctx, "example.org", "fh20260315e2"); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("retired an active key: %v", err)
	}
	if n, err := m.Retire(ctx, "example.org", ""); n != 2 || err != nil {
		t.Fatalf("retire: %d %v", n, err)
	}
	if keys, _ := st.DKIMKeyList(ctx, "example.org"); len(keys) != 2 {
		t.Fatalf("%d keys left", len(keys))
	}
	if _, err := m.Retire(ctx, "example.org", "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	// A domain without keys is not signed.
	if keys, err := ring.SigningKeys(ctx, "other.example"); err != nil || len(keys) != 0 {
		t.Fatal(keys, err)
	}
}
