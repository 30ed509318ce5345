package jmap

import (
	"context"
	"errors"
	"slices"
	"sync"

	"freehold/internal/store"
)

// Mailbox counts (RFC 8621 §2: totalEmails, unreadEmails, totalThreads,
// unreadThreads). Counting threads in SQL reads every entry of the mailbox
// with its message, which takes tens of milliseconds on a 100,000-message
// mailbox; so each node keeps, per mailbox it has seen, the thread and
// seen state of every entry, loaded once (store.MailboxThreads) and then
// brought up to date from the store's MailboxChanges, which costs only as
// much as what changed. A message's thread never changes, so an entry's
// thread is known from when it arrives.

// mailboxIndex is one mailbox's cached entries.
type mailboxIndex struct {
	mu      sync.Mutex // guards the fields below; never held with Server.mu
	modseq  store.ModSeq
	entries map[store.UID]indexEntry
	threads map[store.ThreadID]*threadCount
	counts  store.MailboxCounts
}

type indexEntry struct {
	thread store.ThreadID
	seen   bool
}

type threadCount struct{ n, unseen int }

// maxIndexed bounds the entries cached across mailboxes; past it the
// cache is emptied and refilled on demand.
const maxIndexed = 2000000

// add counts an entry in.
func (x *mailboxIndex) add(uid store.UID, e indexEntry) {
	x.entries[uid] = e
	t := x.threads[e.thread]
	if t == nil {
		t = &threadCount{}
		x.threads[e.thread] = t
		x.counts.TotalThreads++
	}
	t.n++
	x.counts.TotalEmails++
	if !e.seen {
		if t.unseen == 0 {
			x.counts.UnreadThreads++
		}
		t.unseen++
		x.counts.UnreadEmails++
	}
}

// remove counts an entry out.
func (x *mailboxIndex) remove(uid store.UID) {
	e, ok := x.entries[uid]
	if !ok {
		return
	}
	delete(x.entries, uid)
	t := x.threads[e.thread]
	t.n--
	x.counts.TotalEmails--
	if !e.seen {
		t.unseen--
		x.counts.UnreadEmails--
		if t.unseen == 0 {
			x.counts.UnreadThreads--
		}
	}
	if t.n == 0 {
		delete(x.threads, e.thread)
		x.counts.TotalThreads--
	}
}

// load fills the index from a snapshot of the mailbox.
func (x *mailboxIndex) load(ctx context.Context, st Store, acct store.AccountID, id store.MailboxID) error {
	entries, modseq, err := st.MailboxThreads(ctx, acct, id)
	if err != nil {
		return err
	}
	x.entries = make(map[store.UID]indexEntry, len(entries))
	x.threads = make(map[store.ThreadID]*threadCount)
	x.counts = store.MailboxCounts{}
	for _, e := range entries {
		x.add(e.UID, indexEntry{thread: e.Thread, seen: e.Seen})
	}
	x.modseq = modseq
	return nil
}

// update applies what changed in the mailbox since the index's ModSeq.
func (x *mailboxIndex) update(ctx context.Context, st Store, acct store.AccountID, id store.MailboxID) error {
	d, err := st.MailboxChanges(ctx, acct, id, x.modseq)
	if errors.Is(err, store.ErrChangesTooOld) {
		return x.load(ctx, st, acct, id)
	}
	if err != nil {
		return err
	}
	for _, uid := range d.Expunged {
		x.remove(uid)
	}
	var fresh []store.MessageID
	for _, e := range d.Changed {
		if old, ok := x.entries[e.UID]; ok {
			x.remove(e.UID)
			x.add(e.UID, indexEntry{thread: old.thread, seen: slices.Contains(e.Keywords, store.KeywordSeen)})
		} else {
			fresh = append(fresh, e.MessageID)
		}
	}
	if len(fresh) > 0 {
		msgs, err := st.Messages(ctx, acct, fresh)
		if err != nil {
			return err
		}
		thread := make(map[store.MessageID]store.ThreadID, len(msgs))
		for _, m := range msgs {
			thread[m.ID] = m.ThreadID
		}
		for _, e := range d.Changed {
			if _, ok := x.entries[e.UID]; ok {
				continue
			}
			t, ok := thread[e.MessageID]
			if !ok {
				// Destroyed since: the next update sees it expunged.
				continue
			}
			x.add(e.UID, indexEntry{thread: t, seen: slices.Contains(e.Keywords, store.KeywordSeen)})
		}
	}
	x.modseq = d.Highest
	return nil
}

// mailboxCounts returns the counts of the given mailboxes of acct.
func (s *Server) mailboxCounts(ctx context.Context, acct store.AccountID, ids []store.MailboxID) (map[store.MailboxID]store.MailboxCounts, error) {
	mods, err := s.st.MailboxModSeqs(ctx, acct)
	if err != nil {
		return nil, err
	}
	out := make(map[store.MailboxID]store.MailboxCounts, len(ids))
	for _, id := range ids {
		want, ok := mods[id]
		if !ok {
			continue // not this account's
		}
		x := s.mailboxIndex(id)
		x.mu.Lock()
		before := len(x.entries)
		var err error
		switch {
		case x.entries == nil:
			err = x.load(ctx, s.st, acct, id)
		case x.modseq < want:
			err = x.update(ctx, s.st, acct, id)
		}
		c, grew := x.counts, len(x.entries)-before
		if err != nil {
			x.entries = nil // reload next time
		}
		x.mu.Unlock()
		if err != nil {
			return nil, err
		}
		s.noteIndexed(grew)
		out[id] = c
	}
	return out, nil
}

// mailboxIndex returns the index of a mailbox, creating an empty one.
func (s *Server) mailboxIndex(id store.MailboxID) *mailboxIndex {
	s.mu.Lock()
	defer s.mu.Unlock()
	x := s.counts[id]
	if x == nil {
		x = &mailboxIndex{}
		s.counts[id] = x
	}
	return x
}

// noteIndexed accounts for entries added to the cache and empties it when
// it holds too many.
func (s *Server) noteIndexed(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.indexed += n
	if s.indexed > maxIndexed {
		clear(s.counts)
		s.indexed = 0
	}
}

// countsCached reports whether a mailbox's counts are held (they may be
// behind; mailboxCounts brings them up to date).
func (s *Server) countsCached(id store.MailboxID) bool {
	s.mu.Lock()
	x := s.counts[id]
	s.mu.Unlock()
	if x == nil {
		return false
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.entries != nil
}
