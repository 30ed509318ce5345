// Package maillog writes the mail-event log: one structured line for each
// thing that happens to a message (received, rejected, delivered, queued,
// deferred, bounced, sent) and for each failed SMTP AUTH. (IMAP and web
// login failures go to their servers' own logs, not here.)
// It is what an administrator greps to answer "what happened to the mail
// from X?", so it is kept apart from debug logging: it takes its own
// *slog.Logger, and its messages and keys are stable.
//
// Every line has the message text set to the event name and carries the
// keys of its event type below; keys with empty values are left out.
// Addresses are logged as received on the wire (they are what senders and
// recipients quote when they ask).
package maillog

import (
	"context"
	"log/slog"
	"strconv"
	"time"
)

// Event names, the message text of each line.
const (
	EventReceived   = "received"
	EventRejected   = "rejected"
	EventDelivered  = "delivered"
	EventQueued     = "queued"
	EventDeferred   = "deferred"
	EventBounced    = "bounced"
	EventSent       = "sent"
	EventAuthFailed = "auth-failed"
)

// Stages at which a message can be rejected.
const (
	StageConnect = "connect"
	StageHelo    = "helo"
	StageMail    = "mail"
	StageRcpt    = "rcpt"
	StageData    = "data"
)

// Logger writes mail events. A nil *Logger discards them, so components
// can hold one unconditionally.
type Logger struct {
	l *slog.Logger
}

// New returns a Logger writing to l; a nil l gives a nil Logger.
func New(l *slog.Logger) *Logger {
	if l == nil {
		return nil
	}
	return &Logger{l: l}
}

// Session identifies the SMTP connection an event happened on.
type Session struct {
	Conn   string // connection id, as in the debug log
	Remote string // client IP address
	Mode   string // "mx" or "submission"
	Helo   string // EHLO/HELO argument
	User   string // authenticated account, if any
	TLS    bool
}

func (s Session) attrs(a []slog.Attr) []slog.Attr {
	a = appendStr(a, "conn", s.Conn)
	a = appendStr(a, "remote", s.Remote)
	a = appendStr(a, "mode", s.Mode)
	a = appendStr(a, "helo", s.Helo)
	a = appendStr(a, "user", s.User)
	if s.TLS {
		a = append(a, slog.Bool("tls", true))
	}
	return a
}

// Received is a message accepted by SMTP: it is durable and the client got
// its 250.
type Received struct {
	Session
	From      string   // envelope sender; "" for <>
	To        []string // accepted recipients as given in RCPT
	Size      int64    // octets as received, before trace headers
	Blob      string   // id of the stored form
	MessageID string   // Message-ID header, for cross-referencing
	Local     int      // account copies stored
	Queued    int      // recipients queued (remote ones, or all when held)
	// Auth summarises the inbound checks of the MX, like
	// "spf=pass dkim=pass dmarc=pass"; empty when none ran.
	Auth string
	// Action is the DMARC disposition applied when it is not plain
	// acceptance: "quarantine" (delivered to Junk).
	Action string
	// Signed is true when submission added DKIM signatures.
	Signed bool
	// Hold is the FUTURERELEASE release time (RFC 4865); zero when the
	// message was not held.
	Hold time.Time
}

// Received logs an accepted message.
func (l *Logger) Received(ctx context.Context, e Received) {
	if l == nil {
		return
	}
	a := e.Session.attrs(nil)
	a = append(a, slog.String("from", e.From), slog.Any("to", e.To), slog.Int64("size", e.Size))
	a = appendStr(a, "blob", e.Blob)
	a = appendStr(a, "msgid", e.MessageID)
	a = append(a, slog.Int("local", e.Local), slog.Int("queued", e.Queued))
	a = appendStr(a, "auth", e.Auth)
	a = appendStr(a, "action", e.Action)
	if e.Signed {
		a = append(a, slog.Bool("signed", true))
	}
	if !e.Hold.IsZero() {
		a = append(a, slog.Time("hold", e.Hold))
	}
	l.l.LogAttrs(ctx, slog.LevelInfo, EventReceived, a...)
}

// Rejected is a message, or one recipient of it, refused with a reply code.
type Rejected struct {
	Session
	Stage  string // one of the Stage constants
	From   string
	To     []string // the refused recipient at StageRcpt; all at StageData
	Code   int      // SMTP reply code sent
	Status string   // enhanced status code sent, like "5.1.1"
	Reason string   // the detail; may say more than the client was told
}

// Rejected logs a refusal.
func (l *Logger) Rejected(ctx context.Context, e Rejected) {
	if l == nil {
		return
	}
	a := e.Session.attrs(nil)
	a = append(a, slog.String("stage", e.Stage), slog.String("from", e.From))
	if len(e.To) > 0 {
		a = append(a, slog.Any("to", e.To))
	}
	a = append(a, slog.Int("code", e.Code))
	a = appendStr(a, "status", e.Status)
	a = append(a, slog.String("reason", e.Reason))
	l.l.LogAttrs(ctx, slog.LevelInfo, EventRejected, a...)
}

