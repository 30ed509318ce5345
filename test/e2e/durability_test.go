package e2e

import (
	"fmt"
	"net/smtp"
	"strings"
	"sync"
	"testing"
	"time"

	"freehold/internal/app"
	"freehold/internal/config"
	"freehold/internal/store"
)

// TestKillDuringIngest delivers a stream of messages over several
// connections, kills the server with SIGKILL mid-stream, restarts it and
// checks that every message that got 250 is stored exactly once and that
// nothing is stored twice.
func TestKillDuringIngest(t *testing.T) {
	in := newInstance(t, buildBinary(t))
	in.start()

	var (
		mu    sync.Mutex
		acked = map[string]bool{}
		wg    sync.WaitGroup
		stop  = make(chan struct{})
	)
	const senders = 8
	for s := 0; s < senders; s++ {
		wg.Add(1)
		go func(s int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("k%d.%d@test", s, i)
				if err := sendOne(in.ports["smtp"], in.user, id); err != nil {
					// The server is gone; the message was not acknowledged.
					select {
					case <-stop:
						return
					default:
						time.Sleep(10 * time.Millisecond)
						continue
					}
				}
				mu.Lock()
				acked[id] = true
				mu.Unlock()
			}
		}(s)
	}
	// Let some messages through, then kill without warning.
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 300 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	in.kill()
	close(stop)
	wg.Wait()
	if len(acked) == 0 {
		t.Fatalf("no message was acknowledged before the kill; logs:\n%s", in.logs.String())
	}

	// The server must start again on the same data, and stop cleanly.
	in.start()
	in.stop()

	cfg, err := config.Load(in.cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	st, _, err := app.OpenStorage(ctx, cfg)
	if err != nil {
		t.Fatalf("store does not open after SIGKILL: %v", err)
	}
	defer st.Close()
	acct, err := st.AccountByAddress(ctx, in.user)
	if err != nil {
		t.Fatal(err)
	}
	inbox, err := st.MailboxByName(ctx, acct.ID, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	entries, err := st.Entries(ctx, acct.ID, inbox.ID)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]store.MessageID, len(entries))
	for i, e := range entries {
		ids[i] = e.MessageID
	}
	msgs, err := st.Messages(ctx, acct.ID, ids)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, m := range msgs {
		count[m.Envelope.MessageID]++
	}
	for id, n := range count {
		if n > 1 {
			t.Errorf("message %s stored %d times", id, n)
		}
	}
	for id := range acked {
		if count[id] != 1 {
			t.Errorf("acknowledged message %s stored %d times", id, count[id])
		}
	}
	t.Logf("%d messages acknowledged before SIGKILL, %d stored", len(acked), len(msgs))
}

// sendOne delivers one small message over the MX and returns nil only if
// the server answered 250 to the end of DATA.
func sendOne(addr, rcpt, msgID string) error {
	return sendPlain(addr, "someone@sender.test", rcpt, msgID)
}

// sendPlain sends one small message without TLS.
func sendPlain(addr, from, rcpt, msgID string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("sender.test"); err != nil {
		return err
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(rcpt); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	body := "From: " + from + "\r\nTo: " + rcpt + "\r\nSubject: durability\r\nMessage-ID: <" + msgID + ">\r\n\r\n" +
		strings.Repeat("All work and no play.\r\n", 40)
	if _, err := w.Write([]byte(body)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}
