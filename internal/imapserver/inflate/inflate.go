// Package inflate decompresses a raw DEFLATE stream (RFC 1951) arriving
// over an interactive connection, as COMPRESS=DEFLATE (RFC 4978) needs.
//
// Two properties set it apart from compress/flate and its faster forks:
// it hands out what it has decoded at the end of every block, and it never
// reads input beyond the bits of the symbol it is decoding. Clients built
// on zlib end each write with Z_PARTIAL_FLUSH: the block is closed and an
// empty fixed-code block follows, part of whose 10 bits the client keeps
// until its next write. compress/flate returns data only at stored blocks
// or when its window fills, and faster decoders read a few bits ahead;
// both wait forever for input the client will only send once it has the
// server's answer.
//
// Decoding is canonical-Huffman, one bit at a time (the method of Mark
// Adler's puff): simple and bounded, and fast enough for the
// client-to-server direction of IMAP.
package inflate

import (
	"errors"
	"io"
)

// ErrCorrupt is returned for input that is not valid DEFLATE.
var ErrCorrupt = errors.New("inflate: corrupt input")

const (
	maxBits   = 15  // longest code
	maxLCodes = 286 // literal/length codes
	maxDCodes = 30  // distance codes
	fixLCodes = 288 // literal/length codes in the fixed table
	winSize   = 1 << 15
	winMask   = winSize - 1
)

// huffman is a canonical code: how many codes of each length, and the
// symbols ordered by code.
type huffman struct {
	count  [maxBits + 1]uint16
	symbol [fixLCodes]uint16
}

// build makes h from code lengths. It fails for over-subscribed codes;
// incomplete codes are allowed (RFC 1951 permits one-code distance trees,
// and decode reports any unused code as corrupt).
func (h *huffman) build(lengths []uint8) error {
	h.count = [maxBits + 1]uint16{}
	for _, l := range lengths {
		h.count[l]++
	}
	if int(h.count[0]) == len(lengths) {
		return nil // no codes: decode will fail if used
	}
	left := 1
	for l := 1; l <= maxBits; l++ {
		left <<= 1
		left -= int(h.count[l])
		if left < 0 {
			return ErrCorrupt
		}
	}
	var offs [maxBits + 1]uint16
	for l := 1; l < maxBits; l++ {
		offs[l+1] = offs[l] + h.count[l]
	}
	for sym, l := range lengths {
		if l != 0 {
			h.symbol[offs[l]] = uint16(sym)
			offs[l]++
		}
	}
	return nil
}

// state is where Read stands in the stream.
type state uint8

const (
	stHeader state = iota
	stStored
	stHuffman
	stDone
)

// Reader decompresses from an io.ByteReader.
type Reader struct {
	r     io.ByteReader
	bits  uint32 // bit buffer, LSB first
	nbits uint
	err   error

	state      state
	final      bool
	storedLeft int
	lit, dist  *huffman
	// tables holds the current block's literal/length and distance codes,
	// built from its header (fixed codes are rebuilt for each fixed
	// block: cheap, and the memory stays with the connection otherwise).
	tables [2]huffman

	window  [winSize]byte
	wpos    int   // next write position in window
	written int64 // bytes output so far (distance check)
	// A back-reference not yet fully copied to the caller.
	copyLen, copyDist int
}

// NewReader returns a Reader of r.
func NewReader(r io.ByteReader) *Reader {
	return &Reader{r: r}
}

// bit reads n (at most 16) bits, reading input bytes only as needed.
func (z *Reader) getBits(n uint) (uint32, error) {
	for z.nbits < n {
		b, err := z.r.ReadByte()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
		z.bits |= uint32(b) << z.nbits
		z.nbits += 8
	}
	v := z.bits & (1<<n - 1)
	z.bits >>= n
	z.nbits -= n
	return v, nil
}

// decode reads one symbol, one bit at a time.
func (z *Reader) decode(h *huffman) (int, error) {
	code, first, index := 0, 0, 0
	for l := 1; l <= maxBits; l++ {
		b, err := z.getBits(1)
		if err != nil {
			return 0, err
		}
		code |= int(b)
		count := int(h.count[l])
		if code-count < first {
			return int(h.symbol[index+(code-first)]), nil
		}
		index += count
		first += count
		first <<= 1
		code <<= 1
	}
	return 0, ErrCorrupt
}

func (z *Reader) put(b byte) {
	z.window[z.wpos] = b
	z.wpos = (z.wpos + 1) & winMask
	z.written++
}

