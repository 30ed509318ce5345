package imapmsg

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
)

// decodeCTE removes a Content-Transfer-Encoding. Identity encodings return
// b itself.
func decodeCTE(b []byte, enc string) ([]byte, error) {
	switch enc {
	case "7bit", "8bit", "binary", "":
		return b, nil
	case "base64":
		return decodeBase64(b), nil
	case "quoted-printable":
		out, _ := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(b)))
		return out, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownCTE, enc)
}

// decodeBase64 decodes base64 leniently: characters outside the alphabet
// (line breaks, junk) are skipped, and decoding stops at padding or at a
// trailing partial quantum.
func decodeBase64(b []byte) []byte {
	clean := make([]byte, 0, len(b))
	for _, c := range b {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/':
			clean = append(clean, c)
		case c == '=':
			goto done
		}
	}
done:
	clean = clean[:len(clean)/4*4+keepTail(len(clean)%4)]
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
	n, _ := base64.RawStdEncoding.Decode(out, clean)
	return out[:n]
}

// keepTail returns how many characters of a final partial quantum carry
// whole octets (2 or 3 of them do; 1 does not).
func keepTail(n int) int {
	if n == 1 {
		return 0
	}
	return n
}

// partText implements Part.Text.
func partText(p *Part) (string, error) {
	body, err := p.Decoded()
	if err != nil {
		return "", err
	}
	return toUTF8(body, p.Param("charset")), nil
}

// toUTF8 converts b from a MIME charset to valid UTF-8.
func toUTF8(b []byte, cs string) string {
	switch strings.ToLower(cs) {
	case "", "utf-8", "us-ascii", "utf8", "ascii":
	default:
		if r, err := charset.Reader(cs, bytes.NewReader(b)); err == nil {
			if out, err := io.ReadAll(r); err == nil {
				b = out
			}
		}
	}
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// decodeWords decodes RFC 2047 encoded words, leaving what it cannot.
func decodeWords(s string) string {
	if !strings.Contains(s, "=?") {
		return toUTF8([]byte(s), "")
	}
	d := mime.WordDecoder{CharsetReader: charset.Reader}
	out, err := d.DecodeHeader(s)
	if err != nil {
		return toUTF8([]byte(s), "")
	}
	return toUTF8([]byte(out), "")
}
