package imapserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"

	"freehold/internal/imapmsg"
	"freehold/internal/imapsearch"
	"freehold/internal/store"
)

// internalDateLayout is date-time of RFC 9051 §9 (day space-padded).
const internalDateLayout = "_2-Jan-2006 15:04:05 -0700"

// fetchBatch bounds how many messages are loaded ahead of writing: many
// headers, few whole messages, so that memory stays bounded.
func fetchBatch(need rawNeed) int {
	if need == needFull {
		return 16
	}
	return 256
}

// loadWorkers is how many blobs of a batch are read at once.
const loadWorkers = 4

// maxHeaderRead bounds how much of a blob is read for header-only items.
const maxHeaderRead = 1 << 20

// Command: FETCH and UID FETCH, RFC 9051 §6.4.5 and §6.4.9, with
// CHANGEDSINCE and VANISHED (RFC 7162 §3.1.4, §3.2.6) and BINARY (RFC
// 3516).
func cmdFetch(ctx context.Context, c *conn, k *cmd) error {
	var r fetchReq
	if !c.parseFetch(&r) {
		return c.dec.Err()
	}
	if err := c.endArgs(); err != nil {
		return err
	}
	if r.vanished && (!k.uid || r.changedSince == 0 || !c.enabled.qresync) {
		return bad("", "VANISHED needs UID FETCH, CHANGEDSINCE and QRESYNC")
	}
	if r.changedSince > 0 {
		// Changes made elsewhere must be in the view before it is
		// filtered by MODSEQ (a UID FETCH may report expunges too), so
		// this comes before sequence numbers are resolved.
		if err := c.pollUpdates(ctx, k.uid); err != nil {
			return err
		}
	}
	idxs, err := c.resolve(r.set, k.uid)
	if err != nil {
		return err
	}
	if k.uid {
		r.items = append([]fetchItem{{kind: fUID}}, r.items...)
	}
	if r.changedSince > 0 {
		c.enabled.condstore = true
		r.items = append(r.items, fetchItem{kind: fModSeq})
		idxs = filterChangedSince(c.sel, idxs, r.changedSince)
		if r.vanished {
			if err := c.reportVanishedSince(ctx, r.set, r.changedSince); err != nil {
				return err
			}
		}
	}
	var need rawNeed
	seen := false
	for _, it := range r.items {
		need = max(need, it.needs())
		if it.kind == fModSeq {
			c.enabled.condstore = true
		}
		seen = seen || it.setsSeen()
	}
	flagsAdded := map[int]bool{}
	if seen && !c.sel.readOnly {
		if flagsAdded, err = c.markSeen(ctx, idxs); err != nil {
			return err
		}
	}
	missing := false
	var soft error // an item that could not be sent; NIL went instead
	size := fetchBatch(need)
	for start := 0; start < len(idxs); start += size {
		batch := idxs[start:min(start+size, len(idxs))]
		raws, err := c.loadBatch(ctx, batch, need)
		if err != nil {
			return err
		}
		for j, i := range batch {
			if need != needNothing && raws[j] == nil {
				missing = true
				continue
			}
			if err := c.fetchOne(i, r.items, raws[j], flagsAdded[i]); err != nil && soft == nil {
				soft = err
			}
		}
	}
	if soft != nil {
		return soft
	}
	if missing {
		return no("EXPUNGEISSUED", "Some messages were expunged meanwhile")
	}
	return nil
}

func filterChangedSince(s *selected, idxs []int, since store.ModSeq) []int {
	out := idxs[:0]
	for _, i := range idxs {
		if s.entries[i].ModSeq > since {
			out = append(out, i)
		}
	}
	return out
}

// reportVanishedSince sends VANISHED (EARLIER) for UIDs of set expunged
// after since (RFC 7162 §3.2.6).
func (c *conn) reportVanishedSince(ctx context.Context, set imapsearch.NumSet, since store.ModSeq) error {
	delta, err := c.srv.opts.Store.MailboxChanges(ctx, c.acct.ID, c.sel.mbox.ID, since)
	if errors.Is(err, store.ErrChangesTooOld) {
		// Report every UID of the set that is not in the mailbox.
		rs := uidRanges(set, c.sel.maxUID())
		out := missingUIDs(c.sel, rs, uint32(c.sel.maxUID()))
		if len(out) > 0 {
			c.enc.Raw("* VANISHED (EARLIER) ").Raw(imapsearch.NumSetOf(out).String()).CRLF()
		}
		return nil
	}
	if err != nil {
		return err
	}
	rs := uidRanges(set, c.sel.maxUID())
	var out []uint32
	for _, u := range delta.Expunged {
		if _, present := c.sel.index(u); !present && (imapsearch.NumSet{Ranges: rs}).ContainsResolved(uint32(u)) {
			out = append(out, uint32(u))
		}
	}
	if len(out) > 0 {
		c.enc.Raw("* VANISHED (EARLIER) ").Raw(imapsearch.NumSetOf(out).String()).CRLF()
	}
	return nil
}

