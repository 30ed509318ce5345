package msgauth

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"runtime/debug"
	"strings"

	"github.com/emersion/go-msgauth/dkim"

	"freehold/internal/msgauth/spf"
)

// Resolver is the DNS access inbound checks need; *dnsutil.Resolver
// implements it.
type Resolver interface {
	spf.Resolver
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// VerifierOptions configures a Verifier.
type VerifierOptions struct {
	Resolver Resolver
	// Hostname is our host name: the authserv-id of the
	// Authentication-Results headers we add (RFC 8601 §2.5).
	Hostname string
	// MaxSignatures bounds the DKIM signatures checked per message
	// (default 5), so a message cannot make us do unbounded work.
	MaxSignatures int
	// Sample decides DMARC pct= sampling: it returns a number in [0,100).
	// Default: random.
	Sample func() int
	Logger *slog.Logger
}

// Verifier runs the inbound checks of the MX. It is safe for concurrent
// use.
type Verifier struct {
	opts VerifierOptions
}

// NewVerifier returns a Verifier.
func NewVerifier(opts VerifierOptions) *Verifier {
	if opts.MaxSignatures <= 0 {
		opts.MaxSignatures = 5
	}
	if opts.Sample == nil {
		opts.Sample = func() int { return rand.IntN(100) }
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Verifier{opts: opts}
}

// In is what the SMTP server knows of a received message.
type In struct {
	RemoteIP netip.Addr
	HELO     string
	MailFrom string // "" for the null reverse path
	// Raw is the message as received, before we add any header.
	Raw []byte
}

// Action is what DMARC asks the receiver to do with a message.
type Action uint8

const (
	// Accept: deliver normally.
	Accept Action = iota
	// Quarantine: deliver to the recipient's Junk mailbox.
	Quarantine
	// Reject: refuse at the end of DATA with 550 5.7.1.
	Reject
)

func (a Action) String() string {
	return [...]string{"accept", "quarantine", "reject"}[a]
}

// Result is the outcome of the inbound checks.
type Result struct {
	SPF   spf.Outcome
	DKIM  []DKIMResult
	DMARC DMARCResult
	// Action is the DMARC disposition to apply.
	Action Action
	// AuthResults is the Authentication-Results header field to prepend,
	// CRLF-terminated and folded.
	AuthResults string
}

// DKIMResult is the verification of one DKIM-Signature.
type DKIMResult struct {
	Result   string // pass, fail, neutral, temperror, permerror (RFC 8601 §2.7.1)
	Domain   string // d=
	Selector string // s=
	AUID     string // i=
	BPrefix  string // the first characters of b=, to tell signatures apart (RFC 6008)
	Err      error
}

// Verify runs SPF, DKIM and DMARC for a received message. It never
// fails: problems become temperror or permerror results.
func (v *Verifier) Verify(ctx context.Context, in In) (res Result) {
	defer func() {
		if p := recover(); p != nil {
			v.opts.Logger.Error("panic in message verification", "panic", p, "stack", string(debug.Stack()))
			res = Result{SPF: spf.Outcome{Result: spf.TempError}, DMARC: DMARCResult{Result: "temperror"}}
			res.AuthResults = v.authResults(in, res)
		}
	}()
	fields, _ := headerFields(in.Raw)
	res.SPF = spf.Check(ctx, v.opts.Resolver, spf.Params{
		IP: in.RemoteIP, HELO: in.HELO, MailFrom: in.MailFrom, Receiver: v.opts.Hostname,
	})
	res.DKIM = v.verifyDKIM(ctx, in.Raw, fields)
	res.DMARC = v.evalDMARC(ctx, fields, res.SPF, res.DKIM)
	res.Action = res.DMARC.action()
	res.AuthResults = v.authResults(in, res)
	return res
}

// verifyDKIM checks every DKIM-Signature (up to MaxSignatures).
func (v *Verifier) verifyDKIM(ctx context.Context, raw []byte, fields []field) []DKIMResult {
	var sigs []map[string]string
	for _, f := range fields {
		if strings.EqualFold(f.name, "DKIM-Signature") {
			sigs = append(sigs, tagList(unfold(f.value)))
		}
	}
	if len(sigs) == 0 {
		return nil
	}
	verifs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{
		LookupTXT:        func(name string) ([]string, error) { return v.opts.Resolver.LookupTXT(ctx, name) },
		MaxVerifications: v.opts.MaxSignatures,
	})
	if len(verifs) == 0 && err != nil {
		// The message itself could not be read (no header end, for one).
		return []DKIMResult{{Result: "permerror", Err: err}}
	}
	out := make([]DKIMResult, 0, len(verifs))
	for i, vf := range verifs {
		r := DKIMResult{Domain: strings.ToLower(vf.Domain), AUID: vf.Identifier, Err: vf.Err}
		if i < len(sigs) {
			r.Selector = sigs[i]["s"]
			if b := sigs[i]["b"]; len(b) >= 8 {
				r.BPrefix = b[:8]
			}
			if r.Domain == "" {
				r.Domain = strings.ToLower(sigs[i]["d"])
			}
		}
		switch {
		case vf.Err == nil:
			r.Result = "pass"
		case dkim.IsTempFail(vf.Err):
			r.Result = "temperror"
		case dkim.IsPermFail(vf.Err):
			r.Result = "permerror"
		default:
			r.Result = "fail"
		}
		out = append(out, r)
	}
	return out
}

// authResults formats the Authentication-Results field (RFC 8601).
func (v *Verifier) authResults(in In, res Result) string {
	var parts []string
	// spf (RFC 8601 §2.7.2): smtp.mailfrom, or smtp.helo for <>.
	spfPart := "spf=" + string(res.SPF.Result)
	if res.SPF.Result == "" {
		spfPart = "spf=none"
	}
	if in.MailFrom != "" {
		spfPart += " smtp.mailfrom=" + arValue(in.MailFrom)
	} else {
		spfPart += " smtp.helo=" + arValue(in.HELO)
	}
	parts = append(parts, spfPart)
	if len(res.DKIM) == 0 {
		parts = append(parts, "dkim=none")
	}
	for _, d := range res.DKIM {
		p := "dkim=" + d.Result
		if d.Err != nil && d.Result != "pass" {
			p += " " + comment(d.Err.Error())
		}
		if d.Domain != "" {
			p += " header.d=" + arValue(d.Domain)
		}
		if d.Selector != "" {
			p += " header.s=" + arValue(d.Selector)
		}
		if d.BPrefix != "" {
			p += " header.b=" + arValue(d.BPrefix)
		}
		parts = append(parts, p)
	}
	dm := "dmarc=" + res.DMARC.Result
	if res.DMARC.Policy != "" && res.DMARC.Result == "fail" {
		dm += " (p=" + string(res.DMARC.Published) + " dis=" + strings.ToUpper(res.Action.String()) + ")"
	}
	if res.DMARC.Domain != "" {
		dm += " header.from=" + arValue(res.DMARC.Domain)
	}
	parts = append(parts, dm)
	return foldAuthResults(v.opts.Hostname, parts)
}

// arValue quotes a value when it is not a plain token or address.
func arValue(s string) string {
	for _, r := range s {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(`()<>,;:\"[]`, r) {
			return fmt.Sprintf("%q", s)
		}
	}
	return s
}

// comment makes a CFWS comment of s, dropping what would end it early.
func comment(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '(' || r == ')' || r == '\\' || r < ' ' {
			return -1
		}
		return r
	}, s)
	if len(s) > 100 {
		s = s[:100]
	}
	return "(" + s + ")"
}

// foldAuthResults builds the header field, one result per line.
func foldAuthResults(authserv string, parts []string) string {
	var b strings.Builder
	b.WriteString("Authentication-Results: ")
	b.WriteString(authserv)
	for _, p := range parts {
		b.WriteString(";\r\n\t")
		b.WriteString(p)
	}
	b.WriteString("\r\n")
	return b.String()
}
