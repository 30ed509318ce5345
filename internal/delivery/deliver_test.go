package delivery

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"freehold/internal/blob"
	"freehold/internal/blob/memblob"
	"freehold/internal/store"
)

// blobText returns a stored blob's bytes as text.
func blobText(t *testing.T, bl *memblob.Store, id string) string {
	t.Helper()
	b, err := blob.ReadAll(context.Background(), bl, id)
	if err != nil {
		t.Fatalf("reading blob %s: %v", id, err)
	}
	return string(b)
}

// recStore records deliveries and queue entries.
type recStore struct {
	deliveries []store.Delivery
	enqueued   []store.OutboundMessage
	err        error
}

func (s *recStore) Deliver(_ context.Context, d store.Delivery) ([]store.Delivered, error) {
	if s.err != nil {
		return nil, s.err
	}
	s.deliveries = append(s.deliveries, d)
	var out []store.Delivered
	for i, t := range d.Targets {
		out = append(out, store.Delivered{Account: t.Account, UID: store.UID(i + 1)})
	}
	return out, nil
}

func (s *recStore) Enqueue(_ context.Context, m store.OutboundMessage) (store.QueueID, error) {
	s.enqueued = append(s.enqueued, m)
	return store.QueueID(len(s.enqueued)), nil
}

var testTrace = Trace{
	ID: "c1-1", Helo: "client.example", RemoteIP: netip.MustParseAddr("192.0.2.7"),
	Protocol: "ESMTPS", TLSVersion: "TLS 1.3", TLSCipher: "TLS_AES_128_GCM_SHA256",
	Time: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
}

const testMsg = "From: x@remote.example\r\nSubject: hi\r\nMessage-ID: <m1@remote.example>\r\n\r\nbody\r\n"

func newTestDeliverer(t *testing.T) (*Deliverer, *recStore, *memblob.Store) {
	t.Helper()
	st, bl := &recStore{}, memblob.New()
	d, err := NewDeliverer(DelivererOptions{Target: st, Blobs: bl, Hostname: "mx.example.org"})
	if err != nil {
		t.Fatal(err)
	}
	return d, st, bl
}

func TestDeliverStoresOnceForSeveralAccounts(t *testing.T) {
	d, st, bl := newTestDeliverer(t)
	env := Envelope{
		From: "x@remote.example",
		Recipients: []Recipient{
			{Address: "alice@example.org", Route: Route{Local: []LocalTarget{{1, "alice@example.org"}}}},
			{Address: "team@example.org", Route: Route{Local: []LocalTarget{{1, "alice@example.org"}, {2, "bob@example.org"}}}},
		},
		Trace: testTrace,
	}
	res, err := d.Deliver(context.Background(), env, []byte(testMsg))
	if err != nil {
		t.Fatal(err)
	}
	if bl.Puts() != 1 || len(st.deliveries) != 1 {
		t.Fatalf("puts %d, deliveries %d; want 1 and 1", bl.Puts(), len(st.deliveries))
	}
	dl := st.deliveries[0]
	if len(dl.Targets) != 2 || dl.Targets[0].Account != 1 || dl.Targets[1].Account != 2 {
		t.Errorf("targets %+v", dl.Targets)
	}
	if dl.Outbound != nil || len(st.enqueued) != 0 {
		t.Error("nothing should be queued")
	}
	stored := blobText(t, bl, res.Blob)
	want := "Return-Path: <x@remote.example>\r\n" +
		"Received: from client.example ([192.0.2.7])\r\n" +
		"\tby mx.example.org (Freehold) with ESMTPS id c1-1\r\n" +
		"\t(TLS 1.3, TLS_AES_128_GCM_SHA256);\r\n" +
		"\tSun, 01 Mar 2026 12:00:00 +0000\r\n" + testMsg
	if stored != want {
		t.Errorf("stored form:\n%s\nwant:\n%s", stored, want)
	}
	if dl.Message.Size != int64(len(want)) || dl.Message.Envelope.Subject != "hi" || dl.Message.Preview != "body" {
		t.Errorf("message %+v", dl.Message)
	}
	if res.MessageID != "m1@remote.example" {
		t.Errorf("message id %q", res.MessageID)
	}
}

func TestDeliverForClauseOnlyForOneRecipient(t *testing.T) {
	d, _, bl := newTestDeliverer(t)
	env := Envelope{
		From:       "",
		Recipients: []Recipient{{Address: "alice+tag@example.org", Route: Route{Local: []LocalTarget{{1, "alice@example.org"}}}}},
		Trace:      testTrace,
	}
	res, err := d.Deliver(context.Background(), env, []byte(testMsg))
	if err != nil {
		t.Fatal(err)
	}
	s := blobText(t, bl, res.Blob)
	if !strings.HasPrefix(s, "Return-Path: <>\r\n") || !strings.Contains(s, "\tfor <alice+tag@example.org>;\r\n") {
		t.Errorf("stored form:\n%s", s)
	}
}

