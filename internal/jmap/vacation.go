package jmap

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"
	"mime/quotedprintable"
	netmail "net/mail"
	"strings"
	"time"

	"freehold/internal/mail"
	"freehold/internal/message"
	"freehold/internal/store"
)

// VacationPeriod is how long a sender who got the vacation response is
// not sent it again (RFC 3834 §2 leaves the period to the responder;
// 7 days is the Sieve vacation default, RFC 5230 §4.1).
const VacationPeriod = 7 * 24 * time.Hour

// AutoReplyRequest is a message just delivered to a local account, for
// AutoReply.
type AutoReplyRequest struct {
	Account  store.AccountID
	MailFrom string // the envelope sender (RFC 5321 reverse-path); "" for <>
	Rcpt     string // the address it was delivered to
	Raw      []byte // the message as delivered; only its header is read
}

// vacation is the stored VacationResponse (RFC 8621 §8).
type vacation struct {
	IsEnabled bool    `json:"isEnabled"`
	FromDate  *string `json:"fromDate"`
	ToDate    *string `json:"toDate"`
	Subject   *string `json:"subject"`
	TextBody  *string `json:"textBody"`
	HTMLBody  *string `json:"htmlBody"`
}

// active reports whether the response applies at now: enabled, and now in
// [fromDate, toDate) where a null bound is open.
func (v *vacation) active(now time.Time) bool {
	if !v.IsEnabled {
		return false
	}
	if v.FromDate != nil {
		if t, err := time.Parse(time.RFC3339, *v.FromDate); err == nil && now.Before(t) {
			return false
		}
	}
	if v.ToDate != nil {
		if t, err := time.Parse(time.RFC3339, *v.ToDate); err == nil && !now.Before(t) {
			return false
		}
	}
	return true
}

func (s *Server) loadVacation(ctx context.Context, acct store.AccountID) (*vacation, error) {
	objs, err := s.st.JMAPObjects(ctx, acct, store.ChangeVacation)
	if err != nil || len(objs) == 0 {
		return nil, err
	}
	v := &vacation{}
	if err := json.Unmarshal(objs[0].Data, v); err != nil {
		return nil, fmt.Errorf("vacation response of account %d: %w", acct, err)
	}
	return v, nil
}

// AutoReply sends the account's vacation response to the sender of a
// message delivered to it, and reports whether it did. It is meant to be
// called by delivery for each local recipient of mail from elsewhere,
// after the message is stored; an error is worth logging, never worth
// refusing the message for.
//
// It follows RFC 3834 (and the Sieve vacation rules of RFC 5230 §4.6):
// no reply to a null or automated sender (MAILER-DAEMON, owner-*,
// *-request, no-reply and the like), to a message that is itself
// automatic (Auto-Submitted other than "no", §5), from a list (List-*
// fields, RFC 2369 and 2919) or bulk (Precedence), or one that does not
// name the account in To, Cc, Bcc or Resent-* (§3.1); at most one reply
// per sender per VacationPeriod, even across nodes. The reply goes from
// the null reverse-path (§3.3), is marked Auto-Submitted: auto-replied,
// and threads under the message (In-Reply-To, References).
func (s *Server) AutoReply(ctx context.Context, r AutoReplyRequest) (bool, error) {
	v, err := s.loadVacation(ctx, r.Account)
	now := s.now()
	if err != nil || v == nil || !v.active(now) {
		return false, err
	}
	if automatedSender(r.MailFrom) {
		return false, nil
	}
	head, _ := message.SplitHeader(r.Raw)
	h := message.ParseHeader(head)
	if automatedMessage(h) {
		return false, nil
	}
	acct, err := s.st.Account(ctx, r.Account)
	if err != nil {
		return false, err
	}
	mine, err := s.sendAddresses(ctx, acct)
	if err != nil {
		return false, err
	}
	mine = append(mine, r.Rcpt)
	if isOneOf(r.MailFrom, mine) || !addressedTo(h, mine) {
		return false, nil
	}
	ok, err := s.st.ClaimVacationReply(ctx, r.Account, r.MailFrom, now, now.Add(-VacationPeriod))
	if err != nil || !ok {
		return false, err
	}
	from, err := s.replyFrom(ctx, acct, r.Rcpt)
	if err != nil {
		return false, err
	}
	raw := buildVacationReply(v, h, replyHeader{from: from, to: r.MailFrom, now: now, host: s.hostname})
	res, err := s.submitter.Submit(ctx, SubmitRequest{Account: r.Account, MailFrom: "", Rcpts: []string{r.MailFrom}, Raw: raw,
		Key: fmt.Sprintf("vacation-%d-%s-%d", r.Account, strings.ToLower(r.MailFrom), now.Unix())})
	if err != nil {
		return false, fmt.Errorf("sending the vacation response: %w", err)
	}
	if why, refused := res.Refused[r.MailFrom]; refused {
		s.log.Info("vacation response refused", "account", acct.Address, "to", r.MailFrom, "reply", why)
		return false, nil
	}
	s.log.Info("vacation response sent", "account", acct.Address, "to", r.MailFrom)
	return true, nil
}

