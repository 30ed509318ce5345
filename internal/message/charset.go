package message

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
)

// lookupCharset finds a decoder for a MIME charset name. The WHATWG index
// covers what mail actually uses; the IANA index catches the rest.
func lookupCharset(name string) (encoding.Encoding, error) {
	name = strings.ToLower(strings.Trim(strings.TrimSpace(name), `"'`))
	if enc, err := htmlindex.Get(name); err == nil && enc != nil {
		return enc, nil
	}
	if enc, err := ianaindex.MIME.Encoding(name); err == nil && enc != nil {
		return enc, nil
	}
	return nil, fmt.Errorf("unknown charset %q", name)
}

// charsetReader is the mime.WordDecoder hook. It has no package state: the
// decoder is built per call, so nothing global is configured.
func charsetReader(name string, r io.Reader) (io.Reader, error) {
	enc, err := lookupCharset(name)
	if err != nil {
		return nil, err
	}
	return enc.NewDecoder().Reader(r), nil
}

// decodeCharset converts b from charset to UTF-8. Unknown charsets and
// decoding errors leave the bytes as they are; cleanText then repairs them.
func decodeCharset(b []byte, charset string) string {
	cs := strings.ToLower(strings.TrimSpace(charset))
	if cs == "" || cs == "us-ascii" || cs == "utf-8" || cs == "utf8" {
		return string(b)
	}
	enc, err := lookupCharset(cs)
	if err != nil {
		return string(b)
	}
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		return string(b)
	}
	return string(out)
}

// decodeWindows1252 reads s as Windows-1252, which never fails.
func decodeWindows1252(s string) string {
	out, err := charmap.Windows1252.NewDecoder().String(s)
	if err != nil {
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	return out
}

// decodeWords decodes RFC 2047 encoded words in an unstructured value. On
// any error the value is returned as written.
func decodeWords(s string) string {
	if !strings.Contains(s, "=?") {
		return s
	}
	dec := mime.WordDecoder{CharsetReader: charsetReader}
	out, err := dec.DecodeHeader(s)
	if err != nil {
		return s
	}
	return out
}

// decodeTransfer undoes a Content-Transfer-Encoding (RFC 2045 §6). Broken
// base64 or quoted-printable yields what could be decoded before the
// damage; an unknown encoding is returned as is.
func decodeTransfer(b []byte, cte string) []byte {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		clean := make([]byte, 0, len(b))
		for _, c := range b {
			if c == '+' || c == '/' || c == '=' || ('0' <= c && c <= '9') ||
				('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') {
				clean = append(clean, c)
			}
		}
		// Decode each padded group on its own, dropping an incomplete
		// final quantum, so that a truncated body or concatenated base64
		// chunks still yield their text.
		var out []byte
		for _, seg := range bytes.FieldsFunc(clean, func(r rune) bool { return r == '=' }) {
			if len(seg)%4 == 1 {
				seg = seg[:len(seg)-1]
			}
			buf := make([]byte, base64.RawStdEncoding.DecodedLen(len(seg)))
			n, _ := base64.RawStdEncoding.Decode(buf, seg)
			out = append(out, buf[:n]...)
		}
		return out
	case "quoted-printable":
		out, _ := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(b)))
		return out
	default:
		return b
	}
}
