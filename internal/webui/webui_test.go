package webui

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func testServer(t *testing.T, files fstest.MapFS) *httptest.Server {
	t.Helper()
	h, err := New(Options{FS: files})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// get fetches url without transparent decompression, so that the test sees
// exactly what the handler sent.
func get(t *testing.T, url string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

var builtApp = fstest.MapFS{
	"index.html":              {Data: []byte("<!doctype html><title>app</title>" + strings.Repeat(" ", 600))},
	"assets/index-abc123.js":  {Data: []byte(strings.Repeat("console.log(1);\n", 100))},
	"assets/index-abc123.css": {Data: []byte("body{}")},
	"sw.js":                   {Data: []byte("self.x=1")},
	"manifest.webmanifest":    {Data: []byte(`{"name":"Freehold"}`)},
	"notbuilt.html":           {Data: []byte("not built")},
}

func TestCachingAndFallback(t *testing.T) {
	srv := testServer(t, builtApp)
	cases := []struct {
		path, status, cache, body, ctype string
	}{
		{"/", "200", cacheNever, "<title>app</title>", "text/html"},
		{"/index.html", "200", cacheNever, "<title>app</title>", "text/html"},
		{"/mail/inbox/T1", "200", cacheNever, "<title>app</title>", "text/html"},
		{"/assets/index-abc123.js", "200", cacheForever, "console.log", "text/javascript"},
		{"/assets/index-abc123.css", "200", cacheForever, "body{}", "text/css"},
		{"/sw.js", "200", cacheNever, "self.x", "text/javascript"},
		{"/manifest.webmanifest", "200", cacheNever, "Freehold", "application/manifest+json"},
		{"/assets/gone-000.js", "404", "", "", ""},
		{"/assets/folder", "404", "", "", ""},
		{"/favicon.ico", "404", "", "", ""},
		// The placeholder is never served once the app is built.
		{"/notbuilt.html", "404", "", "", ""},
	}
	for _, c := range cases {
		resp, body := get(t, srv.URL+c.path, nil)
		if got := resp.Status[:3]; got != c.status {
			t.Errorf("%s: status %s, want %s", c.path, got, c.status)
			continue
		}
		if resp.Header.Get("Content-Security-Policy") != CSP {
			t.Errorf("%s: missing CSP", c.path)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: missing nosniff", c.path)
		}
		if c.status != "200" {
			continue
		}
		if got := resp.Header.Get("Cache-Control"); got != c.cache {
			t.Errorf("%s: Cache-Control %q, want %q", c.path, got, c.cache)
		}
		if !strings.Contains(body, c.body) {
			t.Errorf("%s: body %q lacks %q", c.path, body, c.body)
		}
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), c.ctype) {
			t.Errorf("%s: Content-Type %q, want %q", c.path, resp.Header.Get("Content-Type"), c.ctype)
		}
	}
}

func TestCSPIsStrict(t *testing.T) {
	for _, want := range []string{"script-src 'self';", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "connect-src 'self'"} {
		if !strings.Contains(CSP, want) {
			t.Errorf("CSP lacks %q", want)
		}
	}
	if strings.Contains(CSP, "unsafe") {
		t.Errorf("CSP allows unsafe sources: %s", CSP)
	}
}

func TestGzipAndETag(t *testing.T) {
	srv := testServer(t, builtApp)
	url := srv.URL + "/assets/index-abc123.js"
	plain, plainBody := get(t, url, nil)
	if plain.Header.Get("Content-Encoding") != "" {
		t.Fatal("gzip sent to a client that did not ask for it")
	}
	zipped, zbody := get(t, url, map[string]string{"Accept-Encoding": "br, gzip;q=0.8"})
	if zipped.Header.Get("Content-Encoding") != "gzip" {
		t.Fatal("gzip not used when accepted")
	}
	if !strings.Contains(zipped.Header.Get("Vary"), "Accept-Encoding") {
		t.Error("Vary: Accept-Encoding missing")
	}
	zr, err := gzip.NewReader(strings.NewReader(zbody))
	if err != nil {
		t.Fatal(err)
	}
	unz, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if string(unz) != plainBody {
		t.Fatal("gzip body differs from plain body")
	}
	refused, _ := get(t, url, map[string]string{"Accept-Encoding": "gzip;q=0, *"})
	if refused.Header.Get("Content-Encoding") != "" {
		t.Error("gzip used although q=0")
	}
	etag := plain.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	again, body := get(t, url, map[string]string{"If-None-Match": etag})
	if again.StatusCode != http.StatusNotModified || body != "" {
		t.Errorf("revalidation: status %d, body %d bytes", again.StatusCode, len(body))
	}
}

func TestOnlyGetAndHead(t *testing.T) {
	srv := testServer(t, builtApp)
	resp, err := http.Post(srv.URL+"/", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodHead, srv.URL+"/mail", nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("HEAD: status %d", resp.StatusCode)
	}
}

func TestPlaceholderWhenNotBuilt(t *testing.T) {
	srv := testServer(t, fstest.MapFS{"notbuilt.html": {Data: []byte("the webmail is not built")}})
	resp, body := get(t, srv.URL+"/mail/inbox", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "not built") {
		t.Errorf("status %d body %q", resp.StatusCode, body)
	}
	if _, err := New(Options{FS: fstest.MapFS{"x.js": {Data: []byte("1")}}}); err == nil {
		t.Error("New accepted a tree with no page to serve")
	}
}

// TestEmbedded checks the real embedded tree: on a fresh clone it holds
// only the placeholder, after a build the app; either way "/" is HTML.
func TestEmbedded(t *testing.T) {
	srv := httptest.NewServer(Handler())
	t.Cleanup(srv.Close)
	resp, body := get(t, srv.URL+"/", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(strings.ToLower(body), "<!doctype html>") {
		t.Errorf("status %d body %.80q", resp.StatusCode, body)
	}
}

func TestAcceptsGzip(t *testing.T) {
	cases := map[string]bool{
		"":                  false,
		"gzip":              true,
		"GZIP":              true,
		"deflate, gzip":     true,
		"gzip;q=0":          false,
		"gzip; q=0.000":     false,
		"gzip;q=0.1":        true,
		"*":                 true,
		"*;q=0":             false,
		"br":                false,
		"identity, x-gzip":  true,
		"gzip;q=0, *;q=0.5": false,
	}
	for in, want := range cases {
		if got := acceptsGzip(in); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", in, got, want)
		}
	}
}
