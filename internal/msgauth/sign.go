// Package msgauth is Freehold's message authentication: DKIM signing of
// outgoing mail (RFC 6376, with Ed25519 per RFC 8463), and the inbound
// checks of the MX — SPF (our own evaluator, package spf), DKIM
// verification, DMARC (RFC 7489) with alignment — summarised in an
// Authentication-Results header (RFC 8601). DKIM and the header format
// come from github.com/emersion/go-msgauth; DNS goes through the
// configured resolver.
package msgauth

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-msgauth/dkim"
)

// SigningKey is one private key a domain signs with.
type SigningKey struct {
	Domain   string
	Selector string
	Key      crypto.Signer // ed25519.PrivateKey or *rsa.PrivateKey
}

// KeySource gives the keys a domain currently signs with (none: the
// domain does not sign). dkimkeys.Keyring implements it over the store.
type KeySource interface {
	SigningKeys(ctx context.Context, domain string) ([]SigningKey, error)
}

// Signer adds DKIM signatures to outgoing messages: one per active key of
// the author's domain (an Ed25519 and an RSA one by default, so that
// verifiers without Ed25519 support still find a signature they can
// check), with relaxed/relaxed canonicalization.
type Signer struct {
	keys KeySource
}

// NewSigner returns a Signer over keys.
func NewSigner(keys KeySource) *Signer { return &Signer{keys: keys} }

// signedHeaders are the fields signed when present (RFC 6376 §5.4.1).
var signedHeaders = []string{
	"From", "Sender", "Reply-To", "Subject", "Date", "Message-ID", "To", "Cc",
	"MIME-Version", "Content-Type", "Content-Transfer-Encoding", "Content-ID",
	"Content-Description", "In-Reply-To", "References", "Resent-Date",
	"Resent-From", "Resent-Sender", "Resent-To", "Resent-Cc", "Resent-Message-ID",
	"List-Id", "List-Help", "List-Unsubscribe", "List-Unsubscribe-Post",
	"List-Subscribe", "List-Post", "List-Owner", "List-Archive", "Autocrypt",
}

// oversigned reports the fields signed once more than they occur, so that
// adding one more instance breaks the signature (RFC 6376 §8.15). From
// always is.
func oversigned(lowerName string) bool {
	switch lowerName {
	case "from", "sender", "reply-to", "subject", "date", "message-id", "to", "cc",
		"mime-version", "content-type", "content-transfer-encoding",
		"list-unsubscribe", "list-unsubscribe-post":
		return true
	}
	return false
}

// ErrNoFrom is returned when a message has no usable From header, so the
// signing domain cannot be chosen.
var ErrNoFrom = errors.New("msgauth: message has no From address")

// Sign returns the DKIM-Signature header fields to prepend to raw, for the
// domain of its From address. A domain without keys gives nil and no
// error: the message goes out unsigned.
func (s *Signer) Sign(ctx context.Context, raw []byte) ([]byte, error) {
	fields, bodyAt := headerFields(raw)
	domains, ok := fromDomains(fields)
	if !ok || len(domains) != 1 {
		return nil, ErrNoFrom
	}
	return s.sign(ctx, domains[0], raw, fields, bodyAt)
}

// SignDomain is Sign for an explicit signing domain (d=).
func (s *Signer) SignDomain(ctx context.Context, domain string, raw []byte) ([]byte, error) {
	fields, bodyAt := headerFields(raw)
	return s.sign(ctx, domain, raw, fields, bodyAt)
}

// sign signs raw, whose header fields and body offset the caller has
// already split, so the header is parsed once per message.
func (s *Signer) sign(ctx context.Context, domain string, raw []byte, fields []field, bodyAt int) ([]byte, error) {
	keys, err := s.keys.SigningKeys(ctx, domain)
	if err != nil {
		return nil, fmt.Errorf("msgauth: keys of %s: %w", domain, err)
	}
	if len(keys) == 0 {
		return nil, nil
	}
	if bodyAt == len(raw) && !bytes.HasSuffix(raw, []byte("\n\n")) && !bytes.HasSuffix(raw, []byte("\r\n\r\n")) {
		// A message without body: sign it as if the blank line were there,
		// which is how it is sent.
		raw = append(append([]byte(nil), raw...), "\r\n"...)
	}
	hk := headerKeys(fields)
	signers := make([]*dkim.Signer, 0, len(keys))
	defer func() {
		for _, sg := range signers {
			sg.Close()
		}
	}()
	for _, k := range keys {
		sg, err := dkim.NewSigner(&dkim.SignOptions{
			Domain:                 k.Domain,
			Selector:               k.Selector,
			Signer:                 k.Key,
			HeaderCanonicalization: dkim.CanonicalizationRelaxed,
			BodyCanonicalization:   dkim.CanonicalizationRelaxed,
			// No x= expiry: a scheduled message is signed when accepted
			// and may be sent much later.
			HeaderKeys: hk,
		})
		if err != nil {
			return nil, fmt.Errorf("msgauth: key %s._domainkey.%s: %w", k.Selector, k.Domain, err)
		}
		signers = append(signers, sg)
	}
	for _, sg := range signers {
		if _, err := sg.Write(raw); err != nil {
			return nil, err
		}
	}
	var out bytes.Buffer
	for _, sg := range signers {
		if err := sg.Close(); err != nil {
			return nil, fmt.Errorf("msgauth: signing: %w", err)
		}
		out.WriteString(sg.Signature())
	}
	return out.Bytes(), nil
}

// headerKeys lists the h= tag: each signed field as many times as it
// occurs, plus once more for the oversigned ones.
func headerKeys(fields []field) []string {
	count := map[string]int{}
	for _, f := range fields {
		count[strings.ToLower(f.name)]++
	}
	var out []string
	for _, h := range signedHeaders {
		n := count[strings.ToLower(h)]
		if oversigned(strings.ToLower(h)) {
			n++
		}
		for range n {
			out = append(out, h)
		}
	}
	return out
}
