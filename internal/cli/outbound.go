package cli

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"freehold/internal/config"
	"freehold/internal/dnsrecords"
	"freehold/internal/dnsutil"
	"freehold/internal/mail"
	"freehold/internal/msgauth/dkimkeys"
	"freehold/internal/queue"
	"freehold/internal/store"
)

// Command: freehold queue list|show|retry|remove [ID]
// Command: freehold queue held|cancel [ID] [--account ADDRESS]
//
// held lists scheduled messages (FUTURERELEASE, send later), of one
// sender with --account; cancel removes one before its release, and with
// --account only if it is that sender's. A retried message is picked up
// by the running server at its next look at the queue (within 30
// seconds).
func runQueue(ctx context.Context, env Env, args []string) error {
	fs := newFlags("queue", env)
	cfgPath := configFlag(fs)
	account := fs.String("account", "", "the sender whose scheduled messages to list or cancel")
	pos, err := parseInterspersed(fs, args)
	if err != nil || len(pos) == 0 {
		return errUsage
	}
	return withStore(ctx, *cfgPath, func(cfg config.Config, st store.Store) error {
		qs, ok := st.(queue.Store)
		if !ok {
			return errors.New("this store has no outbound queue")
		}
		adm := &queue.Admin{Store: qs}
		var acct store.AccountID
		if *account != "" {
			a, err := mail.ParseAddress(*account)
			if err != nil {
				return err
			}
			ac, err := st.AccountByAddress(ctx, a.Key())
			if err != nil {
				return fmt.Errorf("account %s: %w", a.Key(), err)
			}
			acct = ac.ID
		}
		if (pos[0] == "list" || pos[0] == "held") && len(pos) == 1 {
			list := adm.List
			if pos[0] == "held" {
				list = func(ctx context.Context) ([]store.OutboundMessage, error) { return adm.Held(ctx, acct) }
			}
			ms, err := list(ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tCREATED\tFROM\tPENDING\tNEXT\tLAST ERROR")
			for _, m := range ms {
				pending, next, lastErr := summary(m)
				fmt.Fprintf(tw, "%d\t%s\t%s\t%d/%d\t%s\t%s\n", m.ID, m.Created.Format(time.DateTime),
					orNull(m.MailFrom), pending, len(m.Recipients), next, lastErr)
			}
			return tw.Flush()
		}
		if len(pos) != 2 {
			return errUsage
		}
		n, err := strconv.ParseInt(pos[1], 10, 64)
		if err != nil {
			return fmt.Errorf("bad queue id %q", pos[1])
		}
		id := store.QueueID(n)
		switch pos[0] {
		case "show":
			m, err := adm.Show(ctx, id)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "id %d\nfrom %s\nblob %s\nsize %d\ncreated %s\n", m.ID, orNull(m.MailFrom), m.BlobID, m.Size, m.Created.Format(time.RFC3339))
			if !m.HoldUntil.IsZero() {
				fmt.Fprintf(env.Stdout, "held until %s\n", m.HoldUntil.Format(time.RFC3339))
			}
			for _, r := range m.Recipients {
				fmt.Fprintf(env.Stdout, "to %s: %s, %d attempts, next %s", r.Address, rcptStatus(r.Status), r.Attempts, timeOrDash(r.NextAttempt))
				if r.LastError != "" {
					fmt.Fprintf(env.Stdout, ", last error: %s", r.LastError)
				}
				fmt.Fprintln(env.Stdout)
			}
			return nil
		case "retry":
			if err := adm.Retry(ctx, id); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "queue entry %d is due now\n", id)
			return nil
		case "remove":
			if err := adm.Remove(ctx, id); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "queue entry %d removed\n", id)
			return nil
		case "cancel":
			if err := adm.Cancel(ctx, id, acct); err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("no scheduled message %d (released already, or not this sender's)", id)
				}
				return err
			}
			fmt.Fprintf(env.Stdout, "scheduled message %d cancelled\n", id)
			return nil
		}
		return errUsage
	})
}

func summary(m store.OutboundMessage) (pending int, next, lastErr string) {
	var first time.Time
	for _, r := range m.Recipients {
		if r.Status != store.RcptPending {
			continue
		}
		pending++
		if first.IsZero() || r.NextAttempt.Before(first) {
			first = r.NextAttempt
		}
		if r.LastError != "" {
			lastErr = r.LastError
		}
	}
	if !m.HoldUntil.IsZero() && m.HoldUntil.After(first) {
		first = m.HoldUntil
	}
	return pending, timeOrDash(first), lastErr
}

