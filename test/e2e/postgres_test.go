package e2e

import (
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"freehold/internal/testutil/pgtest"
)

// TestPostgresBackend runs the binary on PostgreSQL (the scaled mode's
// backend): a message delivered over the MX is read back over IMAP, and is
// still there after a restart.
func TestPostgresBackend(t *testing.T) {
	dsn := pgtest.Start(t)
	in := newInstance(t, buildBinary(t), "--postgres", dsn)
	in.start()
	if err := sendOne(in.ports["smtp"], in.user, "pg1@test"); err != nil {
		t.Fatalf("delivery: %v\n%s", err, in.logs.String())
	}
	in.stop()
	in.start()
	defer in.stop()

	c, err := imapclient.DialInsecure(in.ports["imap"], nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(in.user, in.password).Wait(); err != nil {
		t.Fatal(err)
	}
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if sel.NumMessages != 1 {
		t.Fatalf("INBOX has %d messages; want 1", sel.NumMessages)
	}
	msgs, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{Envelope: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Envelope.MessageID != "pg1@test" {
		t.Fatalf("fetched %+v", msgs)
	}
}
