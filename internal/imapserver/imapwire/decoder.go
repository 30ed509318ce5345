// Package imapwire reads and writes the IMAP wire syntax (RFC 9051 §9) on
// the server side: a Decoder for client commands and an Encoder for
// responses. It knows the grammar, not the commands.
package imapwire

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// SyntaxError is a command that does not follow the grammar. The server
// answers it with BAD; the connection stays usable once the rest of the
// line is discarded.
type SyntaxError struct{ Msg string }

func (e *SyntaxError) Error() string { return "syntax error: " + e.Msg }

// LiteralError is returned when the Literal hook refuses a literal. For a
// synchronising literal the client has sent nothing more and the command
// can be answered; for a non-synchronising one the data is on its way and
// the connection must be closed unless the data is discarded.
type LiteralError struct {
	Size    int64
	NonSync bool
	Err     error
}

func (e *LiteralError) Error() string {
	return fmt.Sprintf("literal of %d octets refused: %v", e.Size, e.Err)
}

func (e *LiteralError) Unwrap() error { return e.Err }

// ErrTooBig is the cause of a LiteralError over the limit.
var ErrTooBig = errors.New("literal too big")

// maxDepth bounds parenthesised list nesting so that hostile input cannot
// grow the stack without bound.
const maxDepth = 32

// maxToken bounds an atom or quoted string so that a line without end
// cannot grow memory without bound.
const maxToken = 64 << 10

// Decoder reads client commands. Its methods follow the grammar: the ones
// named after an element return false when the input holds something else
// (without consuming it where they can), the Expect ones record a
// SyntaxError. The first error sticks: every later call returns false, so
// a handler can chain calls and check Err once.
type Decoder struct {
	r   *bufio.Reader
	err error

	// Literal is called once a literal's header ({n}, {n+} or ~{n}) has
	// been read, before its data. It enforces limits and, for a
	// synchronising literal, sends the continuation request. A non-nil
	// error is recorded as a LiteralError.
	Literal func(size int64, nonSync bool) error
	// MaxLiteral caps every literal; 0 means no cap beyond the Literal
	// hook's.
	MaxLiteral int64

	// MaxLine caps the octets of a command outside its literals (0: no
	// cap), so that a line of many small tokens cannot grow memory
	// without bound. Reset starts the count again.
	MaxLine int64
	read    int64

	// UTF8 allows 8-bit UTF-8 in quoted strings (IMAP4rev2, UTF8=ACCEPT).
	// It is always tolerated on input; the field is kept for symmetry with
	// the Encoder.
	UTF8 bool

	depth int
	// crlf is true right after an end of line was consumed.
	crlf bool
	// lastLiteralNonSync remembers the kind of the last literal header
	// read, for Discard.
	lastLiteralNonSync bool
}

// NewDecoder returns a Decoder reading r.
func NewDecoder(r *bufio.Reader) *Decoder {
	return &Decoder{r: r}
}

// Reset clears the sticky error so that the next command can be read.
func (d *Decoder) Reset() {
	d.err = nil
	d.depth = 0
	d.crlf = false
	d.read = 0
}

// LineDone reports whether the last octets consumed ended a line, so that
// after an error the caller knows whether the rest of the line must be
// skipped.
func (d *Decoder) LineDone() bool { return d.crlf }

// Err returns the first error met, or nil.
func (d *Decoder) Err() error { return d.err }

// SetErr records err unless an error is already recorded, and returns
// false so that callers can `return d.SetErr(...)`.
func (d *Decoder) SetErr(err error) bool {
	if d.err == nil {
		d.err = err
	}
	return false
}

func (d *Decoder) syntax(format string, args ...any) bool {
	return d.SetErr(&SyntaxError{Msg: fmt.Sprintf(format, args...)})
}

func (d *Decoder) readByte() (byte, bool) {
	if d.err != nil {
		return 0, false
	}
	d.crlf = false
	if d.MaxLine > 0 && d.read >= d.MaxLine {
		return 0, d.syntax("command too long")
	}
	b, err := d.r.ReadByte()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, d.SetErr(err)
	}
	d.read++
	return b, true
}

// peek returns the next byte without consuming it.
func (d *Decoder) peek() (byte, bool) {
	if d.err != nil {
		return 0, false
	}
	b, err := d.r.Peek(1)
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, d.SetErr(err)
	}
	return b[0], true
}

// Peek reports whether the next byte is c, without consuming it.
func (d *Decoder) Peek(c byte) bool {
	b, ok := d.peek()
	return ok && b == c
}