func rcptStatus(s store.RecipientStatus) string {
	switch s {
	case store.RcptDelivered:
		return "delivered"
	case store.RcptFailed:
		return "failed"
	}
	return "pending"
}

func timeOrDash(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format(time.DateTime)
}

func orNull(s string) string {
	if s == "" {
		return "<>"
	}
	return s
}

// Command: freehold dkim list|rotate|retire DOMAIN [SELECTOR]
//
// rotate adds a new key pair as pending; publish its records
// (`freehold dns DOMAIN`), and the server starts signing with it once DNS
// shows them, moving the old keys to retiring. retire removes retiring
// keys (or one selector) once mail signed with them has been delivered.
func runDKIM(ctx context.Context, env Env, args []string) error {
	fs := newFlags("dkim", env)
	cfgPath := configFlag(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil || len(pos) < 2 || len(pos) > 3 {
		return errUsage
	}
	dom, err := mail.ParseDomain(pos[1])
	if err != nil {
		return err
	}
	return withStore(ctx, *cfgPath, func(cfg config.Config, st store.Store) error {
		keys, ok := st.(store.DKIMKeys)
		if !ok {
			return errors.New("this store keeps no DKIM keys")
		}
		m := &dkimkeys.Manager{Keys: keys}
		switch {
		case pos[0] == "list" && len(pos) == 2:
			ks, err := keys.DKIMKeyList(ctx, dom)
			if err != nil {
				return err
			}
			for _, k := range ks {
				fmt.Fprintf(env.Stdout, "%s\t%s\t%s\tcreated %s\n", k.Selector, k.Algorithm, k.State, k.Created.Format(time.DateOnly))
			}
			return nil
		case pos[0] == "rotate" && len(pos) == 2:
			ks, err := m.Rotate(ctx, dom)
			if err != nil {
				return err
			}
			for _, k := range ks {
				fmt.Fprintf(env.Stdout, "new %s key %s._domainkey.%s (pending until published)\n", k.Algorithm, k.Selector, dom)
			}
			return nil
		case pos[0] == "retire":
			sel := ""
			if len(pos) == 3 {
				sel = pos[2]
			}
			n, err := m.Retire(ctx, dom, sel)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "%d keys removed\n", n)
			return nil
		}
		return errUsage
	})
}

// Command: freehold dns DOMAIN [--addr IP]... [--check]
func runDNS(ctx context.Context, env Env, args []string) error {
	fs := newFlags("dns", env)
	cfgPath := configFlag(fs)
	check := fs.Bool("check", false, "query DNS and report, record by record, what is missing or wrong")
	var addrs addrList
	fs.Var(&addrs, "addr", "a public address of this server (repeatable); adds A/AAAA records and checks SPF against it")
	pos, err := parseInterspersed(fs, args)
	if err != nil || len(pos) != 1 {
		return errUsage
	}
	dom, err := mail.ParseDomain(pos[0])
	if err != nil {
		return err
	}
	return withStore(ctx, *cfgPath, func(cfg config.Config, st store.Store) error {
		if ok, err := st.HasDomain(ctx, dom); err != nil {
			return err
		} else if !ok {
			return fmt.Errorf("domain %s is not local", dom)
		}
		in := dnsrecords.Input{Domain: dom, Hostname: cfg.Hostname, Addrs: addrs}
		if keys, ok := st.(store.DKIMKeys); ok {
			if in.DKIM, err = keys.DKIMKeyList(ctx, dom); err != nil {
				return err
			}
		}
		if !*check {
			recs, err := dnsrecords.Records(in)
			if err != nil {
				return err
			}
			_, err = fmt.Fprint(env.Stdout, dnsrecords.Zone(recs, 0))
			return err
		}
		res, err := dnsutil.New(dnsutil.Options{Server: cfg.DNS.Resolver})
		if err != nil {
			return err
		}
		vs, err := dnsrecords.Check(ctx, res, in)
		if err != nil {
			return err
		}
		fmt.Fprint(env.Stdout, dnsrecords.Format(vs))
		for _, v := range vs {
			if v.Status != dnsrecords.OK {
				return errors.New("some records are missing or wrong")
			}
		}
		return nil
	})
}

type addrList []netip.Addr

func (a *addrList) String() string {
	s := make([]string, len(*a))
	for i, x := range *a {
		s[i] = x.String()
	}
	return strings.Join(s, ",")
}

func (a *addrList) Set(v string) error {
	ip, err := netip.ParseAddr(v)
	if err != nil {
		return err
	}
	*a = append(*a, ip)
	return nil
}
