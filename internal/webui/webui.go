package webui

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

// dist holds the built app. embed.FS is read-only, so this is not mutable
// package state; it is only read through New.
//
//go:embed dist
var dist embed.FS

// CSP is the Content-Security-Policy sent with every response of the app.
// No inline script or style element is allowed: the build emits only
// external files, and Svelte sets dynamic styles through the CSSOM, which
// CSP does not govern. HTML mail is framed from the JMAP server's own URL
// (same origin) and carries its own, stricter policy.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data: blob:; frame-src 'self'; connect-src 'self'; " +
	"worker-src 'self'; object-src 'none'; base-uri 'none'; " +
	"form-action 'self'; frame-ancestors 'none'"

const (
	indexName     = "index.html"
	notBuiltName  = "notbuilt.html"
	assetsPrefix  = "assets/"
	cacheForever  = "public, max-age=31536000, immutable"
	cacheNever    = "no-cache"
	minGzipLength = 512
)

// Options configures New.
type Options struct {
	// FS is the root of the built app. Nil means the embedded build.
	FS fs.FS
}

// file is one servable file, loaded once at construction.
type file struct {
	name  string
	body  []byte
	gz    []byte // gzip of body, nil when not worth it
	ctype string
	etag  string
}

type handler struct {
	files map[string]*file // by slash path without leading "/"; read-only after New
	index *file            // index.html, or the placeholder when the app is not built
}

// Handler serves the embedded app.
func Handler() http.Handler {
	h, err := New(Options{})
	if err != nil {
		// The embedded tree always holds at least the placeholder, so this
		// only happens on a broken build; fail loudly on every request.
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "webmail unavailable", http.StatusInternalServerError)
		})
	}
	return h
}

// New loads every file of the app into memory (a few hundred kilobytes),
// computes its ETag and a gzip copy, and returns the handler.
func New(opts Options) (http.Handler, error) {
	root := opts.FS
	if root == nil {
		sub, err := fs.Sub(dist, "dist")
		if err != nil {
			return nil, fmt.Errorf("webui: embedded dist: %w", err)
		}
		root = sub
	}
	h := &handler{files: map[string]*file{}}
	err := fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		body, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		h.files[p] = newFile(p, body)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("webui: loading app: %w", err)
	}
	h.index = h.files[indexName]
	if h.index == nil {
		h.index = h.files[notBuiltName]
	}
	if h.index == nil {
		return nil, fmt.Errorf("webui: neither %s nor %s in the app tree", indexName, notBuiltName)
	}
	return h, nil
}

func newFile(name string, body []byte) *file {
	sum := sha256.Sum256(body)
	f := &file{
		name:  name,
		body:  body,
		ctype: contentType(name),
		etag:  `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`,
	}
	if len(body) >= minGzipLength && compressible(f.ctype) {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(body)
		_ = zw.Close()
		if buf.Len() < len(body) {
			f.gz = buf.Bytes()
		}
	}
	return f
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".webmanifest":
		return "application/manifest+json"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.Contains(ctype, "json") ||
		strings.Contains(ctype, "javascript") || strings.HasPrefix(ctype, "image/svg")
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", CSP)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("X-Frame-Options", "DENY")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	f, ok := h.files[name]
	switch {
	case ok && name != notBuiltName:
	case isClientRoute(name):
		// SPA fallback: the app's router reads the path.
		f = h.index
	default:
		http.NotFound(w, r)
		return
	}
	if strings.HasPrefix(name, assetsPrefix) {
		hdr.Set("Cache-Control", cacheForever)
	} else {
		hdr.Set("Cache-Control", cacheNever)
	}
	h.serveFile(w, r, f)
}

// isClientRoute reports whether a path that names no file belongs to the
// app's router. Paths that look like files (an extension) or lie under the
// hashed assets folder are real misses and get a 404, so that a stale
// asset URL never receives HTML with a 200.
func isClientRoute(name string) bool {
	if strings.HasPrefix(name, assetsPrefix) {
		return false
	}
	return path.Ext(name) == ""
}

func (h *handler) serveFile(w http.ResponseWriter, r *http.Request, f *file) {
	hdr := w.Header()
	hdr.Set("Content-Type", f.ctype)
	hdr.Set("ETag", f.etag)
	body := f.body
	if f.gz != nil {
		hdr.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			hdr.Set("Content-Encoding", "gzip")
			body = f.gz
		}
	}
	// ServeContent answers If-None-Match from the ETag set above, and
	// Range requests; the zero modtime leaves Last-Modified out.
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(body))
}

// acceptsGzip parses an Accept-Encoding value (RFC 9110 §12.5.3) far enough
// to tell whether gzip is acceptable: listed, or covered by "*", without q=0.
func acceptsGzip(v string) bool {
	star := false
	for _, part := range strings.Split(v, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		zero := qIsZero(params)
		switch coding {
		case "gzip", "x-gzip":
			return !zero
		case "*":
			star = !zero
		}
	}
	return star
}

func qIsZero(params string) bool {
	for _, p := range strings.Split(params, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
			v = strings.TrimSpace(v)
			return strings.Trim(v, "0.") == "" && v != ""
		}
	}
	return false
}
