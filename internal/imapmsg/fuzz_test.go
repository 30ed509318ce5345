package imapmsg

import (
	"testing"
)

var fuzzSeeds = []string{
	nestedMessage,
	"Subject: x\n\nbody\n",
	"",
	"\n",
	"Content-Type: multipart/mixed; boundary=b\n\n--b\n--b\n--b--",
	"Content-Type: message/rfc822\n\nContent-Type: message/rfc822\n\nContent-Type: multipart/alternative; boundary=\"\"\n\n",
	"From: (((unclosed <a@b\nTo: \"q\\\nCc: g:;;;,,<>@@\n\n",
	"Content-Type: multipart/mixed; boundary=\"a\"\nContent-Disposition: attachment; filename=\"\x00\xff\"\n\n--a\nContent-Type: text/plain; charset=\"\n\n\xff\xfe",
	"Content-Type: message/rfc822\nContent-Transfer-Encoding: quoted-printable\n\nSubject: =\n=3D\n\n",
}

// FuzzBodyStructure checks that any input gives balanced BODY,
// BODYSTRUCTURE and ENVELOPE values without panicking.
func FuzzBodyStructure(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
		f.Add(crlf(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, o := range []Options{{}, {UTF8: true}} {
			if err := checkWire(BodyStructure(raw, o)); err != nil {
				t.Fatalf("BODYSTRUCTURE: %v", err)
			}
			if err := checkWire(Body(raw, o)); err != nil {
				t.Fatalf("BODY: %v", err)
			}
			if err := checkWire(Envelope(raw, o)); err != nil {
				t.Fatalf("ENVELOPE: %v", err)
			}
		}
		// What SEARCH BODY/TEXT reads must not panic either.
		Parse(raw).Walk(func(p *Part) bool {
			p.Text()
			for _, f := range p.Fields() {
				DecodeHeader(f.Value)
			}
			return true
		})
	})
}

// FuzzExtract checks that every section of any input either extracts or
// fails with an error, and that extracted parts lie within the input.
func FuzzExtract(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(crlf(s), uint8(1), uint8(2), uint8(0))
	}
	specs := []Specifier{SpecNone, SpecHeader, SpecHeaderFields, SpecHeaderFieldsNot, SpecText, SpecMIME}
	f.Fuzz(func(t *testing.T, raw []byte, a, b, spec uint8) {
		var parts [][]int
		parts = append(parts, nil, []int{int(a % 5)}, []int{int(a % 5), int(b % 5)}, []int{1, int(b % 4), 1})
		for _, p := range parts {
			for _, sp := range specs[int(spec)%len(specs):] {
				s := Section{Part: p, Specifier: sp, Fields: []string{"Subject", "content-type"}}
				out, err := Extract(raw, s)
				if err == nil && len(out) > len(raw)+len(raw)/2+4 && sp != SpecHeader {
					t.Fatalf("%s: %d octets out of %d in", s, len(out), len(raw))
				}
			}
			if _, err := ExtractBinary(raw, p); err != nil {
				continue
			}
		}
	})
}
