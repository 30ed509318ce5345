package jmap

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"freehold/internal/blob"
	"freehold/internal/store"
)

// Blob ids: "G" and the content address for a whole blob (an uploaded file
// or a raw message), "P<email>_<part>" for a part of a message, and
// "Q<address>_<part>" for a part of a whole blob (the parts Email/parse
// shows); partIds have their dots written as dashes (ids allow no dots).
func blobIDString(id blob.ID) string { return "G" + id }

func partBlobID(email store.MessageID, partID string) string {
	return "P" + strconv.FormatInt(int64(email), 10) + "_" + strings.ReplaceAll(partID, ".", "-")
}

// parsedBlobID is a blob id taken apart.
type parsedBlobID struct {
	whole blob.ID         // for G ids
	email store.MessageID // for P ids
	part  string
}

func parseBlobID(s string) (parsedBlobID, bool) {
	if len(s) < 2 {
		return parsedBlobID{}, false
	}
	switch s[0] {
	case 'G':
		if !blob.ValidID(s[1:]) {
			return parsedBlobID{}, false
		}
		return parsedBlobID{whole: s[1:]}, true
	case 'Q':
		hash, part, ok := strings.Cut(s[1:], "_")
		if !ok || !blob.ValidID(hash) || !validPartID(part) {
			return parsedBlobID{}, false
		}
		return parsedBlobID{whole: hash, part: strings.ReplaceAll(part, "-", ".")}, true
	case 'P':
		num, part, ok := strings.Cut(s[1:], "_")
		if !ok || part == "" {
			return parsedBlobID{}, false
		}
		n, ok := parseID(prefixEmail, "E"+num)
		if !ok {
			return parsedBlobID{}, false
		}
		if !validPartID(part) {
			return parsedBlobID{}, false
		}
		return parsedBlobID{email: store.MessageID(n), part: strings.ReplaceAll(part, "-", ".")}, true
	}
	return parsedBlobID{}, false
}