// Special consumes c if it is next.
func (d *Decoder) Special(c byte) bool {
	b, ok := d.peek()
	if !ok || b != c {
		return false
	}
	d.readByte()
	return true
}

// ExpectSpecial consumes c or records an error.
func (d *Decoder) ExpectSpecial(c byte) bool {
	if d.Special(c) {
		return true
	}
	return d.syntax("expected %q", c)
}

// SP consumes one space if it is next.
func (d *Decoder) SP() bool { return d.Special(' ') }

// ExpectSP consumes one space or records an error.
func (d *Decoder) ExpectSP() bool { return d.ExpectSpecial(' ') }

// CRLF consumes the end of line if it is next. A bare LF is accepted too,
// as many servers do, for hand-typed sessions.
func (d *Decoder) CRLF() bool {
	b, ok := d.peek()
	if !ok {
		return false
	}
	switch b {
	case '\n':
		d.readByte()
		d.crlf = true
		return true
	case '\r':
		d.readByte()
		b, ok = d.readByte()
		if !ok {
			return false
		}
		if b != '\n' {
			return d.syntax("CR without LF")
		}
		d.crlf = true
		return true
	}
	return false
}

// ExpectCRLF consumes the end of line or records an error.
func (d *Decoder) ExpectCRLF() bool {
	if d.CRLF() {
		return true
	}
	return d.syntax("expected end of line")
}

// IsAtomChar reports whether c is an ATOM-CHAR (RFC 9051 §9).
func IsAtomChar(c byte) bool {
	switch c {
	case '(', ')', '{', ' ', '%', '*', '"', '\\', ']':
		return false
	}
	return c > 0x1f && c < 0x7f
}

// readWhile reads bytes while ok says so, up to maxToken.
func (d *Decoder) readWhile(ok func(byte) bool) (string, bool) {
	var sb strings.Builder
	for {
		b, got := d.peek()
		if !got {
			return "", false
		}
		if !ok(b) {
			break
		}
		if sb.Len() >= maxToken {
			return "", d.syntax("token too long")
		}
		sb.WriteByte(b)
		d.readByte()
	}
	return sb.String(), true
}

// Atom reads an atom; it returns false, consuming nothing, if none is next.
func (d *Decoder) Atom(s *string) bool {
	v, ok := d.readWhile(IsAtomChar)
	if !ok || v == "" {
		return false
	}
	*s = v
	return true
}

// ExpectAtom reads an atom or records an error.
func (d *Decoder) ExpectAtom(s *string) bool {
	if d.Atom(s) {
		return true
	}
	return d.syntax("expected atom")
}

// Tag reads a command tag: ASTRING-CHARs except "+".
func (d *Decoder) Tag(s *string) bool {
	v, ok := d.readWhile(func(c byte) bool {
		return c != '+' && (IsAtomChar(c) || c == ']')
	})
	if !ok || v == "" {
		return false
	}
	*s = v
	return true
}

// Quoted reads a quoted string if one is next.
func (d *Decoder) Quoted(s *string) bool {
	if !d.Special('"') {
		return false
	}
	var sb strings.Builder
	for {
		b, ok := d.readByte()
		if !ok {
			return false
		}
		switch b {
		case '"':
			v := sb.String()
			if !utf8.ValidString(v) {
				return d.syntax("quoted string is not UTF-8")
			}
			*s = v
			return true
		case '\\':
			b, ok = d.readByte()
			if !ok {
				return false
			}
			if b != '"' && b != '\\' {
				return d.syntax("bad escape in quoted string")
			}
		case '\r', '\n', 0:
			return d.syntax("bad character in quoted string")
		}
		if sb.Len() >= maxToken {
			return d.syntax("quoted string too long")
		}
		sb.WriteByte(b)
	}
}

// LiteralHeader reads "{n}", "{n+}" CRLF, or with binary "~{n}" CRLF, and
// calls the Literal hook. It returns the size.
func (d *Decoder) literalHeader(binary bool) (int64, bool) {
	if binary {
		if !d.Special('~') {
			return 0, false
		}
		if !d.ExpectSpecial('{') {
			return 0, false
		}
	} else if !d.Special('{') {
		return 0, false
	}
	var n int64
	if !d.ExpectNumber64(&n) {
		return 0, false
	}
	nonSync := d.Special('+')
	if !d.ExpectSpecial('}') || !d.ExpectCRLF() {
		return 0, false
	}
	d.lastLiteralNonSync = nonSync
	if d.MaxLiteral > 0 && n > d.MaxLiteral {
		return 0, d.SetErr(&LiteralError{Size: n, NonSync: nonSync, Err: ErrTooBig})
	}
	if d.Literal != nil {
		if err := d.Literal(n, nonSync); err != nil {
			return 0, d.SetErr(&LiteralError{Size: n, NonSync: nonSync, Err: err})
		}
	}
	return n, true
}

