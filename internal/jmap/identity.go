package jmap

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"freehold/internal/mail"
	"freehold/internal/store"
)

// identityType is Identity (RFC 8621 §6): one per address the user may
// send as. The primary address's identity is created on first use and
// cannot be destroyed.
func identityType() *objectType {
	return &objectType{
		kind:   store.ChangeIdentity,
		prefix: prefixIdentity,
		props:  []string{"id", "name", "email", "replyTo", "bcc", "textSignature", "htmlSignature", "mayDelete"},
		defaults: func() map[string]any {
			return map[string]any{"name": "", "email": "", "replyTo": nil, "bcc": nil, "textSignature": "",
				"htmlSignature": "", "mayDelete": true}
		},
		immutable: []string{"email"},
		serverSet: []string{"mayDelete"},
		check:     checkIdentity,
	}
}

func checkIdentity(ctx context.Context, c *call, obj map[string]any, create bool) *SetError {
	for _, k := range []string{"name", "email", "textSignature", "htmlSignature"} {
		if _, ok := obj[k].(string); !ok {
			return invalidProps(k+" must be a string", k)
		}
	}
	for _, k := range []string{"replyTo", "bcc"} {
		if obj[k] == nil {
			continue
		}
		b, _ := json.Marshal(obj[k])
		var l []emailAddressIn
		if json.Unmarshal(b, &l) != nil {
			return invalidProps(k+" must be a list of EmailAddress", k)
		}
		if _, ok := formatAddresses(l); !ok {
			return invalidProps("bad address in "+k, k)
		}
	}
	if create {
		email := obj["email"].(string)
		ok, err := c.s.maySendAs(ctx, c.acct(), email)
		if err != nil || !ok {
			return &SetError{Type: setForbiddenFrom, Description: "you may not send as " + email}
		}
		obj["mayDelete"] = true
	}
	return nil
}

// sendAddresses returns the addresses acct may send as: its own, and the
// aliases that deliver to it ("*@domain" for a catch-all).
func (s *Server) sendAddresses(ctx context.Context, acct store.Account) ([]string, error) {
	out := []string{acct.Address}
	aliases, err := s.st.Aliases(ctx)
	if err != nil {
		return nil, err
	}
	for _, a := range aliases {
		for _, t := range a.Targets {
			if strings.EqualFold(t, acct.Address) {
				if strings.HasPrefix(a.Address, "@") {
					out = append(out, "*"+a.Address)
				} else {
					out = append(out, a.Address)
				}
				break
			}
		}
	}
	return out, nil
}

// maySendAs reports whether acct may use addr as a sender (mayUse).
func (s *Server) maySendAs(ctx context.Context, acct store.Account, addr string) (bool, error) {
	addrs, err := s.sendAddresses(ctx, acct)
	if err != nil {
		return false, err
	}
	return mayUse(addrs, addr), nil
}

// mayUse reports whether addr is a sender an account with the send
// addresses addrs (sendAddresses) may use: one of them, with or without a
// +tag, or in a domain it receives all of; "*@domain" itself only when
// listed.
func mayUse(addrs []string, addr string) bool {
	if strings.HasPrefix(addr, "*@") {
		return slices.ContainsFunc(addrs, func(a string) bool { return strings.EqualFold(a, addr) })
	}
	p, err := mail.ParseAddress(addr)
	if err != nil {
		return false
	}
	key := p.StripPlus().Key()
	return slices.ContainsFunc(addrs, func(a string) bool {
		return strings.EqualFold(a, key) || (strings.HasPrefix(a, "*@") && strings.EqualFold(a[2:], p.Domain))
	})
}

// ensureIdentity creates the primary identity when the account has none.
func (s *Server) ensureIdentity(ctx context.Context, acct store.Account) error {
	objs, err := s.st.JMAPObjects(ctx, acct.ID, store.ChangeIdentity)
	if err != nil || len(objs) > 0 {
		return err
	}
	name := acct.Address
	if i := strings.IndexByte(name, '@'); i > 0 {
		name = name[:i]
	}
	data, _ := json.Marshal(map[string]any{"name": name, "email": acct.Address, "replyTo": nil, "bcc": nil,
		"textSignature": "", "htmlSignature": "", "mayDelete": false})
	_, err = s.st.CreateJMAPObject(ctx, acct.ID, store.ChangeIdentity, data)
	return err
}

func identityGet(ctx context.Context, c *call) (any, error) {
	if err := c.s.ensureIdentity(ctx, c.acct()); err != nil {
		return nil, err
	}
	return identityType().get(ctx, c)
}

func identitySet(ctx context.Context, c *call) (any, error) {
	if err := c.s.ensureIdentity(ctx, c.acct()); err != nil {
		return nil, err
	}
	return identityType().set(ctx, c)
}

func identityChanges(ctx context.Context, c *call) (any, error) {
	return identityType().changes(ctx, c)
}

// labelType is Freehold's Label (urn:freehold:params:jmap:labels): a
// name and colour shown for a keyword. Emails carry labels as keywords,
// so IMAP clients see them as keywords too.
func labelType() *objectType {
	return &objectType{
		kind:      store.ChangeLabel,
		prefix:    prefixLabel,
		props:     []string{"id", "name", "color", "keyword"},
		defaults:  func() map[string]any { return map[string]any{"name": "", "color": "", "keyword": ""} },
		immutable: []string{"keyword"},
		check:     checkLabel,
	}
}

