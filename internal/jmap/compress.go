package jmap

import (
	"compress/gzip"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// minGzipBytes is the smallest JSON body worth compressing: below it the
// gzip framing and the CPU cost outweigh what is saved.
const minGzipBytes = 1024

// gzipPool holds gzip writers for reuse; a writer's state is ~250 KB, too
// much to allocate per response.
type gzipPool struct{ p sync.Pool }

func (g *gzipPool) get(w http.ResponseWriter) *gzip.Writer {
	if zw, ok := g.p.Get().(*gzip.Writer); ok {
		zw.Reset(w)
		return zw
	}
	// BestSpeed: a page of the mail list (~30 KB of JSON) shrinks about
	// tenfold at this level already, in well under a millisecond.
	zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
	return zw
}

func (g *gzipPool) put(zw *gzip.Writer) { g.p.Put(zw) }

// writeJSON answers 200 with v as JSON, gzip-compressed when the client
// accepts it (RFC 9110 §12.5.3) and the body is large enough to gain.
//
// Compressing responses that mix a user's data with content others sent
// (mail) is what BREACH-style attacks measure, but they need the attacker
// to make the victim's browser repeat requests: the API answers only
// requests carrying the X-Freehold header or a bearer token, which a
// cross-site page cannot send, and no response holds a credential.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		s.log.Error("encoding a JSON response", "err", err)
		WriteProblem(w, http.StatusInternalServerError, "")
		return
	}
	body = append(body, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Add("Vary", "Accept-Encoding")
	if len(body) < minGzipBytes || !acceptsGzip(r.Header.Values("Accept-Encoding")) {
		h.Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
		return
	}
	h.Set("Content-Encoding", "gzip")
	zw := s.gzip.get(w)
	defer s.gzip.put(zw)
	_, _ = zw.Write(body)
	_ = zw.Close()
}

// acceptsGzip reports whether Accept-Encoding values allow gzip: named
// with a non-zero weight, or not named and covered by "*".
func acceptsGzip(values []string) bool {
	weights := map[string]float64{}
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			coding, params, _ := strings.Cut(item, ";")
			coding = strings.ToLower(strings.TrimSpace(coding))
			if coding == "x-gzip" {
				coding = "gzip"
			}
			q := 1.0
			if k, val, ok := strings.Cut(params, "="); ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
					q = f
				}
			}
			weights[coding] = q
		}
	}
	if q, ok := weights["gzip"]; ok {
		return q > 0
	}
	q, ok := weights["*"]
	return ok && q > 0
}
