package imapwire

import (
	"bufio"
	"errors"
	"strings"
	"testing"

	"freehold/internal/imapsearch"
)

func dec(s string) *Decoder {
	return NewDecoder(bufio.NewReader(strings.NewReader(s)))
}

func TestDecoderTokens(t *testing.T) {
	d := dec(`a1 LOGIN "us\"er" {3}` + "\r\npwd ]x NIL (a (b c) ()) 42 \r\n")
	var tag, cmd, user, pass, as, ns string
	var isNil bool
	var items []string
	var n uint32
	ok := d.Tag(&tag) && d.ExpectSP() && d.ExpectAtom(&cmd) && d.ExpectSP() &&
		d.ExpectAString(&user) && d.ExpectSP() && d.ExpectAString(&pass) && d.ExpectSP() &&
		d.ExpectAString(&as) && d.ExpectSP() && d.ExpectNString(&ns, &isNil) && d.ExpectSP()
	if !ok {
		t.Fatal(d.Err())
	}
	var item func() bool
	item = func() bool {
		if d.Peek('(') {
			return d.ExpectList(item)
		}
		var a string
		if !d.ExpectAtom(&a) {
			return false
		}
		items = append(items, a)
		return true
	}
	if !d.ExpectList(item) || !d.ExpectSP() || !d.ExpectNumber(&n) || !d.ExpectSP() || !d.ExpectCRLF() {
		t.Fatal(d.Err())
	}
	if tag != "a1" || cmd != "LOGIN" || user != `us"er` || pass != "pwd" || as != "]x" || !isNil || n != 42 || strings.Join(items, ",") != "a,b,c" {
		t.Fatalf("got %q %q %q %q %q %v %d %q", tag, cmd, user, pass, as, isNil, n, items)
	}
	if !d.LineDone() {
		t.Fatal("LineDone after CRLF")
	}
}

func TestDecoderErrorsStick(t *testing.T) {
	d := dec("abc def\r\n")
	var s string
	var n uint32
	if d.ExpectNumber(&n) || d.ExpectAtom(&s) || d.Err() == nil {
		t.Fatal("error did not stick")
	}
	var se *SyntaxError
	if !errors.As(d.Err(), &se) {
		t.Fatalf("want SyntaxError, got %v", d.Err())
	}
}

func TestLiteralLimits(t *testing.T) {
	d := dec("{10}\r\n0123456789")
	var hooked []int64
	d.Literal = func(size int64, nonSync bool) error {
		hooked = append(hooked, size)
		return nil
	}
	var s string
	if !d.ExpectString(&s) || s != "0123456789" || len(hooked) != 1 {
		t.Fatalf("literal: %q %v %v", s, hooked, d.Err())
	}
	d = dec("{100+}\r\n...")
	d.MaxLiteral = 50
	var le *LiteralError
	if d.ExpectString(&s) || !errors.As(d.Err(), &le) || !le.NonSync || !errors.Is(le, ErrTooBig) {
		t.Fatalf("want non-sync too-big error, got %v", d.Err())
	}
	d = dec("~{3}\r\n\x00\x01\x02")
	var b []byte
	if !d.LiteralBytes(&b, true) || string(b) != "\x00\x01\x02" {
		t.Fatalf("literal8: %q %v", b, d.Err())
	}
	d = dec("~{3}\r\nabc")
	if d.ExpectString(&s) {
		t.Fatal("literal8 accepted as a string")
	}
}

func TestDiscardLine(t *testing.T) {
	// The rest of a bad line goes, with a non-synchronising literal's data.
	d := dec("garbage {5+}\r\nab\r\nc more\r\nnext\r\n")
	if !d.DiscardLine(1000) {
		t.Fatal(d.Err())
	}
	var a string
	if !d.ExpectAtom(&a) || a != "next" {
		t.Fatalf("after discard: %q %v", a, d.Err())
	}
	// A synchronising literal was never acknowledged: no data follows.
	d = dec("bad {5}\r\nnext\r\n")
	d.DiscardLine(1000)
	if !d.ExpectAtom(&a) || a != "next" {
		t.Fatalf("after sync literal: %q %v", a, d.Err())
	}
	if dec(strings.Repeat("x", 2000)).DiscardLine(1000) {
		t.Fatal("unbounded discard")
	}
}

