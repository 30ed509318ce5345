package imapmsg

// Part is one MIME entity of a parsed message: the message itself, a
// part of a multipart, or the message a message/rfc822 part encapsulates.
// Header and Body alias the raw bytes given to Parse.
type Part struct {
	// Header is the raw header block, including the blank line that ends
	// it when there is one.
	Header []byte
	// Body is the raw body, still transfer-encoded.
	Body []byte
	// Type and Subtype are the lower-case media type; a missing
	// Content-Type gives text/plain (or message/rfc822 inside a
	// multipart/digest), and so does an unparseable one (RFC 2045 §5.2).
	Type, Subtype string
	// Params are the Content-Type parameters as written (names and values
	// not decoded).
	Params []Param
	// Parts are the children of a multipart (never empty for one).
	Parts []*Part
	// Message is the encapsulated message of a message/rfc822 or
	// message/global part whose encoding is an identity one; nil otherwise.
	Message *Part
}

// Param is one parameter of a structured MIME header field.
type Param struct {
	Name, Value string
}

// Parse splits a message into its MIME structure. It never fails: see the
// package comment for how malformed input is read.
func Parse(raw []byte) *Part {
	return parseMessage(raw, 0)
}

// Get returns the value of the first header field of the part with this
// name (case-insensitive), unfolded and trimmed but not RFC 2047-decoded;
// "" if absent.
func (p *Part) Get(name string) string {
	return headerGet(p.Header, name)
}

// GetAll returns the values of every header field of the part with this
// name, in order, unfolded but not decoded.
func (p *Part) GetAll(name string) []string {
	return headerGetAll(p.Header, name)
}

// Field is one header field: its name as written and its unfolded value.
type Field struct {
	Name, Value string
}

// Fields returns every header field of the part, in order.
func (p *Part) Fields() []Field {
	var fs []Field
	it := fieldIter{h: p.Header}
	for {
		f, ok := it.next()
		if !ok {
			return fs
		}
		fs = append(fs, Field{Name: string(f.Name), Value: unfold(f.Value)})
	}
}

// Encoding returns the part's Content-Transfer-Encoding, lower case, "7bit"
// when absent.
func (p *Part) Encoding() string {
	return partEncoding(p)
}

// Param returns the value of a Content-Type parameter (name compared
// case-insensitively), "" if absent.
func (p *Part) Param(name string) string {
	return paramGet(p.Params, name)
}

// Decoded returns the part's body with its Content-Transfer-Encoding
// removed (ErrUnknownCTE for an encoding it does not know). Broken base64
// or quoted-printable is decoded as far as it goes.
func (p *Part) Decoded() ([]byte, error) {
	return decodeCTE(p.Body, p.Encoding())
}

// Text returns the body of a text part decoded to UTF-8: transfer encoding
// removed, then the charset parameter converted (invalid sequences become
// U+FFFD; an unknown charset is read as UTF-8).
func (p *Part) Text() (string, error) {
	return partText(p)
}

// Walk calls fn for p and every part below it, depth first, including the
// parts of encapsulated messages, until fn returns false.
func (p *Part) Walk(fn func(*Part) bool) bool {
	if !fn(p) {
		return false
	}
	for _, c := range p.Parts {
		if !c.Walk(fn) {
			return false
		}
	}
	if p.Message != nil {
		return p.Message.Walk(fn)
	}
	return true
}

// DecodeHeader decodes the RFC 2047 encoded words of an unfolded header
// value to UTF-8. Words in an unknown charset, and malformed words, are
// left as written.
func DecodeHeader(s string) string {
	return decodeWords(s)
}
