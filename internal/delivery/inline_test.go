package delivery

import (
	"bytes"
	"context"
	"testing"

	"freehold/internal/blob"
	"freehold/internal/blob/memblob"
)

// inliner is a blob.Inliner over memblob whose stored form is the raw
// bytes, inline up to max bytes.
type inliner struct {
	*memblob.Store
	max int
}

func (s inliner) Encode(raw []byte) (blob.ID, []byte, bool) {
	return blob.Sum(raw), raw, len(raw) <= s.max
}

func (s inliner) PutEncoded(ctx context.Context, _ blob.ID, data []byte) error {
	_, _, err := s.Put(ctx, bytes.NewReader(data))
	return err
}

var _ blob.Inliner = inliner{}

// TestDeliverInline checks that with a blob store that keeps small blobs
// in the database, a delivery carries its bodies in store.Delivery.Blobs
// (one commit for body and message) instead of putting them first, and
// that a large body is still put.
func TestDeliverInline(t *testing.T) {
	env := Envelope{
		From: "x@example.org",
		Recipients: []Recipient{
			{Address: "alice@example.org", Route: Route{Local: []LocalTarget{{1, "alice@example.org"}}}},
			{Address: "carol@remote.example", Route: Route{Remote: []string{"carol@remote.example"}}},
		},
		Trace: testTrace,
	}
	for _, tc := range []struct {
		name  string
		max   int
		puts  int
		blobs int
	}{
		{"small", 1 << 20, 0, 2},
		{"large", 16, 2, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, bl := &recStore{}, inliner{memblob.New(), tc.max}
			d, err := NewDeliverer(DelivererOptions{Target: st, Blobs: bl, Hostname: "mx.example.org"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := d.Deliver(context.Background(), env, []byte(testMsg)); err != nil {
				t.Fatal(err)
			}
			if len(st.deliveries) != 1 {
				t.Fatalf("%d deliveries", len(st.deliveries))
			}
			dl := st.deliveries[0]
			if bl.Puts() != tc.puts || len(dl.Blobs) != tc.blobs {
				t.Fatalf("puts %d, inline blobs %d; want %d and %d", bl.Puts(), len(dl.Blobs), tc.puts, tc.blobs)
			}
			if dl.Outbound == nil {
				t.Fatal("remote recipient not queued with the delivery")
			}
			if tc.blobs > 0 {
				local, out := dl.Blobs[0], dl.Blobs[1]
				if local.ID != dl.Message.BlobID || out.ID != dl.Outbound.BlobID || local.ID == out.ID {
					t.Fatalf("blob rows %s, %s for message %s and queue entry %s",
						local.ID[:8], out.ID[:8], dl.Message.BlobID[:8], dl.Outbound.BlobID[:8])
				}
				if blob.Sum(local.Data) != local.ID || int64(len(local.Data)) != dl.Message.Size {
					t.Fatal("the local copy's row is not its stored form")
				}
			}
		})
	}
}
