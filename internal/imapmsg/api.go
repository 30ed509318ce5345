// Package imapmsg turns raw RFC 5322 messages into the values IMAP FETCH
// returns (RFC 9051 §7.5.2, IMAP4rev1's RFC 3501 §7.4.2, BINARY from
// RFC 3516): ENVELOPE, BODY and BODYSTRUCTURE in wire syntax, and the body
// sections BODY[...] and BINARY[...] name.
//
// Input is untrusted: every function accepts any bytes, never panics, and
// returns something sensible for malformed MIME (a missing boundary ends a
// multipart at the end of its parent, a missing or invalid Content-Type is
// text/plain, entities nested deeper than 32 levels are opaque
// application/octet-stream leaves).
package imapmsg

import (
	"errors"
)

// Errors returned by Extract, ExtractBinary and BinarySize.
var (
	// ErrNoSuchPart is returned when a section names a part the message
	// does not have. Servers commonly answer such a FETCH with an empty
	// string or NIL.
	ErrNoSuchPart = errors.New("no such body part")
	// ErrUnknownCTE is returned by ExtractBinary and BinarySize when the
	// part's Content-Transfer-Encoding cannot be decoded: the server
	// answers NO [UNKNOWN-CTE] (RFC 3516 §4.3).
	ErrUnknownCTE = errors.New("unknown content-transfer-encoding")
	// ErrBadSection is returned for a section that is not valid in its
	// position (MIME at the top level, HEADER.FIELDS without fields).
	ErrBadSection = errors.New("invalid section")
)

// Options says what the client can receive.
type Options struct {
	// UTF8 is true when the client accepts UTF-8 in quoted strings
	// (IMAP4rev2, or UTF8=ACCEPT enabled). When false, strings with 8-bit
	// octets are sent as literals.
	UTF8 bool
}

// Specifier is the text part of a section specification (RFC 9051 §6.4.5).
type Specifier string

// Section specifiers.
const (
	SpecNone            Specifier = ""                  // the whole part (or message)
	SpecHeader          Specifier = "HEADER"            // header of the message or message/rfc822 part
	SpecHeaderFields    Specifier = "HEADER.FIELDS"     // only the listed fields
	SpecHeaderFieldsNot Specifier = "HEADER.FIELDS.NOT" // all but the listed fields
	SpecText            Specifier = "TEXT"              // body of the message or message/rfc822 part
	SpecMIME            Specifier = "MIME"              // MIME header of a part (needs a part number)
)

// Partial is the <offset.count> suffix of BODY[]/BINARY[].
type Partial struct {
	Offset int64
	Count  int64
}

// Apply returns the octets of b that the partial names: from Offset, at
// most Count of them; empty when Offset is beyond the end (RFC 9051
// §6.4.5). A nil Partial returns b unchanged.
func (p *Partial) Apply(b []byte) []byte {
	if p == nil {
		return b
	}
	if p.Offset < 0 || p.Offset >= int64(len(b)) {
		return b[:0]
	}
	b = b[p.Offset:]
	if p.Count >= 0 && p.Count < int64(len(b)) {
		b = b[:p.Count]
	}
	return b
}

// Section is a parsed section specification: BODY[1.2.HEADER.FIELDS (To)]<0.100>
// is {Part: [1 2], Specifier: SpecHeaderFields, Fields: ["To"],
// Partial: &Partial{0, 100}}.
type Section struct {
	Part      []int
	Specifier Specifier
	Fields    []string // for SpecHeaderFields and SpecHeaderFieldsNot
	Partial   *Partial
}

// String returns the section as the FETCH response names it, without the
// brackets and without the partial (whose origin the server appends as
// "<offset>"): "1.2.HEADER.FIELDS (To)".
func (s Section) String() string {
	return string(appendSectionName(nil, s))
}

// Envelope returns the ENVELOPE value of a message (RFC 9051 §7.5.2):
// ("date" "subject" (from) (sender) (reply-to) (to) (cc) (bcc)
// "in-reply-to" "message-id"). Header values are sent as they are in the
// message, unfolded, not RFC 2047-decoded; Sender and Reply-To default to
// From.
func Envelope(raw []byte, o Options) []byte {
	return appendEnvelope(nil, headerBlock(raw), o)
}

// Body returns the BODY value (non-extensible BODYSTRUCTURE) of a message.
func Body(raw []byte, o Options) []byte {
	return appendBodyStructure(nil, Parse(raw), false, o)
}

// BodyStructure returns the BODYSTRUCTURE value of a message, with
// extension data (RFC 9051 §7.5.2).
func BodyStructure(raw []byte, o Options) []byte {
	return appendBodyStructure(nil, Parse(raw), true, o)
}

// Extract returns the octets a BODY[section]<partial> names (RFC 9051
// §6.4.5). Header-only sections of the top-level message (HEADER,
// HEADER.FIELDS, HEADER.FIELDS.NOT) scan just the header block and never
// parse MIME. The result may alias raw.
func Extract(raw []byte, s Section) ([]byte, error) {
	b, err := extract(raw, s)
	if err != nil {
		return nil, err
	}
	return s.Partial.Apply(b), nil
}

// ExtractBinary returns the body of a part with its Content-Transfer-Encoding
// decoded, for BINARY[part] (RFC 3516 §4.1, RFC 9051 §6.4.5). An empty part
// names the whole message, which is returned as it is unless it is a
// single-part message, whose body is decoded. It fails with ErrUnknownCTE
// when the encoding is not identity, base64 or quoted-printable.
func ExtractBinary(raw []byte, part []int) ([]byte, error) {
	return extractBinary(raw, part)
}

// BinarySize returns the length ExtractBinary would return, for
// BINARY.SIZE[part] (RFC 3516 §4.2).
func BinarySize(raw []byte, part []int) (int64, error) {
	b, err := extractBinary(raw, part)
	return int64(len(b)), err
}