// markSeen sets \Seen on the messages that lack it, before their bodies
// are sent (RFC 9051 §6.4.5), and returns which ones changed so that
// their FETCH response includes FLAGS.
func (c *conn) markSeen(ctx context.Context, idxs []int) (map[int]bool, error) {
	var uids []store.UID
	for _, i := range idxs {
		e := c.sel.entries[i]
		if !slices.Contains(e.Keywords, store.KeywordSeen) && !c.sel.isGone(i) {
			uids = append(uids, e.UID)
		}
	}
	out := map[int]bool{}
	if len(uids) == 0 {
		return out, nil
	}
	changed, _, err := c.srv.opts.Store.UpdateKeywords(ctx, c.acct.ID, store.KeywordUpdate{
		Mailbox: c.sel.mbox.ID, UIDs: uids, Mode: store.KeywordsAdd, Keywords: []string{store.KeywordSeen},
	})
	if err != nil {
		return nil, err
	}
	for _, e := range changed {
		if i, ok := c.sel.index(e.UID); ok {
			e.Keywords = c.sel.intern(e.Keywords)
			c.sel.entries[i] = e
			out[i] = true
		}
	}
	return out, nil
}

// loadBatch reads what the items need of a batch of messages, several
// blobs at a time. A nil entry is a message whose metadata is gone
// (expunged and destroyed meanwhile).
func (c *conn) loadBatch(ctx context.Context, batch []int, need rawNeed) ([][]byte, error) {
	raws := make([][]byte, len(batch))
	if need == needNothing {
		return raws, nil
	}
	ids := make([]store.MessageID, len(batch))
	for j, i := range batch {
		ids[j] = c.sel.entries[i].MessageID
	}
	msgs, err := c.srv.opts.Store.Messages(ctx, c.acct.ID, ids)
	if err != nil {
		return nil, err
	}
	blobs := make(map[store.MessageID]string, len(msgs))
	for _, m := range msgs {
		blobs[m.ID] = m.BlobID
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	next := make(chan int)
	for w := 0; w < min(loadWorkers, len(batch)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				raw, err := c.loadRaw(ctx, blobs[ids[j]], need)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("message %d blob %s: %w", ids[j], blobs[ids[j]], err)
					}
					mu.Unlock()
					continue
				}
				raws[j] = raw
			}
		}()
	}
	for j := range batch {
		if _, ok := blobs[ids[j]]; ok {
			next <- j
		}
	}
	close(next)
	wg.Wait()
	return raws, firstErr
}

// loadRaw reads a message from the blob store: all of it, or with
// needHeader only up to the end of its header.
func (c *conn) loadRaw(ctx context.Context, id string, need rawNeed) ([]byte, error) {
	rc, err := c.srv.opts.Blobs.Open(ctx, id)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if need == needFull {
		return io.ReadAll(rc)
	}
	return readHeader(rc)
}