func TestDeliverLocalAndRemoteInOneCall(t *testing.T) {
	d, st, bl := newTestDeliverer(t)
	env := Envelope{
		From:    "alice@example.org",
		Account: 1,
		Recipients: []Recipient{
			{Address: "bob@example.org", Route: Route{Local: []LocalTarget{{2, "bob@example.org"}}}},
			{Address: "r@remote.example", Route: Route{Remote: []string{"r@remote.example"}}, Notify: "FAILURE"},
			{Address: "fwd@example.org", Route: Route{Remote: []string{"R@remote.example", "s@remote.example"}}},
		},
		Trace: testTrace,
	}
	if _, err := d.Deliver(context.Background(), env, []byte(testMsg)); err != nil {
		t.Fatal(err)
	}
	if len(st.deliveries) != 1 || len(st.enqueued) != 0 {
		t.Fatalf("deliveries %d, enqueued %d", len(st.deliveries), len(st.enqueued))
	}
	ob := st.deliveries[0].Outbound
	if ob == nil || ob.Account != 1 || ob.MailFrom != "alice@example.org" || len(ob.Recipients) != 2 {
		t.Fatalf("outbound %+v", ob)
	}
	if ob.Recipients[0].Notify != "FAILURE" || ob.Recipients[1].ORcpt != "rfc822;fwd@example.org" {
		t.Errorf("recipients %+v", ob.Recipients)
	}
	out := blobText(t, bl, ob.BlobID)
	if strings.Contains(out, "Return-Path") || !strings.HasPrefix(out, "Received: ") {
		t.Errorf("outbound form must have Received but no Return-Path:\n%s", out)
	}
}

func TestDeliverRemoteOnlyEnqueues(t *testing.T) {
	d, st, _ := newTestDeliverer(t)
	env := Envelope{
		From:       "alice@example.org",
		Recipients: []Recipient{{Address: "r@remote.example", Route: Route{Remote: []string{"r@remote.example"}}}},
		Trace:      testTrace,
	}
	res, err := d.Deliver(context.Background(), env, []byte(testMsg))
	if err != nil {
		t.Fatal(err)
	}
	if len(st.deliveries) != 0 || len(st.enqueued) != 1 || res.Queue != 1 {
		t.Errorf("deliveries %d, enqueued %d, queue %d", len(st.deliveries), len(st.enqueued), res.Queue)
	}
}

func TestDeliverPassesStoreErrors(t *testing.T) {
	d, st, _ := newTestDeliverer(t)
	st.err = &store.DeliveryError{Account: 2, Err: store.ErrQuotaExceeded}
	env := Envelope{Recipients: []Recipient{{Address: "bob@example.org", Route: Route{Local: []LocalTarget{{2, "bob@example.org"}}}}}, Trace: testTrace}
	_, err := d.Deliver(context.Background(), env, []byte(testMsg))
	if !errors.Is(err, store.ErrQuotaExceeded) {
		t.Errorf("err %v", err)
	}
}

func TestReceivedSanitisesClientValues(t *testing.T) {
	tr := testTrace
	tr.Helo = "evil\r\nX-Injected: yes"
	tr.TLSVersion = ""
	tr.RemoteIP = netip.MustParseAddr("2001:db8::1")
	h := string(tr.header("mx.example.org", "a@b.example>\r\nX: y"))
	if strings.Count(h, "\n") != strings.Count(h, "\r\n") || strings.Count(h, "\r") != strings.Count(h, "\r\n") {
		t.Errorf("bare CR or LF in header:\n%q", h)
	}
	if !strings.HasPrefix(h, "Received: from [IPv6:2001:db8::1] ([IPv6:2001:db8::1])\r\n") {
		t.Errorf("bad helo should give the address literal:\n%s", h)
	}
	for _, line := range strings.Split(strings.TrimSuffix(h, "\r\n"), "\r\n")[1:] {
		if !strings.HasPrefix(line, "\t") {
			t.Errorf("continuation line %q not folded", line)
		}
	}
}

func TestProtocol(t *testing.T) {
	for _, c := range []struct {
		ehlo, tls, auth, utf8 bool
		want                  string
	}{
		{false, false, false, false, "SMTP"},
		{true, false, false, false, "ESMTP"},
		{true, true, false, false, "ESMTPS"},
		{true, true, true, false, "ESMTPSA"},
		{true, true, true, true, "UTF8SMTPSA"},
	} {
		if got := Protocol(c.ehlo, c.tls, c.auth, c.utf8); got != c.want {
			t.Errorf("%+v: %s", c, got)
		}
	}
}