func TestSeqSet(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  uint32
		want string
	}{
		{"1:3,5", 10, "1:3,5"},
		{"*", 10, "10"},
		{"5:*", 3, "3:5"},
		{"4:2,3:7,9", 10, "2:7,9"},
		{"*", 0, ""},
		{"1:*", 0, "1"},
	} {
		d := dec(tc.in + "\r\n")
		var s imapsearch.NumSet
		if !d.ExpectSeqSet(&s) {
			t.Fatalf("%s: %v", tc.in, d.Err())
		}
		if s.String() != tc.in {
			t.Errorf("String(%s) = %s", tc.in, s.String())
		}
		var got []string
		for _, r := range s.Resolve(tc.max).Ranges {
			got = append(got, imapsearch.NumSet{Ranges: []imapsearch.NumRange{r}}.String())
		}
		if strings.Join(got, ",") != tc.want {
			t.Errorf("Resolve(%s, %d) = %v, want %s", tc.in, tc.max, got, tc.want)
		}
	}
	d := dec("$\r\n")
	var s imapsearch.NumSet
	if !d.ExpectSeqSet(&s) || !s.SearchRes {
		t.Fatal("$")
	}
	for _, bad := range []string{"0", "1:0", ",", "1,", "a"} {
		if d := dec(bad + "\r\n"); d.ExpectSeqSet(&s) && d.ExpectCRLF() {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestUTF7(t *testing.T) {
	for _, tc := range []struct{ utf8, utf7 string }{
		{"INBOX", "INBOX"},
		{"Entwürfe", "Entw&APw-rfe"},
		{"日本語", "&ZeVnLIqe-"},
		{"a&b", "a&-b"},
		{"~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
		{"😀", "&2D3eAA-"},
	} {
		if got := EncodeUTF7(tc.utf8); got != tc.utf7 {
			t.Errorf("EncodeUTF7(%q) = %q, want %q", tc.utf8, got, tc.utf7)
		}
		if got, err := DecodeUTF7(tc.utf7); err != nil || got != tc.utf8 {
			t.Errorf("DecodeUTF7(%q) = %q, %v", tc.utf7, got, err)
		}
	}
	for _, bad := range []string{"&", "&Jjo", "&AGE-", "é"} {
		if _, err := DecodeUTF7(bad); err == nil {
			t.Errorf("DecodeUTF7(%q) accepted", bad)
		}
	}
}

// FuzzDecoder runs every decoding method over arbitrary input: no panic,
// no unbounded loop, and round trips where they are defined.
func FuzzDecoder(f *testing.F) {
	for _, s := range []string{"a1 FETCH 1:*,3 (BODY[1.HEADER.FIELDS (a b)]<0.5>)\r\n", "{3+}\r\nabc \"q\\\"\" ~{2}\r\nxy", "((((((()))))))", "$ 1:2,* NIL", "&ZeVnLIqe-"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		d := NewDecoder(bufio.NewReader(strings.NewReader(string(in))))
		d.MaxLiteral = 1 << 16
		for i := 0; i < 1000 && d.Err() == nil; i++ {
			var s string
			var b []byte
			var set imapsearch.NumSet
			var n64 int64
			var isNil bool
			switch i % 9 {
			case 0:
				d.Tag(&s)
			case 1:
				d.AString(&s)
			case 2:
				if d.SeqSetNext() && d.ExpectSeqSet(&set) {
					set.Resolve(100)
					_ = set.String()
				}
			case 3:
				d.LiteralBytes(&b, true)
			case 4:
				d.List(func() bool { return d.AString(&s) })
			case 5:
				d.ExpectNString(&s, &isNil)
			case 6:
				d.ExpectNumber64(&n64)
			case 7:
				d.SP()
				d.CRLF()
			case 8:
				if !d.DiscardLine(1 << 16) {
					return
				}
			}
			if d.Err() != nil {
				var se *SyntaxError
				if errors.As(d.Err(), &se) {
					d.Reset()
					if !d.DiscardLine(1 << 16) {
						return
					}
				}
			}
		}
		if s, err := DecodeUTF7(string(in)); err == nil {
			if back, err := DecodeUTF7(EncodeUTF7(s)); err != nil || back != s {
				t.Fatalf("UTF-7 round trip of %q: %q %v", s, back, err)
			}
		}
	})
}
