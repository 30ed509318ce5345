package imapmsg

import (
	"errors"
	"strings"
	"testing"
)

func TestExtractNested(t *testing.T) {
	raw := crlf(nestedMessage)
	msg := string(raw)
	headerEnd := strings.Index(msg, "\r\n\r\n") + 4
	tests := []struct {
		sec  Section
		want string
		err  error
	}{
		{sec: Section{}, want: msg},
		{sec: Section{Specifier: SpecHeader}, want: msg[:headerEnd]},
		{sec: Section{Specifier: SpecText}, want: msg[headerEnd:]},
		{sec: Section{Specifier: SpecHeaderFields, Fields: []string{"SUBJECT", "x-absent"}}, want: "Subject: outer\r\n\r\n"},
		{sec: Section{Specifier: SpecHeaderFieldsNot, Fields: []string{"subject", "mime-version", "content-type"}},
			want: "From: outer@example.com\r\n\r\n"},
		{sec: Section{Part: []int{1}}, want: "--alt\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
			"Caf=C3=A9 au lait\r\n--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Caf&eacute;</p>\r\n--alt--"},
		{sec: Section{Part: []int{1}, Specifier: SpecMIME}, want: "Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n"},
		{sec: Section{Part: []int{1, 1}}, want: "Caf=C3=A9 au lait"},
		{sec: Section{Part: []int{1, 2}, Specifier: SpecMIME}, want: "Content-Type: text/html; charset=utf-8\r\n\r\n"},
		{sec: Section{Part: []int{2}}, want: "JVBERi0xLjQK"},
		{sec: Section{Part: []int{3, 1}}, want: "inner text"},
		{sec: Section{Part: []int{3, 2}}, want: "iVBORw0KGgo="},
		{sec: Section{Part: []int{3}, Specifier: SpecHeaderFields, Fields: []string{"To"}}, want: "To: x@example.net\r\n\r\n"},
		{sec: Section{Part: []int{3}, Specifier: SpecMIME}, want: "Content-Type: message/rfc822\r\nContent-Description: forwarded\r\n\r\n"},
		{sec: Section{Part: []int{3}, Specifier: SpecText}, want: "--inner\r\nContent-Type: text/plain\r\n\r\ninner text\r\n--inner\r\n" +
			"Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--inner--"},
		{sec: Section{Part: []int{3, 1, 1}}, want: "inner text"}, // part 1 of a non-multipart is itself
		{sec: Section{Part: []int{1, 1, 2}}, err: ErrNoSuchPart},
		{sec: Section{Part: []int{4}}, err: ErrNoSuchPart},
		{sec: Section{Part: []int{0}}, err: ErrNoSuchPart},
		{sec: Section{Part: []int{2}, Specifier: SpecHeader}, err: ErrNoSuchPart}, // not a message/rfc822
		{sec: Section{Specifier: SpecMIME}, err: ErrBadSection},
		{sec: Section{Specifier: SpecHeaderFields}, err: ErrBadSection},
		{sec: Section{Specifier: "BOGUS"}, err: ErrBadSection},
		{sec: Section{Part: []int{1, 1}, Partial: &Partial{Offset: 4, Count: 5}}, want: "C3=A9"},
		{sec: Section{Part: []int{1, 1}, Partial: &Partial{Offset: 10, Count: 100}}, want: "au lait"},
		{sec: Section{Part: []int{1, 1}, Partial: &Partial{Offset: 100, Count: 5}}, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.sec.String(), func(t *testing.T) {
			got, err := Extract(raw, tt.sec)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestExtractSinglePart(t *testing.T) {
	raw := crlf("Subject: s\nTo: a@b\n\nline 1\nline 2\n")
	for _, tt := range []struct {
		sec  Section
		want string
	}{
		{Section{Part: []int{1}}, "line 1\r\nline 2\r\n"},
		{Section{Part: []int{1}, Specifier: SpecMIME}, "Subject: s\r\nTo: a@b\r\n\r\n"},
		{Section{Specifier: SpecHeaderFields, Fields: []string{"to"}}, "To: a@b\r\n\r\n"},
	} {
		got, err := Extract(raw, tt.sec)
		if err != nil || string(got) != tt.want {
			t.Errorf("%s: got %q, %v; want %q", tt.sec, got, err, tt.want)
		}
	}
	// A message without a blank line is all header, and its header
	// sections have no blank line either (RFC 9051 §6.4.5).
	got, err := Extract([]byte("Subject: only"), Section{Specifier: SpecHeader})
	if err != nil || string(got) != "Subject: only" {
		t.Errorf("header without blank line: %q, %v", got, err)
	}
	got, err = Extract([]byte("Subject: only"), Section{Specifier: SpecHeaderFields, Fields: []string{"subject"}})
	if err != nil || string(got) != "Subject: only\r\n" {
		t.Errorf("HEADER.FIELDS without blank line: %q, %v", got, err)
	}
	got, _ = Extract([]byte("Subject: only"), Section{Specifier: SpecText})
	if len(got) != 0 {
		t.Errorf("TEXT of a header-only message = %q", got)
	}
}

func TestHeaderFieldsFolding(t *testing.T) {
	raw := crlf("Received: from a\n\tby b\nSubject: folded\n  subject\nX-Bad line without colon\nsubject : obsolete space\n\nbody\n")
	got, err := Extract(raw, Section{Specifier: SpecHeaderFields, Fields: []string{"Subject"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "Subject: folded\r\n  subject\r\nsubject : obsolete space\r\n\r\n"; string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestSectionString(t *testing.T) {
	for _, tt := range []struct {
		sec  Section
		want string
	}{
		{Section{}, ""},
		{Section{Part: []int{1, 2}}, "1.2"},
		{Section{Part: []int{3}, Specifier: SpecMIME}, "3.MIME"},
		{Section{Specifier: SpecHeaderFields, Fields: []string{"From", "x y"}}, `HEADER.FIELDS (From "x y")`},
		{Section{Part: []int{2}, Specifier: SpecHeaderFieldsNot, Fields: []string{"To"}, Partial: &Partial{1, 2}}, "2.HEADER.FIELDS.NOT (To)"},
	} {
		if got := tt.sec.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestExtractBinary(t *testing.T) {
	raw := crlf(nestedMessage)
	tests := []struct {
		part []int
		want string
		err  error
	}{
		{part: []int{1, 1}, want: "Café au lait"},
		{part: []int{1, 2}, want: "<p>Caf&eacute;</p>"},
		{part: []int{2}, want: "%PDF-1.4\n"},
		{part: []int{3, 2}, want: "\x89PNG\r\n\x1a\n"},
		{part: []int{9}, err: ErrNoSuchPart},
	}
	for _, tt := range tests {
		got, err := ExtractBinary(raw, tt.part)
		if !errors.Is(err, tt.err) {
			t.Errorf("%v: err %v, want %v", tt.part, err, tt.err)
			continue
		}
		if string(got) != tt.want {
			t.Errorf("%v: got %q, want %q", tt.part, got, tt.want)
		}
		if n, err := BinarySize(raw, tt.part); err == nil && n != int64(len(tt.want)) {
			t.Errorf("%v: BinarySize = %d, want %d", tt.part, n, len(tt.want))
		}
	}
	if got, err := ExtractBinary(raw, nil); err != nil || string(got) != string(raw) {
		t.Errorf("BINARY[] of a multipart should be the message as is (err %v)", err)
	}
	single := crlf("Subject: x\nContent-Transfer-Encoding: base64\n\naGVsbG8=\n")
	if got, err := ExtractBinary(single, nil); err != nil || string(got) != "Subject: x\r\nContent-Transfer-Encoding: base64\r\n\r\nhello" {
		t.Errorf("BINARY[] of an encoded single part = %q, %v", got, err)
	}
	unknown := crlf("Content-Transfer-Encoding: x-uuencode\n\nbegin 644 x\n")
	if _, err := ExtractBinary(unknown, []int{1}); !errors.Is(err, ErrUnknownCTE) {
		t.Errorf("unknown CTE: err = %v, want ErrUnknownCTE", err)
	}
	if _, err := BinarySize(unknown, []int{1}); !errors.Is(err, ErrUnknownCTE) {
		t.Errorf("unknown CTE size: err = %v, want ErrUnknownCTE", err)
	}
}

func TestDecodeLenient(t *testing.T) {
	for _, tt := range []struct{ in, enc, want string }{
		{"aGVs\r\nbG8=\r\n", "base64", "hello"},
		{"aGVs!bG8=junk after padding", "base64", "hello"},
		{"aGVsbG8", "base64", "hello"},
		{"a=3Db=\r\nc =ZZ", "quoted-printable", "a=bc =ZZ"},
		{"as is", "8bit", "as is"},
	} {
		got, err := decodeCTE([]byte(tt.in), tt.enc)
		if err != nil || string(got) != tt.want {
			t.Errorf("decode %q (%s) = %q, %v; want %q", tt.in, tt.enc, got, err, tt.want)
		}
	}
}

func TestPartText(t *testing.T) {
	raw := crlf("Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nCaf=E9\n")
	text, err := Parse(raw).Text()
	if err != nil || text != "Café\r\n" {
		t.Errorf("Text = %q, %v", text, err)
	}
	raw = crlf("Content-Type: text/plain; charset=x-unknown\n\nabc\xff\n")
	if text, _ := Parse(raw).Text(); text != "abc\uFFFD\r\n" {
		t.Errorf("unknown charset Text = %q", text)
	}
}
