package storetest

import (
	"bytes"
	"testing"

	"freehold/internal/store"
)

// testBlobRows checks store.BlobRows: rows are found again, the first
// bytes under an id stay, deleting reports what it removed.
func testBlobRows(t *testing.T, s store.Store) {
	c := ctx(t)
	if _, ok, err := s.BlobRow(c, "none"); ok || err != nil {
		t.Fatalf("BlobRow of an unknown id: ok=%v err=%v", ok, err)
	}
	noErr(t, s.PutBlobs(c, []store.BlobRow{{ID: "a", Data: []byte("first")}, {ID: "b", Data: []byte{0, 1, 2, 255}}}))
	noErr(t, s.PutBlobs(c, []store.BlobRow{{ID: "a", Data: []byte("second")}}))
	for id, want := range map[string][]byte{"a": []byte("first"), "b": {0, 1, 2, 255}} {
		got, ok, err := s.BlobRow(c, id)
		if err != nil || !ok || !bytes.Equal(got, want) {
			t.Fatalf("BlobRow(%s) = %q, %v, %v; want %q", id, got, ok, err, want)
		}
	}
	if ok := must(s.DeleteBlobRow(c, "a"))(t); !ok {
		t.Fatal("DeleteBlobRow of a stored row reported none")
	}
	if ok := must(s.DeleteBlobRow(c, "a"))(t); ok {
		t.Fatal("DeleteBlobRow removed a row twice")
	}
	if _, ok, _ := s.BlobRow(c, "a"); ok {
		t.Fatal("deleted row still found")
	}
}

// testDeliverBlobs checks that Delivery.Blobs commit with the delivery,
// and not at all when it fails.
func testDeliverBlobs(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newAccount(t, s, "alice")
	m := msg("with body")
	row := store.BlobRow{ID: m.BlobID, Data: []byte("stored form")}
	must(s.Deliver(c, store.Delivery{Message: m, Targets: []store.DeliveryTarget{{Account: a.ID}}, Blobs: []store.BlobRow{row}}))(t)
	if got, ok, err := s.BlobRow(c, row.ID); err != nil || !ok || !bytes.Equal(got, row.Data) {
		t.Fatalf("blob of a delivery: %q, %v, %v", got, ok, err)
	}
	failed := store.BlobRow{ID: "failed-delivery-body", Data: []byte("x")}
	_, err := s.Deliver(c, store.Delivery{Message: msg("lost"), Targets: []store.DeliveryTarget{{Account: a.ID + 100}}, Blobs: []store.BlobRow{failed}})
	wantErr(t, err, store.ErrNotFound)
	if _, ok, _ := s.BlobRow(c, failed.ID); ok {
		t.Fatal("a failed delivery left its blob row")
	}
}
