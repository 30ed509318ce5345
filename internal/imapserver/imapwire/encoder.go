package imapwire

import (
	"bufio"
	"strconv"
	"unicode/utf8"
)

// Encoder writes responses. Methods chain and the first write error
// sticks (see Err); callers flush at the end of a response batch.
//
// The buffered writer is taken from Acquire on the first write and handed
// back to Release by ReleaseIdle once flushed, so that a connection
// waiting for its client holds no output buffer.
type Encoder struct {
	w   *bufio.Writer
	err error
	// UTF8 allows UTF-8 in quoted strings (IMAP4rev2 or UTF8=ACCEPT
	// enabled); otherwise 8-bit text is sent as a literal.
	UTF8 bool

	acquire func() *bufio.Writer
	release func(*bufio.Writer)
}

// NewEncoder returns an Encoder that takes a buffered writer from acquire
// when it has something to write and gives it back to release.
func NewEncoder(acquire func() *bufio.Writer, release func(*bufio.Writer)) *Encoder {
	return &Encoder{acquire: acquire, release: release}
}

// ReleaseIdle gives the writer back if nothing is buffered in it.
func (e *Encoder) ReleaseIdle() {
	if e.w != nil && e.w.Buffered() == 0 {
		e.release(e.w)
		e.w = nil
	}
}

// Err returns the first write error.
func (e *Encoder) Err() error { return e.err }

func (e *Encoder) writer() *bufio.Writer {
	if e.w == nil {
		e.w = e.acquire()
	}
	return e.w
}

func (e *Encoder) raw(s string) *Encoder {
	if e.err == nil {
		_, e.err = e.writer().WriteString(s)
	}
	return e
}

// Raw writes s as is; the caller guarantees it is valid wire syntax.
func (e *Encoder) Raw(s string) *Encoder { return e.raw(s) }

// RawBytes writes b as is.
func (e *Encoder) RawBytes(b []byte) *Encoder {
	if e.err == nil {
		_, e.err = e.writer().Write(b)
	}
	return e
}

// Atom writes an atom (or any token the caller knows to be safe, such as
// a flag or a response code).
func (e *Encoder) Atom(s string) *Encoder { return e.raw(s) }

// SP writes a space.
func (e *Encoder) SP() *Encoder { return e.Byte(' ') }

// Byte writes one octet.
func (e *Encoder) Byte(c byte) *Encoder {
	if e.err == nil {
		e.err = e.writer().WriteByte(c)
	}
	return e
}

// CRLF ends a line.
func (e *Encoder) CRLF() *Encoder { return e.raw("\r\n") }

// Number writes a 32-bit number.
func (e *Encoder) Number(n uint32) *Encoder {
	return e.Number64(int64(n))
}

// Number64 writes a number64.
func (e *Encoder) Number64(n int64) *Encoder {
	if e.err == nil {
		var buf [20]byte
		_, e.err = e.writer().Write(strconv.AppendInt(buf[:0], n, 10))
	}
	return e
}

// quotable reports whether s can be sent as a quoted string.
func (e *Encoder) quotable(s string) bool {
	if len(s) > 1024 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\r' || c == '\n' || c == 0:
			return false
		case c >= 0x80:
			if !e.UTF8 {
				return false
			}
		}
	}
	return !e.UTF8 || utf8.ValidString(s)
}

// String writes s as a quoted string when it can, otherwise as a literal.
func (e *Encoder) String(s string) *Encoder {
	if !e.quotable(s) {
		return e.Literal([]byte(s))
	}
	e.Byte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '"' || c == '\\' {
			e.Byte('\\')
		}
		e.Byte(c)
	}
	return e.Byte('"')
}

// AString writes s as an atom when it is one, else as a string.
func (e *Encoder) AString(s string) *Encoder {
	if s == "" || len(s) > 256 || s == "NIL" {
		return e.String(s)
	}
	for i := 0; i < len(s); i++ {
		if !IsAtomChar(s[i]) && s[i] != ']' {
			return e.String(s)
		}
	}
	return e.raw(s)
}

// Literal writes a synchronising literal (servers never wait).
func (e *Encoder) Literal(b []byte) *Encoder {
	e.Byte('{').Number64(int64(len(b))).raw("}\r\n")
	return e.RawBytes(b)
}

// Literal8 writes a binary literal (RFC 3516).
func (e *Encoder) Literal8(b []byte) *Encoder {
	e.raw("~{").Number64(int64(len(b))).raw("}\r\n")
	return e.RawBytes(b)
}

// Flush writes buffered output to the connection.
func (e *Encoder) Flush() error {
	if e.err == nil && e.w != nil {
		e.err = e.w.Flush()
	}
	return e.err
}
