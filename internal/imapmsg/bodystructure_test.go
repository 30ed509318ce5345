package imapmsg

import (
	"strings"
	"testing"
)

// lines returns n lines of text of total length size octets, CRLF
// included, the first ones of equal length.
func lines(n, size int) string {
	per := size / n
	var b strings.Builder
	for i := 0; i < n; i++ {
		l := per
		if i == n-1 {
			l = size - per*(n-1)
		}
		b.WriteString(strings.Repeat("x", l-2))
		b.WriteString("\r\n")
	}
	return b.String()
}

// TestBodyRFCExample builds a message with the shape of the BODY example
// of RFC 9051 §7.5.2 (sizes and line counts included) and expects that
// exact value.
func TestBodyRFCExample(t *testing.T) {
	raw := "MIME-Version: 1.0\r\nContent-Type: MULTIPART/MIXED; BOUNDARY=\"b1\"\r\n\r\n" +
		"--b1\r\nContent-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n\r\n" + lines(23, 1152) +
		"\r\n--b1\r\nContent-Type: TEXT/PLAIN; CHARSET=US-ASCII; NAME=cc.diff\r\n" +
		"Content-ID: <960723163407.20117h@cac.washington.edu>\r\n" +
		"Content-Description: Compiler diff\r\nContent-Transfer-Encoding: BASE64\r\n\r\n" +
		lines(73, 4554) + "\r\n--b1--\r\n"
	want := `(("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1152 23)` +
		`("TEXT" "PLAIN" ("CHARSET" "US-ASCII" "NAME" "cc.diff") "<960723163407.20117h@cac.washington.edu>" ` +
		`"Compiler diff" "BASE64" 4554 73) "MIXED")`
	if got := string(Body([]byte(raw), Options{})); got != want {
		t.Errorf("Body:\n got %s\nwant %s", got, want)
	}
}

const nestedMessage = `From: outer@example.com
Subject: outer
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

This is a preamble.
--outer
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Caf=C3=A9 au lait
--alt
Content-Type: text/html; charset=utf-8

<p>Caf&eacute;</p>
--alt--
--outer
Content-Type: application/pdf; name="r.pdf"
Content-Disposition: attachment; filename="r.pdf"
Content-Transfer-Encoding: base64
Content-Language: en, fr
Content-Location: http://example.com/r.pdf
Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==

JVBERi0xLjQK
--outer
Content-Type: message/rfc822
Content-Description: forwarded

From: inner@example.org
To: x@example.net
Subject: inner
Content-Type: multipart/mixed; boundary=inner

--inner
Content-Type: text/plain

inner text
--inner
Content-Type: image/png
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--inner--
--outer--
epilogue
`

func TestBodyStructureNested(t *testing.T) {
	raw := crlf(nestedMessage)
	innerEnv := `(NIL "inner" ((NIL NIL "inner" "example.org")) ((NIL NIL "inner" "example.org")) ` +
		`((NIL NIL "inner" "example.org")) ((NIL NIL "x" "example.net")) NIL NIL NIL NIL)`
	want := `((("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "QUOTED-PRINTABLE" 17 1 NIL NIL NIL NIL)` +
		`("TEXT" "HTML" ("CHARSET" "utf-8") NIL NIL "7BIT" 18 1 NIL NIL NIL NIL) "ALTERNATIVE" ("BOUNDARY" "alt") NIL NIL NIL)` +
		`("APPLICATION" "PDF" ("NAME" "r.pdf") NIL NIL "BASE64" 12 "Q2hlY2sgSW50ZWdyaXR5IQ==" ("ATTACHMENT" ("FILENAME" "r.pdf")) ("en" "fr") "http://example.com/r.pdf")` +
		`("MESSAGE" "RFC822" NIL NIL "forwarded" "7BIT" 252 ` + innerEnv + ` ` +
		`(("TEXT" "PLAIN" NIL NIL NIL "7BIT" 10 1 NIL NIL NIL NIL)("IMAGE" "PNG" NIL NIL NIL "BASE64" 12 NIL NIL NIL NIL) "MIXED" ("BOUNDARY" "inner") NIL NIL NIL) ` +
		`15 NIL NIL NIL NIL) "MIXED" ("BOUNDARY" "outer") NIL NIL NIL)`
	got := string(BodyStructure(raw, Options{}))
	if got != want {
		t.Errorf("BodyStructure:\n got %s\nwant %s", got, want)
	}
	wantBody := `((("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "QUOTED-PRINTABLE" 17 1)` +
		`("TEXT" "HTML" ("CHARSET" "utf-8") NIL NIL "7BIT" 18 1) "ALTERNATIVE")` +
		`("APPLICATION" "PDF" ("NAME" "r.pdf") NIL NIL "BASE64" 12)` +
		`("MESSAGE" "RFC822" NIL NIL "forwarded" "7BIT" 252 ` + innerEnv + ` ` +
		`(("TEXT" "PLAIN" NIL NIL NIL "7BIT" 10 1)("IMAGE" "PNG" NIL NIL NIL "BASE64" 12) "MIXED") 15) "MIXED")`
	if got := string(Body(raw, Options{})); got != wantBody {
		t.Errorf("Body:\n got %s\nwant %s", got, wantBody)
	}
}

