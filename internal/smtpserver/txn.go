package smtpserver

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"freehold/internal/delivery"
	"freehold/internal/mail"
	"freehold/internal/maillog"
)

// transaction is one mail transaction, from MAIL to the end of its data
// (RFC 5321 §3.3).
type transaction struct {
	id    string
	from  string // reverse-path as received; "" for <>
	size  int64  // SIZE parameter (RFC 1870), 0 if absent
	utf8  bool   // SMTPUTF8 parameter (RFC 6531)
	rcpts []delivery.Recipient
	bdat  bool // a BDAT chunk was received (RFC 3030)

	dsnRet   string    // RET (RFC 3461 §4.3), upper case
	dsnEnvID string    // ENVID (RFC 3461 §4.4), decoded
	holdAsk  bool      // HOLDFOR or HOLDUNTIL was given (RFC 4865)
	hold     time.Time // release time; zero: no hold
}

func (t *transaction) rcptAddresses() []string {
	out := make([]string, len(t.rcpts))
	for i, r := range t.rcpts {
		out[i] = r.Address
	}
	return out
}

// resetTx abandons the current transaction (RSET, EHLO, end of data).
func (c *conn) resetTx() {
	c.tx = nil
	c.data.Reset()
	if c.data.Cap() > 1<<20 {
		// Do not keep a large message's buffer for the connection's life.
		c.data = bytes.Buffer{}
	}
}

// cmdMAIL implements MAIL (RFC 5321 §4.1.1.2) with the SIZE (RFC 1870
// §6), BODY (RFC 6152 §2), SMTPUTF8 (RFC 6531 §3.4), AUTH (RFC 4954 §5),
// RET and ENVID (RFC 3461 §4.3, §4.4) and, on submission, HOLDFOR and
// HOLDUNTIL (RFC 4865 §3) parameters. In submission the sender must be
// one of the authenticated user's addresses.
func (c *conn) cmdMAIL(arg string) reply {
	o := &c.srv.opts
	if o.Mode == ModeSubmission && c.account == nil {
		// RFC 4954 §6: 530 until the client authenticates.
		return c.reject(maillog.StageMail, replyAuthNeeded)
	}
	path, params, err := parsePathArg(arg, "FROM:")
	if err != nil {
		return c.reject(maillog.StageMail, reply{code: 501, status: "5.5.4", text: "Syntax: MAIL FROM:<address>"}.withDetail("parse", err))
	}
	tx := &transaction{from: path}
	for _, p := range params {
		if r, ok := c.mailParam(tx, p); !ok {
			return c.reject(maillog.StageMail, r)
		}
	}
	if path != "" {
		if !tx.utf8 && !isASCII(path) {
			return c.reject(maillog.StageMail, replyUTF8Needed)
		}
		addr, err := mail.ParseAddress(path)
		if err != nil {
			return c.reject(maillog.StageMail, reply{code: 553, status: "5.1.7", text: "Bad sender address syntax"}.withDetail(path, err))
		}
		if o.Mode == ModeSubmission {
			ok, err := o.Resolver.MaySendAs(c.ctx, *c.account, addr)
			if err != nil {
				return c.reject(maillog.StageMail, replyTempFail.withDetail("send-as check", err))
			}
			if !ok {
				return c.reject(maillog.StageMail, reply{code: 550, status: "5.7.1", text: "Sender address not owned by user"}.withDetail(path+" is not an address of "+c.account.Address, nil))
			}
		}
	} else if o.Mode == ModeSubmission {
		return c.reject(maillog.StageMail, reply{code: 550, status: "5.7.1", text: "Null sender not allowed"})
	}
	c.txSeq++
	tx.id = c.id + "." + strconv.Itoa(c.txSeq)
	c.tx = tx
	c.data.Reset()
	return reply{code: 250, status: "2.1.0", text: "Ok"}
}