func (d *Decoder) literalData(n int64) ([]byte, bool) {
	d.crlf = false
	buf := make([]byte, n)
	if _, err := io.ReadFull(d.r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, d.SetErr(err)
	}
	return buf, true
}

// LiteralBytes reads a literal ({n} or {n+}), or with binary also a
// literal8 (~{n}), and returns its data.
func (d *Decoder) LiteralBytes(b *[]byte, binary bool) bool {
	c, ok := d.peek()
	if !ok {
		return false
	}
	var n int64
	switch {
	case c == '{':
		n, ok = d.literalHeader(false)
	case c == '~' && binary:
		n, ok = d.literalHeader(true)
	default:
		return false
	}
	if !ok {
		return false
	}
	data, ok := d.literalData(n)
	if ok {
		*b = data
	}
	return ok
}

// String reads a quoted string or a literal.
func (d *Decoder) String(s *string) bool {
	if d.Quoted(s) {
		return true
	}
	if d.err != nil {
		return false
	}
	var b []byte
	if d.LiteralBytes(&b, false) {
		*s = string(b)
		return true
	}
	return false
}

// ExpectString reads a string or records an error.
func (d *Decoder) ExpectString(s *string) bool {
	if d.String(s) {
		return true
	}
	return d.syntax("expected string")
}

// AString reads an astring: an atom (with "]" allowed) or a string.
func (d *Decoder) AString(s *string) bool {
	if d.String(s) {
		return true
	}
	if d.err != nil {
		return false
	}
	v, ok := d.readWhile(func(c byte) bool { return IsAtomChar(c) || c == ']' })
	if !ok || v == "" {
		return false
	}
	*s = v
	return true
}

// ExpectAString reads an astring or records an error.
func (d *Decoder) ExpectAString(s *string) bool {
	if d.AString(s) {
		return true
	}
	return d.syntax("expected astring")
}

// ExpectNString reads a string or NIL; ok reports which.
func (d *Decoder) ExpectNString(s *string, isNil *bool) bool {
	if d.String(s) {
		*isNil = false
		return true
	}
	var a string
	if d.Atom(&a) && strings.EqualFold(a, "NIL") {
		*isNil = true
		return true
	}
	return d.syntax("expected nstring")
}

// ListMailbox reads a LIST pattern: list-chars (atom chars plus % * ])
// or a string.
func (d *Decoder) ExpectListMailbox(s *string) bool {
	if d.String(s) {
		return true
	}
	if d.err != nil {
		return false
	}
	v, ok := d.readWhile(func(c byte) bool {
		return IsAtomChar(c) || c == '%' || c == '*' || c == ']'
	})
	if !ok {
		return false
	}
	if v == "" {
		return d.syntax("expected mailbox pattern")
	}
	*s = v
	return true
}

// ExpectNumber reads a 32-bit number.
func (d *Decoder) ExpectNumber(n *uint32) bool {
	var v int64
	if !d.ExpectNumber64(&v) {
		return false
	}
	if v > 1<<32-1 {
		return d.syntax("number too large")
	}
	*n = uint32(v)
	return true
}

// Number reads a 32-bit number if digits are next.
func (d *Decoder) Number(n *uint32) bool {
	b, ok := d.peek()
	if !ok || b < '0' || b > '9' {
		return false
	}
	return d.ExpectNumber(n)
}

// ExpectNumber64 reads a number64 (at most 2^63-1).
func (d *Decoder) ExpectNumber64(n *int64) bool {
	var v int64
	digits := 0
	for {
		b, ok := d.peek()
		if !ok {
			return false
		}
		if b < '0' || b > '9' {
			break
		}
		d.readByte()
		if v > (1<<63-1-9)/10 {
			return d.syntax("number too large")
		}
		v = v*10 + int64(b-'0')
		digits++
	}
	if digits == 0 {
		return d.syntax("expected number")
	}
	*n = v
	return true
}

// ExpectNZNumber reads a non-zero 32-bit number.
func (d *Decoder) ExpectNZNumber(n *uint32) bool {
	if !d.ExpectNumber(n) {
		return false
	}
	if *n == 0 {
		return d.syntax("expected non-zero number")
	}
	return true
}