// automatedSender reports envelope senders that never get a response:
// the null path, and mailboxes of software (RFC 5230 §4.6).
func automatedSender(from string) bool {
	a, err := mail.ParseAddress(from)
	if err != nil {
		return true
	}
	local := strings.ToLower(a.Local)
	switch local {
	case "mailer-daemon", "postmaster", "listserv", "majordomo", "noreply", "no-reply", "donotreply",
		"do-not-reply", "bounce", "bounces":
		return true
	}
	return strings.HasPrefix(local, "owner-") || strings.HasSuffix(local, "-request") ||
		strings.HasPrefix(local, "bounce-") || strings.HasPrefix(local, "bounces+") ||
		strings.HasPrefix(local, "noreply+") || strings.HasPrefix(local, "no-reply+")
}

// automatedMessage reports a message that must not be answered: itself
// automatic, from a list, or bulk.
func automatedMessage(h message.Header) bool {
	if v := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted"))); v != "" && !strings.HasPrefix(v, "no") {
		return true // RFC 3834 §5: auto-generated, auto-replied, ...
	}
	switch strings.ToLower(strings.TrimSpace(h.Get("Precedence"))) {
	case "bulk", "list", "junk":
		return true
	}
	for _, f := range []string{"List-Id", "List-Unsubscribe", "List-Post", "List-Help", "List-Subscribe", "List-Owner"} {
		if h.Has(f) {
			return true
		}
	}
	// Microsoft's equivalent of Auto-Submitted, set by its own responders.
	suppress := strings.ToLower(h.Get("X-Auto-Response-Suppress"))
	return strings.Contains(suppress, "oof") || strings.Contains(suppress, "all")
}

// addressedTo reports whether one of mine (addresses, "*@domain" for a
// domain the account receives all of) is named in the recipient fields.
func addressedTo(h message.Header, mine []string) bool {
	for _, f := range []string{"To", "Cc", "Bcc", "Resent-To", "Resent-Cc", "Resent-Bcc"} {
		for _, v := range h.Values(f) {
			for _, a := range message.ParseAddressList(v) {
				if isOneOf(a.Address, mine) {
					return true
				}
			}
		}
	}
	return false
}

// isOneOf compares an address with mine, ignoring case and a +tag.
func isOneOf(addr string, mine []string) bool {
	a, err := mail.ParseAddress(addr)
	if err != nil {
		return false
	}
	key := a.StripPlus().Key()
	for _, m := range mine {
		if strings.HasPrefix(m, "*@") {
			if strings.EqualFold(m[2:], a.Domain) {
				return true
			}
			continue
		}
		if p, err := mail.ParseAddress(m); err == nil && p.StripPlus().Key() == key {
			return true
		}
	}
	return false
}

// replyFrom is the From of the reply: the identity of the address the
// message came to, else the account's first identity.
func (s *Server) replyFrom(ctx context.Context, acct store.Account, rcpt string) (netmail.Address, error) {
	if err := s.ensureIdentity(ctx, acct); err != nil {
		return netmail.Address{}, err
	}
	objs, err := s.st.JMAPObjects(ctx, acct.ID, store.ChangeIdentity)
	if err != nil {
		return netmail.Address{}, err
	}
	var first *netmail.Address
	for _, o := range objs {
		var id struct{ Name, Email string }
		if json.Unmarshal(o.Data, &id) != nil || id.Email == "" {
			continue
		}
		a := netmail.Address{Name: id.Name, Address: id.Email}
		if strings.EqualFold(id.Email, rcpt) {
			return a, nil
		}
		if first == nil {
			first = &a
		}
	}
	if first != nil {
		return *first, nil
	}
	return netmail.Address{Address: acct.Address}, nil
}

