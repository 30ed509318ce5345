package sqlstore

import (
	"context"
	"sync"

	"freehold/internal/store"
)

// broker fans committed ModSeqs out to Listen channels. Channels have a
// buffer of one and a send replaces an unread value, so a slow reader sees
// only the latest ModSeq and a publisher never blocks.
type broker struct {
	mu     sync.Mutex // guards the fields below and every send and close on subscriber channels
	subs   map[store.AccountID]map[chan store.ModSeq]struct{}
	seen   map[store.AccountID]store.ModSeq // highest ModSeq announced, per listened account
	closed bool
}

func newBroker() *broker {
	return &broker{
		subs: make(map[store.AccountID]map[chan store.ModSeq]struct{}),
		seen: make(map[store.AccountID]store.ModSeq),
	}
}

// Listen implements store.ChangeLog.
func (s *Store) Listen(ctx context.Context, acct store.AccountID) <-chan store.ModSeq {
	return s.broker.listen(ctx, acct)
}

func (b *broker) listen(ctx context.Context, acct store.AccountID) <-chan store.ModSeq {
	ch := make(chan store.ModSeq, 1)
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		close(ch)
		return ch
	}
	m := b.subs[acct]
	if m == nil {
		m = make(map[chan store.ModSeq]struct{})
		b.subs[acct] = m
	}
	m[ch] = struct{}{}
	b.mu.Unlock()
	context.AfterFunc(ctx, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if _, ok := b.subs[acct][ch]; !ok {
			return // already closed by closeAll
		}
		delete(b.subs[acct], ch)
		if len(b.subs[acct]) == 0 {
			delete(b.subs, acct)
			delete(b.seen, acct)
		}
		close(ch)
	})
	return ch
}

func (b *broker) publish(acct store.AccountID, modseq store.ModSeq) {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.subs[acct]
	if len(m) == 0 || modseq <= b.seen[acct] {
		return
	}
	b.seen[acct] = modseq
	for ch := range m {
		select {
		case <-ch: // drop the unread older value
		default:
		}
		ch <- modseq // cannot block: only publish sends, under mu
	}
}

func (b *broker) accounts() []store.AccountID {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]store.AccountID, 0, len(b.subs))
	for a := range b.subs {
		out = append(out, a)
	}
	return out
}

func (b *broker) closeAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for acct, m := range b.subs {
		for ch := range m {
			close(ch)
		}
		delete(b.subs, acct)
	}
}