// ExpectList reads a parenthesised, space-separated list, calling item
// for each element. An empty list "()" calls item zero times.
func (d *Decoder) ExpectList(item func() bool) bool {
	if !d.ExpectSpecial('(') {
		return false
	}
	return d.listRest(item)
}

// List reads a parenthesised list if one is next.
func (d *Decoder) List(item func() bool) bool {
	if !d.Special('(') {
		return false
	}
	return d.listRest(item)
}

func (d *Decoder) listRest(item func() bool) bool {
	d.depth++
	defer func() { d.depth-- }()
	if d.depth > maxDepth {
		return d.syntax("lists nested too deeply")
	}
	if d.Special(')') {
		return true
	}
	for {
		if !item() {
			if d.err == nil {
				d.syntax("bad list element")
			}
			return false
		}
		if d.Special(')') {
			return true
		}
		if !d.ExpectSP() {
			return false
		}
	}
}

// Depth returns the current list nesting, for parsers that recurse on
// their own (SEARCH keys).
func (d *Decoder) Depth() int { return d.depth }

// Enter and Leave bound recursion of callers that nest without List.
func (d *Decoder) Enter() bool {
	d.depth++
	if d.depth > maxDepth {
		return d.syntax("nested too deeply")
	}
	return true
}

// Leave undoes Enter.
func (d *Decoder) Leave() { d.depth-- }

// Flag reads a flag: "\" atom or a keyword atom; "\*" too when
// allowWildcard (PERMANENTFLAGS is server-side only, but accepted).
func (d *Decoder) ExpectFlag(s *string) bool {
	if d.Special('\\') {
		var a string
		if !d.ExpectAtom(&a) {
			return false
		}
		*s = `\` + a
		return true
	}
	return d.ExpectAtom(s)
}

// DiscardLine skips the rest of the current line after a syntax error,
// including the data of any non-synchronising literal announced at the
// end of a line (the client sends it without waiting). Synchronising
// literals were not acknowledged, so the client sends nothing more for
// them. It gives up (returning false) after limit octets.
func (d *Decoder) DiscardLine(limit int64) bool {
	d.err = nil
	var tail []byte // last few octets, to spot "{n+}"
	var read int64
	for {
		b, err := d.r.ReadByte()
		if err != nil {
			d.err = err
			return false
		}
		read++
		if read > limit {
			return false
		}
		if b == '\n' {
			n, nonSync := literalAtEnd(tail)
			if n < 0 || !nonSync {
				d.crlf = true
				return true
			}
			if read+n > limit {
				return false
			}
			if _, err := d.r.Discard(int(n)); err != nil {
				d.err = err
				return false
			}
			read += n
			tail = tail[:0]
			continue
		}
		if len(tail) >= 32 {
			copy(tail, tail[1:])
			tail = tail[:31]
		}
		tail = append(tail, b)
	}
}

// literalAtEnd parses "{n}" or "{n+}" (and an optional CR) at the end of
// tail; n is -1 when there is none.
func literalAtEnd(tail []byte) (int64, bool) {
	s := strings.TrimSuffix(string(tail), "\r")
	if !strings.HasSuffix(s, "}") {
		return -1, false
	}
	i := strings.LastIndexByte(s, '{')
	if i < 0 {
		return -1, false
	}
	num := s[i+1 : len(s)-1]
	nonSync := strings.HasSuffix(num, "+")
	num = strings.TrimSuffix(num, "+")
	if num == "" || len(num) > 18 {
		return -1, false
	}
	var n int64
	for _, c := range []byte(num) {
		if c < '0' || c > '9' {
			return -1, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, nonSync
}

// Buffered returns how many octets are already read from the connection
// and not yet decoded.
func (d *Decoder) Buffered() int { return d.r.Buffered() }

// ReadLine reads raw octets up to and including LF, at most limit; it is
// used for AUTHENTICATE responses and IDLE's DONE, which are not commands.
func (d *Decoder) ReadLine(limit int) (string, bool) {
	var sb strings.Builder
	for {
		b, ok := d.readByte()
		if !ok {
			return "", false
		}
		if b == '\n' {
			d.crlf = true
			return strings.TrimSuffix(sb.String(), "\r"), true
		}
		if sb.Len() >= limit {
			return "", d.syntax("line too long")
		}
		sb.WriteByte(b)
	}
}

// Token reads the longest run of octets accepted by ok (at most 64 KiB);
// it may be empty.
func (d *Decoder) Token(ok func(byte) bool) (string, bool) {
	return d.readWhile(ok)
}