type replyHeader struct {
	from netmail.Address
	to   string
	now  time.Time
	host string
}

// buildVacationReply writes the response to the message with header h.
func buildVacationReply(v *vacation, h message.Header, rh replyHeader) []byte {
	subject := ""
	if v.Subject != nil {
		subject = strings.TrimSpace(*v.Subject)
	}
	if subject == "" {
		// RFC 3834 §3.1.5: "Auto:" and the subject of the message.
		orig := asText(h.Get("Subject"))
		subject = "Auto: " + orig
		if orig == "" {
			subject = "Auto: away"
		}
	}
	text := ""
	if v.TextBody != nil {
		text = *v.TextBody
	} else if v.HTMLBody != nil {
		text = htmlToText(*v.HTMLBody)
	}
	if strings.TrimSpace(text) == "" {
		text = "I am away and will read your message when I return.\n"
	}
	var b bytes.Buffer
	field := func(name, value string) {
		if value != "" {
			fmt.Fprintf(&b, "%s: %s\r\n", name, value)
		}
	}
	field("From", rh.from.String())
	field("To", (&netmail.Address{Address: rh.to}).String())
	field("Subject", mime.QEncoding.Encode("utf-8", subject))
	field("Date", rh.now.Format(time.RFC1123Z))
	field("Message-ID", "<"+randomToken()+"@"+rh.host+">")
	// RFC 3834 §3.1.4: the response threads under the message.
	if id := angleList(h.Get("Message-ID")); len(id) > 0 {
		field("In-Reply-To", "<"+id[0]+">")
		refs := append(angleList(h.Get("References")), id[0])
		for i := range refs {
			refs[i] = "<" + refs[i] + ">"
		}
		field("References", strings.Join(refs, " "))
	}
	field("Auto-Submitted", "auto-replied") // RFC 3834 §5
	field("MIME-Version", "1.0")
	if v.HTMLBody == nil {
		writeQPPart(&b, "text/plain; charset=utf-8", text)
		return b.Bytes()
	}
	boundary := "=_" + randomToken()
	fmt.Fprintf(&b, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n", boundary)
	fmt.Fprintf(&b, "--%s\r\n", boundary)
	writeQPPart(&b, "text/plain; charset=utf-8", text)
	fmt.Fprintf(&b, "\r\n--%s\r\n", boundary)
	writeQPPart(&b, "text/html; charset=utf-8", *v.HTMLBody)
	fmt.Fprintf(&b, "\r\n--%s--\r\n", boundary)
	return b.Bytes()
}

// writeQPPart writes Content-Type and quoted-printable content, CRLF
// line ends, after the header fields already in b.
func writeQPPart(b *bytes.Buffer, ctype, content string) {
	fmt.Fprintf(b, "Content-Type: %s\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n", ctype)
	w := quotedprintable.NewWriter(b)
	_, _ = w.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(content, "\r\n", "\n"), "\n", "\r\n")))
	_ = w.Close()
	b.WriteString("\r\n")
}

func randomToken() string {
	var r [12]byte
	_, _ = rand.Read(r[:])
	return hex.EncodeToString(r[:])
}

// vacationSet is VacationResponse/set. Turning the response on, or moving
// its start, begins a new absence: everyone may be answered again.
func vacationSet(ctx context.Context, c *call) (any, error) {
	acct := c.acct().ID
	before, err := c.s.loadVacation(ctx, acct)
	if err != nil {
		return nil, err
	}
	resp, err := vacationType().set(ctx, c)
	if err != nil {
		return resp, err
	}
	after, err := c.s.loadVacation(ctx, acct)
	if err != nil {
		return nil, err
	}
	if after != nil && after.IsEnabled && (before == nil || !before.IsEnabled || !sameDate(before.FromDate, after.FromDate)) {
		if err := c.s.st.ForgetVacationReplies(ctx, acct); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

func sameDate(a, b *string) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}
