package smtpserver

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"strconv"
	"strings"
	"time"

	"freehold/internal/delivery"
	"freehold/internal/maillog"
	"freehold/internal/message"
	"freehold/internal/msgauth"
)

// cmdDATA implements DATA (RFC 5321 §4.1.1.4). The message is read up to
// the end-of-data line with dot-stuffing undone (§4.5.2). A message over
// MaxMessageBytes is read to its end without being kept and refused with
// 552 (RFC 1870 §6.3). A message with a bare CR or LF (§2.3.8) is refused
// and the connection closed: a client that ends lines with bare LF may
// also have meant <LF>.<LF> as the end of data, and what it sent after it
// must not be read as commands (SMTP smuggling).
func (c *conn) cmdDATA(arg string) reply {
	if arg != "" {
		return replySyntax
	}
	if len(c.tx.rcpts) == 0 {
		// RFC 5321 §3.3: no valid recipients.
		return c.refuse(reply{code: 554, status: "5.5.1", text: "No valid recipients"})
	}
	// 354 is an intermediate reply: no enhanced code (RFC 2034 §3).
	c.write(reply{code: 354, text: "End data with <CR><LF>.<CR><LF>"})
	if !c.flush() {
		return reply{}
	}
	tooBig, bare, err := c.readDotData(c.srv.opts.MaxMessageBytes)
	if err != nil {
		c.refuse(reply{code: 421}.withDetail("reading data", err))
		c.readFailed(err, "data")
		c.quit = true
		return reply{}
	}
	switch {
	case bare:
		c.send(c.refuse(replyBareLF))
		return reply{code: 421, status: "4.7.0", text: c.srv.opts.Hostname + " Closing connection after malformed data"}
	case tooBig:
		return c.refuse(replyTooBig.withDetail("over "+strconv.FormatInt(c.srv.opts.MaxMessageBytes, 10)+" octets", nil))
	}
	return c.finish(c.data.Bytes())
}

// readDotData reads DATA content into c.data, up to and without the
// end-of-data line. It reports a message longer than max (then c.data is
// left empty) and bare CR or LF anywhere. Once a bare line end was seen it
// also accepts <LF>.<LF> and <LF>.<CR><LF> as the end, so that the
// connection stops where such a client meant the message to stop.
func (c *conn) readDotData(max int64) (tooBig, bare bool, err error) {
	c.readTimeout = c.srv.opts.DataTimeout
	c.data.Reset()
	atStart := true    // at the start of a line (after any LF)
	pendingCR := false // the previous chunk ended with CR
	var n int64
	for {
		chunk, rerr := c.br.ReadSlice('\n')
		if rerr != nil && rerr != bufio.ErrBufferFull {
			return tooBig, bare, rerr
		}
		if bareLineEnd(chunk, pendingCR) {
			bare = true
		}
		complete := rerr == nil
		if atStart && complete && (bytes.Equal(chunk, []byte(".\r\n")) || bytes.Equal(chunk, []byte(".\n"))) {
			return tooBig, bare, nil
		}
		data := chunk
		if atStart && data[0] == '.' {
			data = data[1:]
		}
		n += int64(len(data))
		switch {
		case tooBig || bare:
		case n > max:
			tooBig = true
			c.data.Reset()
		default:
			c.data.Write(data)
		}
		atStart = complete
		pendingCR = chunk[len(chunk)-1] == '\r'
	}
}

// bareLineEnd reports a CR not followed by LF or an LF not preceded by CR
// in chunk; prevCR says the byte before chunk was CR. A CR at the very end
// of chunk is judged with the next chunk.
func bareLineEnd(chunk []byte, prevCR bool) bool {
	if prevCR && len(chunk) > 0 && chunk[0] != '\n' {
		return true
	}
	for i := bytes.IndexByte(chunk, '\n'); i >= 0; {
		if i == 0 && !prevCR || i > 0 && chunk[i-1] != '\r' {
			return true
		}
		j := bytes.IndexByte(chunk[i+1:], '\n')
		if j < 0 {
			break
		}
		i += j + 1
	}
	for i := bytes.IndexByte(chunk, '\r'); i >= 0 && i < len(chunk)-1; {
		if chunk[i+1] != '\n' {
			return true
		}
		j := bytes.IndexByte(chunk[i+1:], '\r')
		if j < 0 {
			break
		}
		i += j + 1
	}
	return false
}

