package inflate

import (
	"bytes"
	"compress/flate"
	"encoding/hex"
	"errors"
	"io"
	"math/rand"
	"testing"
)

// errWouldBlock stands for a client that has sent nothing more.
var errWouldBlock = errors.New("would block")

// feed is a ByteReader over the input received so far.
type feed struct{ buf []byte }

func (f *feed) ReadByte() (byte, error) {
	if len(f.buf) == 0 {
		return 0, errWouldBlock
	}
	b := f.buf[0]
	f.buf = f.buf[1:]
	return b, nil
}

func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, level := range []int{flate.HuffmanOnly, flate.NoCompression, flate.BestSpeed, 5, flate.BestCompression} {
		var chunks [][]byte
		var comp bytes.Buffer
		w, _ := flate.NewWriter(&comp, level)
		var bounds []int
		for i := 0; i < 40; i++ {
			n := rng.Intn(5000)
			c := make([]byte, n)
			for j := range c {
				if rng.Intn(3) == 0 {
					c[j] = byte(rng.Intn(256))
				} else {
					c[j] = "abcdefgh IMAP FETCH\r\n"[rng.Intn(21)]
				}
			}
			chunks = append(chunks, c)
			w.Write(c)
			w.Flush() // a sync flush after each "command"
			bounds = append(bounds, comp.Len())
		}
		// Feed the stream flush by flush: each chunk must come out whole
		// with only its own input available.
		all := comp.Bytes()
		f := &feed{}
		z := NewReader(f)
		prev := 0
		for i, c := range chunks {
			f.buf = append(f.buf, all[prev:bounds[i]]...)
			prev = bounds[i]
			got := make([]byte, 0, len(c))
			buf := make([]byte, 700)
			for len(got) < len(c) {
				n, err := z.Read(buf)
				if err != nil {
					t.Fatalf("level %d chunk %d: %v after %d/%d", level, i, err, len(got), len(c))
				}
				got = append(got, buf[:n]...)
			}
			if !bytes.Equal(got, c) {
				t.Fatalf("level %d chunk %d differs", level, i)
			}
		}
	}
}

// A zlib client's Z_PARTIAL_FLUSH (captured from mbsync): the command is
// returned although the trailing empty block is incomplete.
func TestPartialFlush(t *testing.T) {
	raw, _ := hex.DecodeString("3255f073f4750d0e707476e5e50208")
	z := NewReader(&feed{buf: raw})
	buf := make([]byte, 100)
	n, err := z.Read(buf)
	if err != nil || string(buf[:n]) != "5 NAMESPACE\r\n" {
		t.Fatalf("got %q, %v", buf[:n], err)
	}
	if _, err := z.Read(buf); !errors.Is(err, errWouldBlock) {
		t.Fatalf("then: %v", err)
	}
}

func TestCorrupt(t *testing.T) {
	for _, in := range []string{"ff", "07", "0500ff", "040001fffe", "fd"} {
		raw, _ := hex.DecodeString(in)
		z := NewReader(bytes.NewReader(raw))
		_, err := io.ReadAll(z)
		if err == nil {
			t.Errorf("%s: no error", in)
		}
	}
}

func FuzzInflate(f *testing.F) {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, 6)
	w.Write([]byte("a1 LOGIN user pass\r\na2 SELECT INBOX\r\na2 SELECT INBOX\r\n"))
	w.Flush()
	f.Add(b.Bytes())
	raw, _ := hex.DecodeString("3255f073f4750d0e707476e5e50208")
	f.Add(raw)
	f.Fuzz(func(t *testing.T, in []byte) {
		z := NewReader(bytes.NewReader(in))
		buf := make([]byte, 512)
		total := 0
		for total < 1<<22 {
			n, err := z.Read(buf)
			total += n
			if err != nil {
				return
			}
			if n == 0 {
				t.Fatal("Read returned 0, nil")
			}
		}
	})
}