// readHeader reads up to and including the blank line ending a header.
func readHeader(r io.Reader) ([]byte, error) {
	buf := make([]byte, 0, 4096)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		from := max(0, len(buf)-3)
		buf = buf[:len(buf)+n]
		if end := headerEnd(buf, from); end >= 0 {
			return buf[:end], nil
		}
		if err == io.EOF || len(buf) >= maxHeaderRead {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// headerEnd returns the offset just past the blank line ending the
// header in b, searching from from, or -1.
func headerEnd(b []byte, from int) int {
	if len(b) > 0 && b[0] == '\n' {
		return 1
	}
	if len(b) > 1 && b[0] == '\r' && b[1] == '\n' {
		return 2
	}
	for i := bytes.IndexByte(b[from:], '\n'); i >= 0; {
		p := from + i
		rest := b[p+1:]
		switch {
		case len(rest) > 0 && rest[0] == '\n':
			return p + 2
		case len(rest) > 1 && rest[0] == '\r' && rest[1] == '\n':
			return p + 3
		}
		from = p + 1
		i = bytes.IndexByte(b[from:], '\n')
	}
	return -1
}

// fetchOne writes the FETCH response of message i, whose contents (as
// much as the items need) are raw. An error reports an item sent as NIL
// because it could not be produced; the command must not end with OK.
func (c *conn) fetchOne(i int, items []fetchItem, raw []byte, withFlags bool) (itemErr error) {
	e := c.sel.entries[i]
	o := imapmsg.Options{UTF8: c.enc.UTF8}
	enc := c.enc
	enc.Raw("* ").Number(uint32(i + 1)).Raw(" FETCH (")
	var done uint32 // bit per fetchKind already written
	first := true
	sep := func() {
		if !first {
			enc.SP()
		}
		first = false
	}
	if withFlags {
		sep()
		enc.Raw("FLAGS ")
		writeFlags(enc, e.Keywords)
		done |= 1 << fFlags
	}
	for _, it := range items {
		switch it.kind {
		case fUID, fFlags, fInternalDate, fSize, fEnvelope, fBody, fBodyStructure, fModSeq, fRFC822, fRFC822Header, fRFC822Text:
			if done&(1<<it.kind) != 0 {
				continue
			}
			done |= 1 << it.kind
		}
		sep()
		if err := c.writeItem(it, e, raw, o); err != nil && itemErr == nil {
			itemErr = err
		}
	}
	enc.Raw(")\r\n")
	return itemErr
}

// writeItem writes one data item of a FETCH response. An error means the
// item went out as NIL and the command must not end with OK.
func (c *conn) writeItem(it fetchItem, e store.MailboxEntry, raw []byte, o imapmsg.Options) error {
	enc := c.enc
	switch it.kind {
	case fUID:
		enc.Raw("UID ").Number(uint32(e.UID))
	case fFlags:
		enc.Raw("FLAGS ")
		writeFlags(enc, e.Keywords)
	case fInternalDate:
		enc.Raw(`INTERNALDATE "`).Raw(e.ReceivedAt.Format(internalDateLayout)).Byte('"')
	case fSize:
		enc.Raw("RFC822.SIZE ").Number64(e.Size)
	case fModSeq:
		enc.Raw("MODSEQ (").Number64(int64(e.ModSeq)).Byte(')')
	case fEnvelope:
		enc.Raw("ENVELOPE ").RawBytes(imapmsg.Envelope(raw, o))
	case fBody:
		enc.Raw("BODY ").RawBytes(imapmsg.Body(raw, o))
	case fBodyStructure:
		enc.Raw("BODYSTRUCTURE ").RawBytes(imapmsg.BodyStructure(raw, o))
	case fRFC822:
		enc.Raw("RFC822 ").Literal(raw)
	case fRFC822Header:
		b, _ := imapmsg.Extract(raw, imapmsg.Section{Specifier: imapmsg.SpecHeader})
		enc.Raw("RFC822.HEADER ").Literal(b)
	case fRFC822Text:
		b, _ := imapmsg.Extract(raw, imapmsg.Section{Specifier: imapmsg.SpecText})
		enc.Raw("RFC822.TEXT ").Literal(b)
	case fSection:
		return c.writeSection(it, raw)
	case fBinary, fBinarySize:
		return c.writeBinary(it, raw)
	}
	return nil
}

func (c *conn) writeSection(it fetchItem, raw []byte) error {
	enc := c.enc
	b, err := imapmsg.Extract(raw, it.section)
	enc.Raw("BODY[").Raw(it.section.String()).Byte(']')
	if it.section.Partial != nil {
		enc.Byte('<').Number64(it.section.Partial.Offset).Byte('>')
	}
	enc.SP()
	switch {
	case errors.Is(err, imapmsg.ErrNoSuchPart):
		enc.Raw("NIL")
	case err != nil:
		enc.Raw("NIL")
		return bad("", "Invalid section")
	default:
		enc.Literal(b)
	}
	return nil
}

func (c *conn) writeBinary(it fetchItem, raw []byte) error {
	enc := c.enc
	part := it.section.Part
	b, err := imapmsg.ExtractBinary(raw, part)
	name := "BINARY"
	if it.kind == fBinarySize {
		name = "BINARY.SIZE"
	}
	enc.Raw(name).Byte('[').Raw(it.section.String()).Byte(']')
	switch {
	case errors.Is(err, imapmsg.ErrUnknownCTE):
		enc.Raw(" NIL")
		return no("UNKNOWN-CTE", "Cannot decode this part")
	case errors.Is(err, imapmsg.ErrNoSuchPart):
		b = nil
	case err != nil:
		enc.Raw(" NIL")
		return err
	}
	if it.kind == fBinarySize {
		enc.SP().Raw(strconv.Itoa(len(b)))
		return nil
	}
	if it.section.Partial != nil {
		enc.Byte('<').Number64(it.section.Partial.Offset).Byte('>')
		b = it.section.Partial.Apply(b)
	}
	enc.SP()
	if bytes.IndexByte(b, 0) >= 0 {
		enc.Literal8(b)
	} else {
		enc.Literal(b)
	}
	return nil
}
