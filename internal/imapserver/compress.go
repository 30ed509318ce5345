package imapserver

import (
	"context"
	"strings"
)

// Command: COMPRESS, RFC 4978. The tagged OK is the last uncompressed
// output; both directions are DEFLATE streams after it.
func cmdCompress(ctx context.Context, c *conn, k *cmd) error {
	var alg string
	if !c.dec.ExpectSP() || !c.dec.ExpectAtom(&alg) {
		return c.dec.Err()
	}
	if err := c.endArgs(); err != nil {
		return err
	}
	if !strings.EqualFold(alg, "DEFLATE") {
		return bad("", "Unknown compression algorithm")
	}
	if c.deflate != nil {
		return no("COMPRESSIONACTIVE", "Already compressing")
	}
	if c.br.Buffered() > 0 {
		return bad("", "Data sent before COMPRESS completed")
	}
	c.tagged(k.tag, statusOK, "", "DEFLATE active")
	if err := c.flush(); err != nil {
		return err
	}
	k.replied = true
	return c.startCompress()
}
