package imapserver

import (
	"context"
	"strings"
	"sync"

	"freehold/internal/store"
)

// hub wakes idling connections when their account changes. It holds one
// store.Listen subscription per account with idlers, however many
// connections idle on it, and wakes a connection by interrupting its
// blocked read (see wakeReader): an idle connection costs no goroutine
// of its own beyond its reader.
type hub struct {
	cl store.ChangeLog

	mu       sync.Mutex // guards following
	accounts map[store.AccountID]*watch
	closed   bool
}

// watch is one account's subscription and its idlers.
type watch struct {
	cancel context.CancelFunc
	conns  map[*conn]struct{}
}

func newHub(cl store.ChangeLog) *hub {
	return &hub{cl: cl, accounts: map[store.AccountID]*watch{}}
}

// join registers c as idling on its account.
func (h *hub) join(c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	w := h.accounts[c.acct.ID]
	if w == nil {
		ctx, cancel := context.WithCancel(context.Background())
		w = &watch{cancel: cancel, conns: map[*conn]struct{}{}}
		h.accounts[c.acct.ID] = w
		ch := h.cl.Listen(ctx, c.acct.ID)
		go h.run(w, ch)
	}
	w.conns[c] = struct{}{}
}

// leave unregisters c; the last idler of an account ends the subscription.
func (h *hub) leave(c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	w := h.accounts[c.acct.ID]
	if w == nil {
		return
	}
	delete(w.conns, c)
	if len(w.conns) == 0 {
		w.cancel()
		delete(h.accounts, c.acct.ID)
	}
}

// run wakes the watch's connections on every change until the
// subscription ends. Waking only sets a flag and a read deadline, so it
// never blocks on a slow client.
func (h *hub) run(w *watch, ch <-chan store.ModSeq) {
	for range ch {
		h.mu.Lock()
		for c := range w.conns {
			c.wake.Store(true)
			c.interrupt()
		}
		h.mu.Unlock()
	}
}

func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for id, w := range h.accounts {
		w.cancel()
		delete(h.accounts, id)
	}
}

// Command: IDLE, RFC 9051 §6.3.13 (RFC 2177). While idling, changes made
// elsewhere are pushed as soon as the store announces them; the client's
// DONE ends the command. Starting IDLE re-arms the autologout timer.
func cmdIdle(ctx context.Context, c *conn, k *cmd) error {
	if err := c.endArgs(); err != nil {
		return err
	}
	c.enc.Raw("+ idling").CRLF()
	if c.sel != nil {
		c.onWake = func() error {
			if err := c.pollUpdates(ctx, true); err != nil {
				return err
			}
			return c.flush()
		}
		// Join before the first poll so that no change falls between.
		c.srv.hub.join(c)
		defer func() {
			c.srv.hub.leave(c)
			c.onWake = nil
			c.wake.Store(false)
		}()
		if err := c.pollUpdates(ctx, true); err != nil {
			return err
		}
	}
	if err := c.flush(); err != nil {
		return err
	}
	c.armRead()
	line, ok := c.dec.ReadLine(64)
	if !ok {
		return c.dec.Err()
	}
	if !strings.EqualFold(strings.TrimSpace(line), "DONE") {
		return bad("", "Expected DONE")
	}
	if c.sel != nil {
		if err := c.pollUpdates(ctx, true); err != nil {
			return err
		}
	}
	k.text = "IDLE terminated"
	return nil
}
