package imapserver

import (
	"strconv"
	"strings"

	"freehold/internal/imapmsg"
	"freehold/internal/imapsearch"
	"freehold/internal/store"
)

// fetchKind is one FETCH data item (RFC 9051 §6.4.5).
type fetchKind uint8

const (
	fUID fetchKind = iota
	fFlags
	fInternalDate
	fSize
	fEnvelope
	fBody          // BODY: the non-extensible BODYSTRUCTURE
	fBodyStructure // BODYSTRUCTURE
	fModSeq        // MODSEQ (RFC 7162 §3.1.4)
	fSection       // BODY[section]<partial>, BODY.PEEK[...]
	fBinary        // BINARY[part]<partial>, BINARY.PEEK[...] (RFC 3516)
	fBinarySize    // BINARY.SIZE[part]
	fRFC822        // RFC822: BODY[] under its old name
	fRFC822Header  // RFC822.HEADER: BODY.PEEK[HEADER]
	fRFC822Text    // RFC822.TEXT: BODY[TEXT]
)

type fetchItem struct {
	kind    fetchKind
	section imapmsg.Section
	peek    bool
}

// needs says how much of the message an item reads.
func (it fetchItem) needs() rawNeed {
	switch it.kind {
	case fEnvelope, fRFC822Header:
		return needHeader
	case fSection:
		if len(it.section.Part) == 0 {
			switch it.section.Specifier {
			case imapmsg.SpecHeader, imapmsg.SpecHeaderFields, imapmsg.SpecHeaderFieldsNot:
				return needHeader
			}
		}
		return needFull
	case fBody, fBodyStructure, fBinary, fBinarySize, fRFC822, fRFC822Text:
		return needFull
	}
	return needNothing
}

// setsSeen reports whether fetching the item marks the message \Seen.
func (it fetchItem) setsSeen() bool {
	switch it.kind {
	case fSection, fBinary:
		return !it.peek
	case fRFC822, fRFC822Text:
		return true
	}
	return false
}

// rawNeed orders what a FETCH must read from the blob store.
type rawNeed uint8

const (
	needNothing rawNeed = iota
	needHeader
	needFull
)

// fetchReq is a parsed FETCH command.
type fetchReq struct {
	set          imapsearch.NumSet
	items        []fetchItem
	changedSince store.ModSeq // CHANGEDSINCE, 0 when absent
	vanished     bool         // VANISHED modifier (RFC 7162 §3.2.6)
}

func isFetchNameChar(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.'
}

// parseFetch reads the arguments of FETCH.
func (c *conn) parseFetch(r *fetchReq) bool {
	d := c.dec
	if !d.ExpectSP() || !d.ExpectSeqSet(&r.set) || !d.ExpectSP() {
		return false
	}
	if d.Peek('(') {
		if !d.ExpectList(func() bool { return c.parseFetchAtt(r) }) {
			return false
		}
	} else if !c.parseFetchAtt(r) {
		return false
	}
	if len(r.items) == 0 {
		return d.SetErr(bad("", "FETCH needs data items"))
	}
	if d.SP() {
		return c.parseFetchModifiers(r)
	}
	return true
}

// parseFetchModifiers reads "(CHANGEDSINCE n [VANISHED])" (RFC 7162).
func (c *conn) parseFetchModifiers(r *fetchReq) bool {
	d := c.dec
	return d.ExpectList(func() bool {
		var m string
		if !d.ExpectAtom(&m) {
			return false
		}
		switch strings.ToUpper(m) {
		case "CHANGEDSINCE":
			var n int64
			if !d.ExpectSP() || !d.ExpectNumber64(&n) {
				return false
			}
			if n == 0 {
				return d.SetErr(bad("", "CHANGEDSINCE must be positive"))
			}
			r.changedSince = store.ModSeq(n)
			return true
		case "VANISHED":
			r.vanished = true
			return true
		}
		return d.SetErr(bad("", "Unknown FETCH modifier"))
	})
}

