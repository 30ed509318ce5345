package imapmsg

import (
	"strings"
	"testing"
)

// benchMessage is a typical message: a long Received chain, a multipart
// body with an attachment.
func benchMessage() []byte {
	var b strings.Builder
	for i := 0; i < 8; i++ {
		b.WriteString("Received: from relay.example.net (relay.example.net [192.0.2.1])\n\tby mx.example.com with ESMTPS id abc123\n\tfor <user@example.com>; Tue, 1 Jul 2025 10:52:37 +0200\n")
	}
	b.WriteString("DKIM-Signature: v=1; a=rsa-sha256; d=example.net; s=sel; h=from:to:subject:date;\n\tbh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=" + strings.Repeat("x", 340) + "\n")
	b.WriteString(`Date: Tue, 1 Jul 2025 10:52:37 +0200
From: "Alice Example" <alice@example.net>
To: Bob <bob@example.com>, carol@example.com
Cc: dave@example.org
Subject: =?UTF-8?Q?Quarterly_r=C3=A9sum=C3=A9?=
Message-ID: <20250701085237.12345@example.net>
In-Reply-To: <prev@example.com>
References: <root@example.com> <prev@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="mix"

--mix
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=utf-8

`)
	b.WriteString(strings.Repeat("Some text of the message body, long enough to matter.\n", 60))
	b.WriteString("--alt\nContent-Type: text/html; charset=utf-8\n\n")
	b.WriteString(strings.Repeat("<p>Some text of the message body, long enough to matter.</p>\n", 60))
	b.WriteString("--alt--\n--mix\nContent-Type: application/pdf; name=r.pdf\nContent-Disposition: attachment; filename=r.pdf\nContent-Transfer-Encoding: base64\n\n")
	b.WriteString(strings.Repeat(strings.Repeat("A", 76)+"\n", 400))
	b.WriteString("--mix--\n")
	return crlf(b.String())
}

// BenchmarkHeaderFields is the per-message cost of FETCH
// BODY.PEEK[HEADER.FIELDS (...)], the usual client list view query.
func BenchmarkHeaderFields(b *testing.B) {
	raw := benchMessage()
	s := Section{Specifier: SpecHeaderFields, Fields: []string{"DATE", "FROM", "TO", "CC", "SUBJECT", "MESSAGE-ID", "CONTENT-TYPE", "IN-REPLY-TO", "REFERENCES", "X-PRIORITY"}}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Extract(raw, s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEnvelope(b *testing.B) {
	raw := benchMessage()
	b.ReportAllocs()
	for b.Loop() {
		Envelope(raw, Options{})
	}
}

func BenchmarkBodyStructure(b *testing.B) {
	raw := benchMessage()
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		BodyStructure(raw, Options{})
	}
}

func BenchmarkExtractPart(b *testing.B) {
	raw := benchMessage()
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Extract(raw, Section{Part: []int{1, 1}}); err != nil {
			b.Fatal(err)
		}
	}
}
