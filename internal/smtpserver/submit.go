package smtpserver

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"

	"freehold/internal/mail"
	"freehold/internal/message"
)

// checkFrom enforces that every From: address of a submitted message is
// one the authenticated user may send as (the envelope sender was checked
// at MAIL). A message without a From field is refused: RFC 5322 §3.6
// requires one and it is what recipients see.
func (c *conn) checkFrom(h message.Header) (reply, bool) {
	froms := h.Values("From")
	if len(froms) == 0 {
		return reply{code: 550, status: "5.7.1", text: "Message has no From header"}, false
	}
	n := 0
	for _, v := range froms {
		for _, a := range message.ParseAddressList(v) {
			n++
			addr, err := mail.ParseAddress(a.Address)
			if err != nil {
				return reply{code: 550, status: "5.7.1", text: "From header address not allowed"}.withDetail(a.Address, err), false
			}
			ok, err := c.srv.opts.Resolver.MaySendAs(c.ctx, *c.account, addr)
			if err != nil {
				return replyTempFail.withDetail("send-as check", err), false
			}
			if !ok {
				return reply{code: 550, status: "5.7.1", text: "From header address not owned by user"}.withDetail(a.Address+" is not an address of "+c.account.Address, nil), false
			}
		}
	}
	if n == 0 {
		return reply{code: 550, status: "5.7.1", text: "From header has no address"}, false
	}
	return reply{}, true
}

// addMissingFields adds Date and Message-ID when a submitted message
// lacks them, as a submission server may (RFC 6409 §8.2, §8.3). h is
// raw's parsed header.
func (c *conn) addMissingFields(raw []byte, h message.Header) []byte {
	var add []byte
	if !h.Has("Date") {
		add = append(add, "Date: "+nowRFC5322(c.srv.now())+"\r\n"...)
	}
	if !h.Has("Message-ID") {
		var b [8]byte
		rand.Read(b[:])
		add = append(add, "Message-ID: <"+strconv.FormatInt(c.srv.now().UnixNano(), 36)+"."+
			hex.EncodeToString(b[:])+"@"+c.srv.opts.Hostname+">\r\n"...)
	}
	if add == nil {
		return raw
	}
	return append(add, raw...)
}
