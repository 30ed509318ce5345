package jmap

import (
	"encoding/base64"
	"errors"
	"html"
	"net/http"
	"strings"

	"freehold/internal/htmlsafe"
	"freehold/internal/store"
)

// maxInlineImages bounds the bytes of cid: images inlined into one
// sanitised document.
const maxInlineImages = 10 << 20

// inlineTypes are the image types inlined as data: URIs.
var inlineTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}

// serveHTML handles GET /jmap/html/{accountId}/{emailId}?remote=0|1: the
// email's HTML body, sanitised (internal/htmlsafe), as a document for a
// sandboxed iframe, with its own CSP. cid: images are inlined as data:
// URIs: a sandboxed document has an opaque origin, so its requests would
// not carry the session cookie. The response header
// X-Freehold-Remote-Blocked: 1 says remote content was left out (a HEAD
// request tells the webmail whether to offer loading it).
func (s *Server) serveHTML(w http.ResponseWriter, r *http.Request, acct store.Account) {
	notFound := func() {
		WriteProblem(w, http.StatusNotFound, "no such email")
	}
	id, ok := parseEmailID(r.PathValue("emailId"))
	if r.PathValue("accountId") != accountIDString(acct.ID) || !ok {
		notFound()
		return
	}
	raw, err := s.rawMessage(r.Context(), acct.ID, id)
	if errors.Is(err, errBlobNotFound) {
		notFound()
		return
	}
	if err != nil {
		s.log.Error("html body", "account", acct.Address, "err", err)
		WriteProblem(w, http.StatusInternalServerError, "")
		return
	}
	root := parseMIME(raw)
	_, htmlParts, _ := bodyLists(root)
	var b strings.Builder
	for _, p := range htmlParts {
		switch {
		case p.mediaType == "text/html":
			t, _ := p.text(raw)
			b.WriteString(t)
		case strings.HasPrefix(p.mediaType, "text/"):
			t, _ := p.text(raw)
			b.WriteString(`<pre style="white-space:pre-wrap">` + html.EscapeString(t) + `</pre>`)
		case strings.HasPrefix(p.mediaType, "image/"):
			if cid := strings.Trim(p.get("Content-ID"), "<> "); cid != "" {
				b.WriteString(`<img src="cid:` + html.EscapeString(cid) + `">`)
			}
		}
	}
	budget := maxInlineImages
	cids := map[string]*mimePart{}
	root.walk(func(p *mimePart) {
		if cid := strings.Trim(p.get("Content-ID"), "<> "); cid != "" && len(p.subParts) == 0 {
			cids[cid] = p
		}
	})
	remote := r.URL.Query().Get("remote") == "1"
	res := htmlsafe.Sanitize(b.String(), htmlsafe.Options{AllowRemote: remote, CID: func(cid string) (string, bool) {
		p := cids[cid]
		if p == nil || !inlineTypes[p.mediaType] {
			return "", false
		}
		data := p.decoded(raw)
		if len(data) > budget {
			return "", false
		}
		budget -= len(data)
		return "data:" + p.mediaType + ";base64," + base64.StdEncoding.EncodeToString(data), true
	}})
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", htmlsafe.CSP(s.baseURL(r)+"/jmap/download/", remote))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "private, no-cache")
	if res.RemoteBlocked {
		h.Set("X-Freehold-Remote-Blocked", "1")
	}
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write([]byte(res.HTML))
}
