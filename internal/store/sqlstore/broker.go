package sqlstore

import (
	"context"
	"sync"

	"freehold/internal/store"
)

// broker fans committed ModSeqs out to Listen channels. Channels have a
// buffer of one and a send replaces an unread value, so a slow reader sees
// only the latest ModSeq and a publisher never blocks.
//
// Each subscriber remembers the highest ModSeq it was given (starting from
// the account's ModSeq when it subscribed), so that announcements arriving
// late or twice (a node hears its own commits again through PostgreSQL
// NOTIFY) do not wake it for nothing.
type broker struct {
	mu     sync.Mutex // guards the fields below, and every send and close on subscriber channels
	subs   map[store.AccountID]map[*sub]struct{}
	closed bool
}

type sub struct {
	ch   chan store.ModSeq
	last store.ModSeq
}

func newBroker() *broker {
	return &broker{subs: make(map[store.AccountID]map[*sub]struct{})}
}

// Listen implements store.ChangeLog.
func (s *Store) Listen(ctx context.Context, acct store.AccountID) <-chan store.ModSeq {
	// Read before subscribing: a change committed in between is newer
	// than base, so it is still announced.
	base, _ := s.HighestModSeq(ctx, acct)
	return s.broker.listen(ctx, acct, base)
}

func (b *broker) listen(ctx context.Context, acct store.AccountID, base store.ModSeq) <-chan store.ModSeq {
	sb := &sub{ch: make(chan store.ModSeq, 1), last: base}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		close(sb.ch)
		return sb.ch
	}
	m := b.subs[acct]
	if m == nil {
		m = make(map[*sub]struct{})
		b.subs[acct] = m
	}
	m[sb] = struct{}{}
	b.mu.Unlock()
	context.AfterFunc(ctx, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if _, ok := b.subs[acct][sb]; !ok {
			return // already closed by closeAll
		}
		delete(b.subs[acct], sb)
		if len(b.subs[acct]) == 0 {
			delete(b.subs, acct)
		}
		close(sb.ch)
	})
	return sb.ch
}

func (b *broker) publish(acct store.AccountID, modseq store.ModSeq) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for sb := range b.subs[acct] {
		if modseq <= sb.last {
			continue
		}
		sb.last = modseq
		select {
		case <-sb.ch: // drop the unread older value
		default:
		}
		sb.ch <- modseq // cannot block: only publish sends, under mu
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
		for sb := range m {
			close(sb.ch)
		}
		delete(b.subs, acct)
	}
}