// parseFetchAtt reads one fetch-att (or a macro) and appends its items.
func (c *conn) parseFetchAtt(r *fetchReq) bool {
	d := c.dec
	name, ok := d.Token(isFetchNameChar)
	if !ok {
		return false
	}
	add := func(k ...fetchKind) bool {
		for _, x := range k {
			r.items = append(r.items, fetchItem{kind: x})
		}
		return true
	}
	switch strings.ToUpper(name) {
	case "ALL":
		return add(fFlags, fInternalDate, fSize, fEnvelope)
	case "FAST":
		return add(fFlags, fInternalDate, fSize)
	case "FULL":
		return add(fFlags, fInternalDate, fSize, fEnvelope, fBody)
	case "UID":
		return add(fUID)
	case "FLAGS":
		return add(fFlags)
	case "INTERNALDATE":
		return add(fInternalDate)
	case "RFC822.SIZE":
		return add(fSize)
	case "ENVELOPE":
		return add(fEnvelope)
	case "BODYSTRUCTURE":
		return add(fBodyStructure)
	case "MODSEQ":
		return add(fModSeq)
	case "RFC822":
		return add(fRFC822)
	case "RFC822.HEADER":
		return add(fRFC822Header)
	case "RFC822.TEXT":
		return add(fRFC822Text)
	case "BODY":
		if !d.Peek('[') {
			return add(fBody)
		}
		return c.parseSectionItem(r, fSection, false)
	case "BODY.PEEK":
		return c.parseSectionItem(r, fSection, true)
	case "BINARY":
		return c.parseSectionItem(r, fBinary, false)
	case "BINARY.PEEK":
		return c.parseSectionItem(r, fBinary, true)
	case "BINARY.SIZE":
		return c.parseSectionItem(r, fBinarySize, true)
	}
	return d.SetErr(bad("", "Unknown FETCH item"))
}

// parseSectionItem reads "[section]" and, except for BINARY.SIZE, an
// optional "<offset.count>".
func (c *conn) parseSectionItem(r *fetchReq, kind fetchKind, peek bool) bool {
	d := c.dec
	if !d.ExpectSpecial('[') {
		return false
	}
	spec, ok := d.Token(isFetchNameChar)
	if !ok {
		return false
	}
	sec, ok := parseSectionSpec(spec)
	if !ok {
		return d.SetErr(bad("", "Invalid section"))
	}
	if kind != fSection && sec.Specifier != imapmsg.SpecNone {
		return d.SetErr(bad("", "BINARY takes part numbers only"))
	}
	if sec.Specifier == imapmsg.SpecHeaderFields || sec.Specifier == imapmsg.SpecHeaderFieldsNot {
		if !d.ExpectSP() || !d.ExpectList(func() bool {
			var f string
			if !d.ExpectAString(&f) {
				return false
			}
			sec.Fields = append(sec.Fields, f)
			return true
		}) {
			return false
		}
		if len(sec.Fields) == 0 {
			return d.SetErr(bad("", "HEADER.FIELDS needs field names"))
		}
	}
	if !d.ExpectSpecial(']') {
		return false
	}
	if kind != fBinarySize && d.Special('<') {
		var off, n int64
		if !d.ExpectNumber64(&off) || !d.ExpectSpecial('.') || !d.ExpectNumber64(&n) || !d.ExpectSpecial('>') {
			return false
		}
		if n == 0 {
			return d.SetErr(bad("", "Partial count must be positive"))
		}
		sec.Partial = &imapmsg.Partial{Offset: off, Count: n}
	}
	r.items = append(r.items, fetchItem{kind: kind, section: sec, peek: peek})
	return true
}

// parseSectionSpec parses the text between the brackets up to any field
// list: "", "1.2", "HEADER", "1.MIME", "2.HEADER.FIELDS.NOT".
func parseSectionSpec(s string) (imapmsg.Section, bool) {
	var sec imapmsg.Section
	for s != "" {
		i := strings.IndexByte(s, '.')
		part := s
		if i >= 0 {
			part = s[:i]
		}
		n, err := strconv.Atoi(part)
		if err != nil {
			break
		}
		if n <= 0 || len(sec.Part) >= 64 {
			return sec, false
		}
		sec.Part = append(sec.Part, n)
		if i < 0 {
			s = ""
			break
		}
		s = s[i+1:]
		if s == "" {
			return sec, false // trailing dot
		}
	}
	switch strings.ToUpper(s) {
	case "":
		sec.Specifier = imapmsg.SpecNone
	case "HEADER":
		sec.Specifier = imapmsg.SpecHeader
	case "HEADER.FIELDS":
		sec.Specifier = imapmsg.SpecHeaderFields
	case "HEADER.FIELDS.NOT":
		sec.Specifier = imapmsg.SpecHeaderFieldsNot
	case "TEXT":
		sec.Specifier = imapmsg.SpecText
	case "MIME":
		if len(sec.Part) == 0 {
			return sec, false
		}
		sec.Specifier = imapmsg.SpecMIME
	default:
		return sec, false
	}
	return sec, true
}