// mailParam applies one MAIL parameter; false with the reply on refusal.
func (c *conn) mailParam(tx *transaction, p param) (reply, bool) {
	if !c.ehlo {
		// RFC 5321 §4.1.1.1: no extensions after HELO.
		return replyBadParam, false
	}
	switch p.key {
	case "SIZE":
		n, err := strconv.ParseInt(p.value, 10, 64)
		if err != nil || n < 0 {
			return replySyntax.withDetail("SIZE="+p.value, nil), false
		}
		if n > c.srv.opts.MaxMessageBytes {
			return reply{code: 552, status: "5.3.4", text: "Message size exceeds fixed maximum message size"}.withDetail("SIZE="+p.value, nil), false
		}
		tx.size = n
	case "BODY":
		switch strings.ToUpper(p.value) {
		case "7BIT", "8BITMIME":
		default:
			return replyBadParam.withDetail("BODY="+p.value, nil), false
		}
	case "SMTPUTF8":
		if p.set {
			return replySyntax, false
		}
		tx.utf8 = true
	case "AUTH":
		// RFC 4954 §5: the identity a trusted relay vouches for. We trust
		// no one's word for it and ignore it.
	case "RET":
		v, err := parseRet(p.value)
		if err != nil {
			return dsnReply(err), false
		}
		tx.dsnRet = v
	case "ENVID":
		v, err := parseEnvID(p.value)
		if err != nil {
			return dsnReply(err), false
		}
		tx.dsnEnvID = v
	case "HOLDFOR", "HOLDUNTIL":
		if !c.futureRelease() {
			return replyBadParam.withDetail(p.key, nil), false
		}
		t, err := holdTime(c.srv.now(), c.srv.opts.MaxHold, p, tx.holdAsk)
		if err != nil {
			return holdReply(err), false
		}
		tx.holdAsk, tx.hold = true, t
	default:
		return replyBadParam.withDetail(p.key, nil), false
	}
	return reply{}, true
}

// cmdRCPT implements RCPT (RFC 5321 §4.1.1.3) with the NOTIFY and ORCPT
// parameters (RFC 3461 §4.1, §4.2). On the MX only local recipients are
// accepted; remote ones are refused as relaying unless the client
// authenticated on submission, where they go to the queue.
func (c *conn) cmdRCPT(arg string) reply {
	o := &c.srv.opts
	path, params, err := parsePathArg(arg, "TO:")
	if err != nil || path == "" {
		return c.rejectRcpt(path, reply{code: 501, status: "5.5.4", text: "Syntax: RCPT TO:<address>"}.withDetail("parse", err))
	}
	rcpt := delivery.Recipient{Address: path}
	for _, p := range params {
		if r, ok := c.rcptParam(&rcpt, p); !ok {
			return c.rejectRcpt(path, r)
		}
	}
	if len(c.tx.rcpts) >= o.MaxRecipients {
		// RFC 5321 §4.5.3.1.10: 452, the client sends the rest later.
		return c.rejectRcpt(path, reply{code: 452, status: "4.5.3", text: "Too many recipients"})
	}
	if !c.tx.utf8 && !isASCII(path) {
		return c.rejectRcpt(path, replyUTF8Needed)
	}
	target := path
	if strings.EqualFold(path, "postmaster") {
		// RFC 5321 §4.5.1: <postmaster> without a domain must work.
		target = o.Postmaster
	}
	addr, err := mail.ParseAddress(target)
	if err != nil {
		return c.rejectRcpt(path, replyBadAddress.withDetail(path, err))
	}
	var route delivery.Route
	if c.account != nil {
		route, err = o.Resolver.ResolveSubmission(c.ctx, addr, path)
	} else {
		route, err = o.Resolver.Resolve(c.ctx, addr)
	}
	if err != nil {
		return c.rejectRcpt(path, recipientError(err))
	}
	if r, ok := c.checkQuota(route); !ok {
		return c.rejectRcpt(path, r)
	}
	rcpt.Route = route
	c.tx.rcpts = append(c.tx.rcpts, rcpt)
	return reply{code: 250, status: "2.1.5", text: "Ok"}
}

// rcptParam applies one RCPT parameter; false with the reply on refusal.
func (c *conn) rcptParam(r *delivery.Recipient, p param) (reply, bool) {
	if !c.ehlo {
		// RFC 5321 §4.1.1.1: no extensions after HELO.
		return replyBadParam, false
	}
	var err error
	switch p.key {
	case "NOTIFY":
		r.Notify, err = parseNotify(p.value)
	case "ORCPT":
		r.ORcpt, err = parseORcpt(p.value, c.tx.utf8)
	default:
		return replyBadParam.withDetail(p.key, nil), false
	}
	if err != nil {
		return dsnReply(err), false
	}
	return reply{}, true
}

// checkQuota refuses a recipient whose account has no room left for the
// announced size (RFC 3463 X.2.2, temporary), so that a full mailbox is
// refused for that recipient alone rather than failing the whole message
// at the end of data.
func (c *conn) checkQuota(route delivery.Route) (reply, bool) {
	u := c.srv.opts.Usage
	if u == nil {
		return reply{}, true
	}
	for _, t := range route.Local {
		au, err := u.AccountUsage(c.ctx, t.Account)
		if err != nil {
			return replyTempFail.withDetail("quota check", err), false
		}
		if au.QuotaBytes > 0 && au.Bytes+c.tx.size > au.QuotaBytes {
			return replyMailboxFull.withDetail("quota of "+t.Address, nil), false
		}
	}
	return reply{}, true
}