func validPartID(p string) bool {
	if p == "" || len(p) > 100 {
		return false
	}
	for _, r := range p {
		if !(r == '-' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// errBlobNotFound is returned for a blob the account may not read, or
// that does not exist: the two are never told apart.
var errBlobNotFound = errors.New("blob not found")

// openBlob returns the bytes of a blob id for acct.
func (s *Server) openBlob(ctx context.Context, acct store.AccountID, id string) ([]byte, error) {
	p, ok := parseBlobID(id)
	if !ok {
		return nil, errBlobNotFound
	}
	if p.whole != "" {
		has, err := s.st.HasBlob(ctx, acct, p.whole)
		if err != nil {
			return nil, err
		}
		if !has {
			return nil, errBlobNotFound
		}
		b, err := blob.ReadAll(ctx, s.blobs, p.whole)
		if errors.Is(err, blob.ErrNotFound) {
			return nil, errBlobNotFound
		}
		if err != nil || p.part == "" {
			return b, err
		}
		part := parseMIME(b).find(p.part)
		if part == nil {
			return nil, errBlobNotFound
		}
		return part.decoded(b), nil
	}
	raw, err := s.rawMessage(ctx, acct, p.email)
	if err != nil {
		return nil, err
	}
	part := parseMIME(raw).find(p.part)
	if part == nil {
		return nil, errBlobNotFound
	}
	return part.decoded(raw), nil
}

// rawMessage reads the raw bytes of one of acct's messages.
func (s *Server) rawMessage(ctx context.Context, acct store.AccountID, id store.MessageID) ([]byte, error) {
	msgs, err := s.st.Messages(ctx, acct, []store.MessageID{id})
	if err != nil {
		return nil, err
	}
	if len(msgs) == 0 {
		return nil, errBlobNotFound
	}
	b, err := blob.ReadAll(ctx, s.blobs, msgs[0].BlobID)
	if errors.Is(err, blob.ErrNotFound) {
		return nil, errBlobNotFound
	}
	return b, err
}

// limitedReader fails once more than n bytes were read.
type limitedReader struct {
	r        io.Reader
	n        int64
	exceeded bool
}

var errTooLarge = errors.New("upload too large")

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n < 0 {
		l.exceeded = true
		return 0, errTooLarge
	}
	if int64(len(p)) > l.n+1 {
		p = p[:l.n+1]
	}
	k, err := l.r.Read(p)
	l.n -= int64(k)
	if l.n < 0 {
		l.exceeded = true
		return k, errTooLarge
	}
	return k, err
}

// serveUpload handles POST /jmap/upload/{accountId}/ (RFC 8620 §6.1).
func (s *Server) serveUpload(w http.ResponseWriter, r *http.Request, acct store.Account) {
	if r.PathValue("accountId") != accountIDString(acct.ID) {
		WriteProblem(w, http.StatusNotFound, "no such account")
		return
	}
	max := s.limits.MaxSizeUpload
	tooLarge := problem{Type: probLimit, Status: http.StatusRequestEntityTooLarge, Limit: "maxSizeUpload",
		MaxSize: max, Detail: fmt.Sprintf("uploads are limited to %d octets", max)}
	if r.ContentLength > max {
		writeProblem(w, tooLarge)
		return
	}
	if !s.acquire(s.upBusy, acct.ID, s.limits.MaxConcurrentUpload) {
		writeProblem(w, problem{Type: probLimit, Status: http.StatusTooManyRequests, Limit: "maxConcurrentUpload",
			Detail: "too many concurrent uploads"})
		return
	}
	defer s.release(s.upBusy, acct.ID)
	lr := &limitedReader{r: r.Body, n: max}
	id, size, err := s.blobs.Put(r.Context(), lr)
	if lr.exceeded {
		writeProblem(w, tooLarge)
		return
	}
	if err != nil {
		s.log.Error("upload", "account", acct.Address, "err", err)
		WriteProblem(w, http.StatusInternalServerError, "")
		return
	}
	typ := r.Header.Get("Content-Type")
	if mt, params, err := mime.ParseMediaType(typ); err == nil {
		typ = mime.FormatMediaType(mt, params)
	} else {
		typ = "application/octet-stream"
	}
	if err := s.st.RecordUpload(r.Context(), acct.ID, store.Upload{BlobID: id, Type: typ, Size: size, Created: s.now()}); err != nil {
		s.log.Error("upload record", "account", acct.Address, "err", err)
		WriteProblem(w, http.StatusInternalServerError, "")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"accountId": accountIDString(acct.ID), "blobId": blobIDString(id), "type": typ, "size": size,
	})
}

// serveDownload handles GET /jmap/download/{accountId}/{blobId}/{name}
// (RFC 8620 §6.2). Content is always served as an attachment, with a CSP
// that forbids everything, so that mail content can never run as this
// origin.
func (s *Server) serveDownload(w http.ResponseWriter, r *http.Request, acct store.Account) {
	notFound := func() {
		WriteProblem(w, http.StatusNotFound, "no such blob")
	}
	if r.PathValue("accountId") != accountIDString(acct.ID) {
		notFound()
		return
	}
	b, err := s.openBlob(r.Context(), acct.ID, r.PathValue("blobId"))
	if errors.Is(err, errBlobNotFound) {
		notFound()
		return
	}
	if err != nil {
		s.log.Error("download", "account", acct.Address, "err", err)
		WriteProblem(w, http.StatusInternalServerError, "")
		return
	}
	typ := "application/octet-stream"
	if a := r.URL.Query().Get("accept"); a != "" {
		if mt, params, err := mime.ParseMediaType(a); err == nil {
			typ = mime.FormatMediaType(mt, params)
		}
	}
	name := r.PathValue("name")
	h := w.Header()
	h.Set("Content-Type", typ)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, max-age=31536000, immutable")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}
