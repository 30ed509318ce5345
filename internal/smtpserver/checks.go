package smtpserver

import (
	"context"
	"errors"
	"strings"

	"freehold/internal/msgauth"
)

// verdict is what the end-of-data checks decided about a message.
type verdict struct {
	authResults string // Authentication-Results field to store; "" if none
	quarantine  bool   // DMARC p=quarantine: deliver to Junk
	summary     string // for the mail-event log, like "spf=pass dkim=none dmarc=none"
	signed      bool   // DKIM signatures were added (submission)
}

// verify runs the inbound checks of the MX on a message as received
// (RFC 7208 SPF, RFC 6376 DKIM, RFC 7489 DMARC). It refuses the message
// when DMARC asks for rejection (RFC 7489 §6.6.3, §7.3: 550 5.7.1 at
// the end of DATA, never a bounce later). Without a Verifier nothing is
// checked. finish calls it on the MX only.
func (c *conn) verify(raw []byte) (verdict, reply, bool) {
	o := &c.srv.opts
	if o.Verifier == nil {
		return verdict{}, reply{}, true
	}
	ctx, cancel := context.WithTimeout(c.ctx, o.VerifyTimeout)
	res := o.Verifier.Verify(ctx, msgauth.In{RemoteIP: c.remote, HELO: c.helo, MailFrom: c.tx.from, Raw: raw})
	cancel()
	v := verdict{authResults: res.AuthResults, summary: authSummary(res)}
	switch res.Action {
	case msgauth.Reject:
		text := "Message rejected per DMARC policy"
		if d := res.DMARC.Domain; d != "" {
			text += " of " + sanitizeHelo(d)
		}
		r := reply{code: 550, status: "5.7.1", text: text}.withDetail("DMARC p=reject for header.from="+res.DMARC.Domain+": "+v.summary, nil)
		return v, r, false
	case msgauth.Quarantine:
		v.quarantine = true
	}
	return v, reply{}, true
}

// authSummary is the one-line form of a Result for the mail-event log:
// "spf=pass dkim=pass,fail dmarc=pass".
func authSummary(res msgauth.Result) string {
	var b strings.Builder
	b.WriteString("spf=")
	if res.SPF.Result == "" {
		b.WriteString("none")
	} else {
		b.WriteString(string(res.SPF.Result))
	}
	b.WriteString(" dkim=")
	if len(res.DKIM) == 0 {
		b.WriteString("none")
	}
	for i, d := range res.DKIM {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(d.Result)
	}
	b.WriteString(" dmarc=")
	if res.DMARC.Result == "" {
		b.WriteString("none")
	} else {
		b.WriteString(res.DMARC.Result)
	}
	return b.String()
}

// sign DKIM-signs a submitted message (RFC 6376) and returns the signed
// form, which is what is stored and queued: a held message is therefore
// signed once, when accepted, not at its release. A message whose
// authors span several domains cannot be signed for one of them and goes
// out unsigned; any other signing failure (the key store) is temporary.
// finish calls it on submission only.
func (c *conn) sign(raw []byte) ([]byte, bool, reply, bool) {
	o := &c.srv.opts
	if o.Signer == nil {
		return raw, false, reply{}, true
	}
	ctx, cancel := context.WithTimeout(c.ctx, o.DeliverTimeout)
	sig, err := o.Signer.Sign(ctx, raw)
	cancel()
	switch {
	case errors.Is(err, msgauth.ErrNoFrom):
		c.log.Info("message not DKIM-signed: no single author domain", "err", err)
		return raw, false, reply{}, true
	case err != nil:
		return nil, false, replyTempFail.withDetail("DKIM signing", err), false
	case len(sig) == 0:
		return raw, false, reply{}, true
	}
	signed := make([]byte, 0, len(sig)+len(raw))
	return append(append(signed, sig...), raw...), true, reply{}, true
}
