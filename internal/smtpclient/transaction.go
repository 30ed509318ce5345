package smtpclient

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"freehold/internal/mail"
)

// transaction runs MAIL, RCPT and DATA (RFC 5321 §3.3), pipelined when the
// server offers PIPELINING (RFC 2920). A 421 or a lost connection before
// any recipient is answered is a host failure (the next host is tried);
// after that, the answers are final for this attempt.
func (c *Client) transaction(cn *conn, p sessionPlan, env Envelope, res *Result, hostErr func(string, string, ...any) error) (bool, error) {
	where := p.host + "[" + p.addr.String() + "]"
	final := func(i int, r Reply, stage string) {
		out := Temporary
		switch {
		case r.Code >= 200 && r.Code < 300:
			out = Delivered
		case r.Permanent():
			out = Permanent
		}
		res.Rcpts[i] = RcptResult{Outcome: out, Reply: r, Status: statusOf(r),
			Detail: fmt.Sprintf("%s said: %s (in reply to %s)", where, r, stage)}
	}
	local := func(i int, out Outcome, status, detail string) {
		res.Rcpts[i] = RcptResult{Outcome: out, Status: status, Detail: detail}
	}

	utf8 := needsUTF8(env)
	if utf8 && !cn.has("SMTPUTF8") {
		for i := range env.Rcpts {
			local(i, Permanent, "5.6.7", where+" does not support SMTPUTF8, which the addresses need")
		}
		return true, nil
	}
	if max, ok := sizeLimit(cn); ok && env.Size > max {
		for i := range env.Rcpts {
			local(i, Permanent, "5.3.4", fmt.Sprintf("%s accepts messages up to %d octets; this one has %d", where, max, env.Size))
		}
		return true, nil
	}
	cmds := []string{mailCommand(cn, env, utf8)}
	for _, r := range env.Rcpts {
		cmds = append(cmds, rcptCommand(cn, r))
	}
	pipelined := cn.has("PIPELINING")
	if pipelined {
		cmds = append(cmds, "DATA")
		for _, l := range cmds {
			if err := cn.write(l); err != nil {
				return false, hostErr("4.4.2", "sending commands: %v", err)
			}
		}
		if err := cn.flush(); err != nil {
			return false, hostErr("4.4.2", "sending commands: %v", err)
		}
	}
	next := func(i int) (Reply, error) {
		if pipelined {
			return cn.readReply(c.opts.Timeouts.Command)
		}
		return cn.cmd(c.opts.Timeouts.Command, cmds[i])
	}

	// MAIL (§4.1.1.2).
	r, err := next(0)
	if err != nil {
		return false, hostErr("4.4.2", "MAIL: %v", err)
	}
	if r.Code == 421 {
		return false, hostErr(statusOf(r), "MAIL: %s", r)
	}
	if r.Code != 250 {
		for i := range env.Rcpts {
			final(i, r, "MAIL FROM")
		}
		if pipelined {
			drain(cn, len(env.Rcpts)+1, c.opts.Timeouts.Command)
		}
		return true, nil
	}
	// RCPT (§4.1.1.3).
	var accepted []int
	for i := range env.Rcpts {
		r, err := next(i + 1)
		if err != nil {
			return false, hostErr("4.4.2", "RCPT: %v", err)
		}
		if r.Code == 421 {
			return false, hostErr(statusOf(r), "RCPT: %s", r)
		}
		if r.Code == 250 || r.Code == 251 {
			accepted = append(accepted, i)
			continue
		}
		final(i, r, "RCPT TO")
	}
	if len(accepted) == 0 {
		if pipelined {
			// The DATA reply must still be read; a server that says 354
			// gets an empty message's end (RFC 2920 §3.1).
			if r, err := cn.readReply(c.opts.Timeouts.Command); err == nil && r.Code == 354 {
				cn.write(".")
				cn.flush()
				cn.readReply(c.opts.Timeouts.DataEnd)
			}
		}
		return true, nil
	}
	return c.data(cn, env, accepted, pipelined, final, hostErr)
}