func TestBodyStructureCases(t *testing.T) {
	tests := []struct {
		name, msg, want string
	}{
		{
			name: "no content-type",
			msg:  "Subject: x\n\nhello\nworld\n",
			want: `("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 14 2 NIL NIL NIL NIL)`,
		},
		{
			name: "no header at all, last line unterminated",
			msg:  "\nbody",
			want: `("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 4 1 NIL NIL NIL NIL)`,
		},
		{
			name: "invalid content-type means text/plain",
			msg:  "Content-Type: garbage\n\nx\n",
			want: `("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3 1 NIL NIL NIL NIL)`,
		},
		{
			name: "missing semicolon before parameters, comments, inline disposition",
			msg:  "Content-Type: text/plain (plain text) charset=x\nContent-Disposition: inline\n\nx\n",
			want: `("TEXT" "PLAIN" NIL NIL NIL "7BIT" 3 1 NIL ("INLINE" NIL) NIL NIL)`,
		},
		{
			name: "multipart without boundary is text",
			msg:  "Content-Type: multipart/mixed\n\n--x\n\nhi\n--x--\n",
			want: `("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 18 4 NIL NIL NIL NIL)`,
		},
		{
			name: "missing close delimiter ends the last part at the end",
			msg:  "Content-Type: multipart/mixed; boundary=b\n\n--b\n\none\n--b\nContent-Type: text/html\n\n<b>two</b>\n",
			want: `(("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3 1 NIL NIL NIL NIL)` +
				`("TEXT" "HTML" NIL NIL NIL "7BIT" 12 1 NIL NIL NIL NIL) "MIXED" ("BOUNDARY" "b") NIL NIL NIL)`,
		},
		{
			name: "no delimiter at all gives one empty part",
			msg:  "Content-Type: multipart/mixed; boundary=b\n\njust text\n",
			want: `(("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 0 0 NIL NIL NIL NIL) "MIXED" ("BOUNDARY" "b") NIL NIL NIL)`,
		},
		{
			name: "boundary that prefixes another is not confused with it",
			msg: "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: multipart/alternative; boundary=b2\n\n" +
				"--b2\n\nx\n--b2--\n--b--\n",
			want: `((("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1 1 NIL NIL NIL NIL) "ALTERNATIVE" ("BOUNDARY" "b2") NIL NIL NIL)` +
				` "MIXED" ("BOUNDARY" "b") NIL NIL NIL)`,
		},
		{
			name: "part without header starts with its body",
			msg:  "Content-Type: multipart/mixed; boundary=b\n\n--b\nno header here\n--b--\n",
			want: `(("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 14 1 NIL NIL NIL NIL) "MIXED" ("BOUNDARY" "b") NIL NIL NIL)`,
		},
		{
			name: "digest parts default to message/rfc822",
			msg:  "Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: s\n\nb\n--d--\n",
			want: `(("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 15 (NIL "s" NIL NIL NIL NIL NIL NIL NIL NIL) ` +
				`("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1 1 NIL NIL NIL NIL) 3 NIL NIL NIL NIL) "DIGEST" ("BOUNDARY" "d") NIL NIL NIL)`,
		},
		{
			name: "base64 message/rfc822 is decoded to find its structure",
			msg:  "Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\nU3ViamVjdDogcwoKYgo=\n",
			want: `("MESSAGE" "RFC822" NIL NIL NIL "BASE64" 22 (NIL "s" NIL NIL NIL NIL NIL NIL NIL NIL) ` +
				`("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 2 1 NIL NIL NIL NIL) 1 NIL NIL NIL NIL)`,
		},
		{
			name: "unknown encoding of message/rfc822 makes an opaque part",
			msg:  "Content-Type: message/rfc822\nContent-Transfer-Encoding: x-uuencode\n\nbegin\n",
			want: `("APPLICATION" "OCTET-STREAM" NIL NIL NIL "X-UUENCODE" 7 NIL NIL NIL NIL)`,
		},
		{
			name: "encoding token without its comment",
			msg:  "Content-Type: image/gif\nContent-Transfer-Encoding: Base64 (binary image)\n\nR0lG\n",
			want: `("IMAGE" "GIF" NIL NIL NIL "BASE64" 6 NIL NIL NIL NIL)`,
		},
		{
			name: "RFC 2231 parameters are passed as written",
			msg:  "Content-Type: application/octet-stream; name*=utf-8''%C3%A9.txt\n\nx",
			want: `("APPLICATION" "OCTET-STREAM" ("NAME*" "utf-8''%C3%A9.txt") NIL NIL "7BIT" 1 NIL NIL NIL NIL)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := BodyStructure(crlf(tt.msg), Options{})
			if string(got) != tt.want {
				t.Errorf("\n got %s\nwant %s", got, tt.want)
			}
			if err := checkWire(got); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestBodyStructureDeepNesting(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 200; i++ {
		b.WriteString("Content-Type: multipart/mixed; boundary=b" + strings.Repeat("x", i) + "\r\n\r\n--b" + strings.Repeat("x", i) + "\r\n")
	}
	b.WriteString("\r\nleaf\r\n")
	got := BodyStructure([]byte(b.String()), Options{})
	if err := checkWire(got); err != nil {
		t.Fatal(err)
	}
	if depth := strings.Count(string(got), "\"MIXED\""); depth != maxDepth {
		t.Errorf("nesting followed to %d levels, want %d", depth, maxDepth)
	}
	if !strings.Contains(string(got), `"APPLICATION" "OCTET-STREAM"`) {
		t.Error("the part beyond the limit should be an opaque leaf")
	}
}