// Read implements io.Reader. It returns as soon as a block ends with
// data decoded, so that a command compressed with a partial or sync flush
// reaches the caller without more input.
func (z *Reader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if z.copyLen > 0 {
			for z.copyLen > 0 && n < len(p) {
				b := z.window[(z.wpos-z.copyDist)&winMask]
				z.put(b)
				p[n] = b
				n++
				z.copyLen--
			}
			continue
		}
		if z.err != nil {
			break
		}
		switch z.state {
		case stDone:
			z.err = io.EOF
		case stHeader:
			if n > 0 {
				return n, nil // a block ended: hand the data out now
			}
			z.err = z.header()
		case stStored:
			if z.storedLeft == 0 {
				z.state = stHeader
				continue
			}
			b, err := z.r.ReadByte()
			if err != nil {
				z.err = noEOF(err)
				break
			}
			z.storedLeft--
			z.put(b)
			p[n] = b
			n++
		case stHuffman:
			var lit int
			lit, z.err = z.symbol()
			if z.err == nil && lit >= 0 {
				z.put(byte(lit))
				p[n] = byte(lit)
				n++
			}
		}
	}
	if n > 0 {
		return n, nil
	}
	return 0, z.err
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// header reads a block header and prepares the block.
func (z *Reader) header() error {
	if z.final {
		z.state = stDone
		return nil
	}
	h, err := z.getBits(3)
	if err != nil {
		return err
	}
	z.final = h&1 == 1
	switch h >> 1 {
	case 0:
		return z.storedHeader()
	case 1:
		z.buildFixed()
	case 2:
		if err := z.dynamicHeader(); err != nil {
			return err
		}
	default:
		return ErrCorrupt
	}
	z.lit, z.dist = &z.tables[0], &z.tables[1]
	z.state = stHuffman
	return nil
}

func (z *Reader) storedHeader() error {
	z.bits, z.nbits = 0, 0 // skip to a byte boundary
	var hdr [4]byte
	for i := range hdr {
		b, err := z.r.ReadByte()
		if err != nil {
			return noEOF(err)
		}
		hdr[i] = b
	}
	ln := int(hdr[0]) | int(hdr[1])<<8
	nln := int(hdr[2]) | int(hdr[3])<<8
	if ln != ^nln&0xffff {
		return ErrCorrupt
	}
	z.storedLeft = ln
	z.state = stStored
	return nil
}

func (z *Reader) buildFixed() {
	var l [fixLCodes]uint8
	for i := range l {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	z.tables[0].build(l[:])
	var d [maxDCodes]uint8
	for i := range d {
		d[i] = 5
	}
	z.tables[1].build(d[:])
}

// clOrder is the order of code length code lengths (RFC 1951 §3.2.7).
func clOrder() [19]uint8 {
	return [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
}

func (z *Reader) dynamicHeader() error {
	v, err := z.getBits(14)
	if err != nil {
		return err
	}
	nlen, ndist, ncode := int(v&31)+257, int(v>>5&31)+1, int(v>>10)+4
	if nlen > maxLCodes || ndist > maxDCodes {
		return ErrCorrupt
	}
	var lengths [maxLCodes + maxDCodes]uint8
	order := clOrder()
	for i := 0; i < ncode; i++ {
		b, err := z.getBits(3)
		if err != nil {
			return err
		}
		lengths[order[i]] = uint8(b)
	}
	var lencode huffman
	if err := lencode.build(lengths[:19]); err != nil {
		return err
	}
	lengths = [maxLCodes + maxDCodes]uint8{}
	for i := 0; i < nlen+ndist; {
		sym, err := z.decode(&lencode)
		if err != nil {
			return err
		}
		if sym < 16 {
			lengths[i] = uint8(sym)
			i++
			continue
		}
		var rep uint32
		var val uint8
		switch sym {
		case 16:
			if i == 0 {
				return ErrCorrupt
			}
			val = lengths[i-1]
			rep, err = z.getBits(2)
			rep += 3
		case 17:
			rep, err = z.getBits(3)
			rep += 3
		default:
			rep, err = z.getBits(7)
			rep += 11
		}
		if err != nil {
			return err
		}
		if i+int(rep) > nlen+ndist {
			return ErrCorrupt
		}
		for ; rep > 0; rep-- {
			lengths[i] = val
			i++
		}
	}
	if lengths[256] == 0 {
		return ErrCorrupt // no end-of-block code
	}
	if err := z.tables[0].build(lengths[:nlen]); err != nil {
		return err
	}
	return z.tables[1].build(lengths[nlen : nlen+ndist])
}

// Length and distance bases and extra bits (RFC 1951 §3.2.5).
func lengthBase(i int) (base int, extra uint) {
	b := [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	e := [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	return int(b[i]), uint(e[i])
}

func distBase(i int) (base int, extra uint) {
	b := [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	e := [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	return int(b[i]), uint(e[i])
}

// symbol decodes one literal (returned), an end of block (-1, state
// changes) or a back-reference (-1, copyLen set).
func (z *Reader) symbol() (int, error) {
	sym, err := z.decode(z.lit)
	if err != nil {
		return 0, err
	}
	switch {
	case sym < 256:
		return sym, nil
	case sym == 256:
		z.state = stHeader
		return -1, nil
	}
	sym -= 257
	if sym >= 29 {
		return 0, ErrCorrupt
	}
	base, extra := lengthBase(sym)
	x, err := z.getBits(extra)
	if err != nil {
		return 0, err
	}
	length := base + int(x)
	dsym, err := z.decode(z.dist)
	if err != nil {
		return 0, err
	}
	if dsym >= 30 {
		return 0, ErrCorrupt
	}
	dbase, dextra := distBase(dsym)
	x, err = z.getBits(dextra)
	if err != nil {
		return 0, err
	}
	dist := dbase + int(x)
	if int64(dist) > z.written || dist > winSize {
		return 0, ErrCorrupt
	}
	z.copyLen, z.copyDist = length, dist
	return -1, nil
}