// data runs DATA (§4.1.1.4) for the accepted recipients.
func (c *Client) data(cn *conn, env Envelope, accepted []int, pipelined bool,
	final func(int, Reply, string), hostErr func(string, string, ...any) error) (bool, error) {
	var r Reply
	var err error
	if pipelined {
		r, err = cn.readReply(c.opts.Timeouts.Command)
	} else {
		r, err = cn.cmd(c.opts.Timeouts.Command, "DATA")
	}
	if err != nil {
		return false, hostErr("4.4.2", "DATA: %v", err)
	}
	if r.Code != 354 {
		if r.Code == 421 {
			return false, hostErr(statusOf(r), "DATA: %s", r)
		}
		for _, i := range accepted {
			final(i, r, "DATA")
		}
		return true, nil
	}
	body, err := env.Open()
	if err != nil {
		// A local failure: nothing was sent, try again later.
		for _, i := range accepted {
			final(i, Reply{Code: 451, Enhanced: "4.3.0", Lines: []string{"local error reading the message: " + err.Error()}}, "DATA")
		}
		return true, nil
	}
	err = cn.sendData(body)
	body.Close()
	if err == nil {
		r, err = cn.readReply(c.opts.Timeouts.DataEnd)
	}
	if err != nil {
		// The connection broke during or right after the message: it may
		// or may not have been taken. Try again later (RFC 5321 §6.1
		// prefers a duplicate to a loss).
		lost := Reply{Code: 451, Enhanced: "4.4.2", Lines: []string{"connection lost during DATA: " + err.Error()}}
		for _, i := range accepted {
			final(i, lost, "end of DATA")
		}
		return true, nil
	}
	for _, i := range accepted {
		final(i, r, "end of DATA")
	}
	return true, nil
}

// drain reads n pipelined replies that no longer matter.
func drain(cn *conn, n int, timeout time.Duration) {
	for range n {
		if _, err := cn.readReply(timeout); err != nil {
			return
		}
	}
}

func mailCommand(cn *conn, env Envelope, utf8 bool) string {
	var b strings.Builder
	b.WriteString("MAIL FROM:<" + env.MailFrom + ">")
	if cn.has("8BITMIME") {
		b.WriteString(" BODY=8BITMIME")
	}
	if cn.has("SIZE") && env.Size > 0 {
		b.WriteString(" SIZE=" + strconv.FormatInt(env.Size, 10))
	}
	if utf8 {
		b.WriteString(" SMTPUTF8")
	}
	if cn.has("DSN") {
		if env.Ret == "FULL" || env.Ret == "HDRS" {
			b.WriteString(" RET=" + env.Ret)
		}
		if env.EnvID != "" && printableASCII(env.EnvID) {
			b.WriteString(" ENVID=" + mail.EncodeXtext(env.EnvID))
		}
	}
	return b.String()
}

func rcptCommand(cn *conn, r Rcpt) string {
	s := "RCPT TO:<" + r.Address + ">"
	if cn.has("DSN") {
		if r.Notify != "" && printableASCII(r.Notify) && !strings.ContainsAny(r.Notify, " =") {
			s += " NOTIFY=" + r.Notify
		}
		if r.ORcpt != "" && printableASCII(r.ORcpt) && !strings.ContainsAny(r.ORcpt, " ") {
			s += " ORCPT=" + r.ORcpt
		}
	}
	return s
}

// sizeLimit is the SIZE the server announced (RFC 1870), if any.
func sizeLimit(cn *conn) (int64, bool) {
	v, ok := cn.ext["SIZE"]
	if !ok || v == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}

func needsUTF8(env Envelope) bool {
	if !printableASCII(env.MailFrom) {
		return true
	}
	for _, r := range env.Rcpts {
		if !printableASCII(r.Address) {
			return true
		}
	}
	return false
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
