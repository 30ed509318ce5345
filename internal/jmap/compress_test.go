package jmap

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestAcceptsGzip(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want bool
	}{
		{nil, false},
		{[]string{"gzip"}, true},
		{[]string{"br, gzip, deflate"}, true},
		{[]string{"GZIP;q=0.5"}, true},
		{[]string{"x-gzip"}, true},
		{[]string{"gzip;q=0"}, false},
		{[]string{"identity"}, false},
		{[]string{"*"}, true},
		{[]string{"*;q=0"}, false},
		{[]string{"gzip;q=0, *"}, false},
		{[]string{"br", "gzip"}, true},
	} {
		if got := acceptsGzip(tc.in); got != tc.want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// A large API response is gzipped for a client that asks for it, and sent
// plain to one that does not; small ones are never compressed.
func TestAPIResponseCompression(t *testing.T) {
	e := newEnv(t)
	big, _ := json.Marshal(map[string]any{"using": allCaps, "methodCalls": []any{
		[]any{"Core/echo", map[string]any{"pad": strings.Repeat("mail ", 2000)}, "c0"}}})
	small, _ := json.Marshal(map[string]any{"using": allCaps, "methodCalls": []any{
		[]any{"Core/echo", map[string]any{"x": 1}, "c0"}}})
	send := func(body []byte, enc string) (*http.Response, []byte) {
		req, _ := http.NewRequest("POST", e.http.URL+"/jmap/api", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if enc != "" {
			// Set by hand, so the transport does not decompress.
			req.Header.Set("Accept-Encoding", enc)
		}
		req.SetBasicAuth(e.alice.Address, "x")
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}

	resp, b := send(big, "gzip, br")
	if resp.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
		t.Fatalf("headers: %v", resp.Header)
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil || !json.Valid(plain) || !bytes.Contains(plain, []byte("mail mail")) {
		t.Fatalf("decompressed: %v %.100s", err, plain)
	}
	if len(b) > len(plain)/10 {
		t.Errorf("compressed %d bytes to %d", len(plain), len(b))
	}

	resp, b = send(big, "identity")
	if resp.Header.Get("Content-Encoding") != "" || !json.Valid(b) {
		t.Errorf("identity: %v %.100s", resp.Header, b)
	}
	resp, b = send(small, "gzip")
	if resp.Header.Get("Content-Encoding") != "" || !json.Valid(b) {
		t.Errorf("small response: %v %.100s", resp.Header, b)
	}
}