// cmdBDAT implements BDAT (RFC 3030 §2). The chunk follows the command
// whatever the reply, so it is always read (or skipped) before replying.
func (c *conn) cmdBDAT(arg string) reply {
	f := strings.Fields(arg)
	var size int64 = -1
	if len(f) == 1 || len(f) == 2 {
		if n, err := strconv.ParseInt(f[0], 10, 64); err == nil && n >= 0 {
			size = n
		}
	}
	if size < 0 {
		// Without a size the stream cannot be followed any further.
		c.send(reply{code: 501, status: "5.5.4", text: "Syntax: BDAT size [LAST]"})
		return reply{code: 421, status: "4.5.0", text: c.srv.opts.Hostname + " Cannot continue after a bad BDAT"}
	}
	last := len(f) == 2 && strings.EqualFold(f[1], "LAST")
	if len(f) == 2 && !last {
		return c.skipChunk(size, replySyntax)
	}
	switch st := c.state(); {
	case st == stMail:
		r := c.skipChunk(size, reply{code: 554, status: "5.5.1", text: "No valid recipients"})
		if !c.quit {
			c.refuse(r)
		}
		return r
	case st != stRcpt && st != stBDAT:
		return c.skipChunk(size, replyBadSequence)
	}
	// c.data holds exactly the chunks of this transaction: MAIL emptied it.
	if int64(c.data.Len())+size > c.srv.opts.MaxMessageBytes {
		r := c.skipChunk(size, replyTooBig)
		if !c.quit {
			c.refuse(r.withDetail("BDAT over "+strconv.FormatInt(c.srv.opts.MaxMessageBytes, 10)+" octets", nil))
		}
		return r
	}
	c.tx.bdat = true
	c.readTimeout = c.srv.opts.DataTimeout
	if _, err := io.CopyN(&c.data, c.br, size); err != nil {
		c.refuse(reply{code: 421}.withDetail("reading BDAT chunk", err))
		c.readFailed(err, "data")
		c.quit = true
		return reply{}
	}
	if !last {
		return reply{code: 250, status: "2.0.0", text: strconv.FormatInt(size, 10) + " octets received"}
	}
	if bareLineEnd(c.data.Bytes(), false) || bytes.HasSuffix(c.data.Bytes(), []byte("\r")) {
		// Framing is by length here, so nothing can be smuggled; the
		// message is still malformed (RFC 5321 §2.3.8).
		return c.refuse(replyBareLF)
	}
	return c.finish(c.data.Bytes())
}

// skipChunk discards a BDAT chunk and returns r, or closes the connection
// if the chunk cannot be read.
func (c *conn) skipChunk(size int64, r reply) reply {
	c.readTimeout = c.srv.opts.DataTimeout
	if _, err := io.CopyN(io.Discard, c.br, size); err != nil {
		c.readFailed(err, "data")
		c.quit = true
		return reply{}
	}
	return r
}

// finish checks and delivers a complete message, and answers 250 only
// once the Deliverer reported it durable. On the MX the inbound checks
// run on the message as received; on submission the message is
// completed (Date, Message-ID) and DKIM-signed. In both, forged
// Authentication-Results fields claiming our host name are removed
// (RFC 8601 §5) before anything is stored.
func (c *conn) finish(raw []byte) reply {
	tx := c.tx
	o := &c.srv.opts
	size := int64(len(raw))
	var v verdict
	if o.Mode == ModeSubmission {
		hb, _ := message.SplitHeader(raw)
		h := message.ParseHeader(hb)
		if r, ok := c.checkFrom(h); !ok {
			return c.refuse(r)
		}
		raw = msgauth.StripForgedAuthResults(c.addMissingFields(raw, h), o.Hostname)
		var r reply
		var ok bool
		if raw, v.signed, r, ok = c.sign(raw); !ok {
			return c.refuse(r)
		}
	} else {
		var r reply
		var ok bool
		if v, r, ok = c.verify(raw); !ok {
			return c.refuse(r)
		}
		raw = msgauth.StripForgedAuthResults(raw, o.Hostname)
	}
	env := delivery.Envelope{
		From: tx.from, Recipients: tx.rcpts, Trace: c.trace(tx),
		DSNRet: tx.dsnRet, DSNEnvID: tx.dsnEnvID, HoldUntil: tx.hold,
		AuthResults: v.authResults, Quarantine: v.quarantine,
	}
	if c.account != nil {
		env.Account = c.account.ID
	}
	ctx, cancel := context.WithTimeout(c.ctx, o.DeliverTimeout)
	res, err := o.Deliverer.Deliver(ctx, env, raw)
	cancel()
	if err != nil {
		return c.refuse(deliveryError(err))
	}
	c.accepted++
	ev := maillog.Received{
		Session: c.mailSession(), From: tx.from, To: tx.rcptAddresses(),
		Size: size, Blob: res.Blob, MessageID: res.MessageID,
		Local: len(res.Delivered), Queued: len(res.Queued),
		Auth: v.summary, Signed: v.signed, Hold: res.Hold,
	}
	if v.quarantine {
		ev.Action = msgauth.Quarantine.String()
	}
	c.srv.mlog.Received(c.ctx, ev)
	c.resetTx()
	return reply{code: 250, status: "2.0.0", text: "Ok: queued as " + tx.id}
}

// refuse logs a message refused at the data stage (DATA, BDAT or the
// end of data), ends the transaction and returns the reply.
func (c *conn) refuse(r reply) reply {
	r = c.reject(maillog.StageData, r)
	c.resetTx()
	return r
}

// trace describes the transaction for the Received field.
func (c *conn) trace(tx *transaction) delivery.Trace {
	t := delivery.Trace{
		ID: tx.id, Helo: c.helo, RemoteIP: c.remote,
		Protocol: delivery.Protocol(c.ehlo, c.tlsState != nil, c.account != nil, tx.utf8),
		Time:     c.srv.now(),
	}
	if c.tlsState != nil {
		t.TLSVersion = tls.VersionName(c.tlsState.Version)
		t.TLSCipher = tls.CipherSuiteName(c.tlsState.CipherSuite)
	}
	return t
}

// nowRFC5322 formats t for Date fields.
func nowRFC5322(t time.Time) string { return t.Format(time.RFC1123Z) }