// Delivered is one account's copy stored in a mailbox.
type Delivered struct {
	Conn    string
	From    string
	Account string // the account's primary address
	Mailbox string
	UID     uint32
	Blob    string
}

// Delivered logs a local delivery.
func (l *Logger) Delivered(ctx context.Context, e Delivered) {
	if l == nil {
		return
	}
	a := appendStr(nil, "conn", e.Conn)
	a = append(a, slog.String("from", e.From), slog.String("account", e.Account))
	a = appendStr(a, "mailbox", e.Mailbox)
	if e.UID != 0 {
		a = append(a, slog.String("uid", strconv.FormatUint(uint64(e.UID), 10)))
	}
	a = appendStr(a, "blob", e.Blob)
	l.l.LogAttrs(ctx, slog.LevelInfo, EventDelivered, a...)
}

// Queued is a message put in the outbound queue for remote recipients.
type Queued struct {
	Conn  string
	From  string
	To    []string
	Queue int64 // queue id; 0 when not known
	Blob  string
	// Hold is when a held message (FUTURERELEASE) is released; zero when
	// it is sent at once.
	Hold time.Time
}

// Queued logs an enqueue.
func (l *Logger) Queued(ctx context.Context, e Queued) {
	if l == nil {
		return
	}
	a := appendStr(nil, "conn", e.Conn)
	a = append(a, slog.String("from", e.From), slog.Any("to", e.To))
	if e.Queue != 0 {
		a = append(a, slog.Int64("queue", e.Queue))
	}
	a = appendStr(a, "blob", e.Blob)
	if !e.Hold.IsZero() {
		a = append(a, slog.Time("hold", e.Hold))
	}
	l.l.LogAttrs(ctx, slog.LevelInfo, EventQueued, a...)
}

// Attempt is one outbound delivery attempt's outcome for one recipient,
// used by Deferred, Bounced and Sent.
type Attempt struct {
	Queue   int64
	From    string
	To      string
	Host    string // remote MX tried, if any
	Attempt int    // 1 for the first try
	Code    int    // remote reply code, 0 if none
	Reason  string // remote reply text or local error
	Next    time.Time
}

func (e Attempt) attrs() []slog.Attr {
	a := []slog.Attr{slog.Int64("queue", e.Queue), slog.String("from", e.From), slog.String("to", e.To)}
	a = appendStr(a, "host", e.Host)
	if e.Attempt > 0 {
		a = append(a, slog.Int("attempt", e.Attempt))
	}
	if e.Code != 0 {
		a = append(a, slog.Int("code", e.Code))
	}
	a = appendStr(a, "reason", e.Reason)
	if !e.Next.IsZero() {
		a = append(a, slog.Time("next", e.Next))
	}
	return a
}

// Deferred logs a temporary failure that will be retried at e.Next.
func (l *Logger) Deferred(ctx context.Context, e Attempt) {
	if l == nil {
		return
	}
	l.l.LogAttrs(ctx, slog.LevelInfo, EventDeferred, e.attrs()...)
}

// Bounced logs a permanent failure (a DSN goes back to the sender).
func (l *Logger) Bounced(ctx context.Context, e Attempt) {
	if l == nil {
		return
	}
	l.l.LogAttrs(ctx, slog.LevelInfo, EventBounced, e.attrs()...)
}

// Sent logs a successful remote delivery.
func (l *Logger) Sent(ctx context.Context, e Attempt) {
	if l == nil {
		return
	}
	l.l.LogAttrs(ctx, slog.LevelInfo, EventSent, e.attrs()...)
}

// AuthFailed is a failed login; only the SMTP server reports them.
type AuthFailed struct {
	Protocol  string // "smtp"
	Conn      string
	Remote    string
	Mechanism string
	User      string // the name tried; never the password
	Reason    string
}

// AuthFailed logs a failed login.
func (l *Logger) AuthFailed(ctx context.Context, e AuthFailed) {
	if l == nil {
		return
	}
	a := []slog.Attr{slog.String("proto", e.Protocol)}
	a = appendStr(a, "conn", e.Conn)
	a = appendStr(a, "remote", e.Remote)
	a = appendStr(a, "mech", e.Mechanism)
	a = append(a, slog.String("user", e.User))
	a = appendStr(a, "reason", e.Reason)
	l.l.LogAttrs(ctx, slog.LevelInfo, EventAuthFailed, a...)
}

func appendStr(a []slog.Attr, k, v string) []slog.Attr {
	if v == "" {
		return a
	}
	return append(a, slog.String(k, v))
}