func checkLabel(ctx context.Context, c *call, obj map[string]any, create bool) *SetError {
	name, ok := obj["name"].(string)
	if !ok || name == "" || len(name) > 255 {
		return invalidProps("name is required", "name")
	}
	if col, ok := obj["color"].(string); !ok || len(col) > 32 {
		return invalidProps("color must be a short string", "color")
	}
	kw, ok := obj["keyword"].(string)
	if !ok {
		return invalidProps("keyword must be a string", "keyword")
	}
	if kw == "" && create {
		kw = labelKeyword(name)
	}
	kw = strings.ToLower(kw)
	if !validKeyword(kw) || strings.HasPrefix(kw, "$") && isSystemKeyword(kw) {
		return invalidProps("bad keyword", "keyword")
	}
	obj["keyword"] = kw
	if create {
		objs, err := labelType().load(ctx, c)
		if err != nil {
			return &SetError{Type: setForbidden}
		}
		for _, o := range objs {
			if o.obj["keyword"] == kw {
				return &SetError{Type: setAlreadyExists, ExistingID: o.obj["id"].(string)}
			}
		}
	}
	return nil
}

func isSystemKeyword(k string) bool {
	switch k {
	case store.KeywordSeen, store.KeywordAnswered, store.KeywordFlagged, store.KeywordDraft,
		store.KeywordDeleted, store.KeywordJunk, store.KeywordNotJunk, store.KeywordPhishing, store.KeywordForwarded:
		return true
	}
	return false
}

// labelKeyword derives a keyword from a label name: keyword characters
// kept, others replaced by '_'.
func labelKeyword(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if r < 0x80 && validKeyword(string(r)) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

func labelGet(ctx context.Context, c *call) (any, error)     { return labelType().get(ctx, c) }
func labelSet(ctx context.Context, c *call) (any, error)     { return labelType().set(ctx, c) }
func labelChanges(ctx context.Context, c *call) (any, error) { return labelType().changes(ctx, c) }

// vacationType is VacationResponse (RFC 8621 §8). Server.AutoReply sends
// the responses (vacation.go).
func vacationType() *objectType {
	return &objectType{
		kind:      store.ChangeVacation,
		props:     []string{"id", "isEnabled", "fromDate", "toDate", "subject", "textBody", "htmlBody"},
		singleton: true,
		defaults: func() map[string]any {
			return map[string]any{"isEnabled": false, "fromDate": nil, "toDate": nil, "subject": nil,
				"textBody": nil, "htmlBody": nil}
		},
		check: checkVacation,
	}
}

func checkVacation(_ context.Context, _ *call, obj map[string]any, _ bool) *SetError {
	if _, ok := obj["isEnabled"].(bool); !ok {
		return invalidProps("isEnabled must be a boolean", "isEnabled")
	}
	for _, k := range []string{"fromDate", "toDate"} {
		if obj[k] == nil {
			continue
		}
		s, ok := obj[k].(string)
		if _, err := time.Parse(time.RFC3339, s); !ok || err != nil {
			return invalidProps(k+" must be a UTCDate", k)
		}
	}
	for _, k := range []string{"subject", "textBody", "htmlBody"} {
		if obj[k] == nil {
			continue
		}
		if _, ok := obj[k].(string); !ok {
			return invalidProps(k+" must be a string", k)
		}
	}
	return nil
}

func vacationGet(ctx context.Context, c *call) (any, error) { return vacationType().get(ctx, c) }

// Settings (urn:freehold:params:jmap:settings) holds per-user settings
// the server acts on. undoSendSeconds (0-30, default 10) is how long an
// EmailSubmission stays pending, and cancellable, before it is sent.
const (
	defaultUndoSend = 10
	maxUndoSend     = 30
)

func settingsType() *objectType {
	return &objectType{
		kind:      store.ChangeSettings,
		props:     []string{"id", "undoSendSeconds"},
		singleton: true,
		defaults:  func() map[string]any { return map[string]any{"undoSendSeconds": defaultUndoSend} },
		check: func(_ context.Context, _ *call, obj map[string]any, _ bool) *SetError {
			n, ok := obj["undoSendSeconds"].(float64)
			if ok && n == float64(int(n)) && n >= 0 && n <= maxUndoSend {
				obj["undoSendSeconds"] = int(n)
				return nil
			}
			if i, ok := obj["undoSendSeconds"].(int); ok && i >= 0 && i <= maxUndoSend {
				return nil
			}
			return invalidProps("undoSendSeconds must be an integer from 0 to 30", "undoSendSeconds")
		},
	}
}

func settingsGet(ctx context.Context, c *call) (any, error) { return settingsType().get(ctx, c) }
func settingsSet(ctx context.Context, c *call) (any, error) { return settingsType().set(ctx, c) }

// undoDelay returns the account's undo-send delay.
func (s *Server) undoDelay(ctx context.Context, acct store.AccountID) time.Duration {
	objs, err := s.st.JMAPObjects(ctx, acct, store.ChangeSettings)
	if err != nil || len(objs) == 0 {
		return defaultUndoSend * time.Second
	}
	var v struct {
		UndoSendSeconds *int `json:"undoSendSeconds"`
	}
	if json.Unmarshal(objs[0].Data, &v) != nil || v.UndoSendSeconds == nil {
		return defaultUndoSend * time.Second
	}
	return time.Duration(min(max(*v.UndoSendSeconds, 0), maxUndoSend)) * time.Second
}
