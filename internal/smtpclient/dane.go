package smtpclient

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// TLSA fields (RFC 6698 §2.1, RFC 7218 names).
const (
	usageDANETA = 2
	usageDANEEE = 3

	selectorCert = 0
	selectorSPKI = 1

	matchFull   = 0
	matchSHA256 = 1
	matchSHA512 = 2
)

// usableTLSA keeps the records an SMTP client may use: DANE-TA(2) and
// DANE-EE(3) with known selector and matching type (RFC 7672 §3.1.3 makes
// the PKIX usages unusable for SMTP).
func usableTLSA(rrs []*dns.TLSA) []*dns.TLSA {
	var out []*dns.TLSA
	for _, r := range rrs {
		if (r.Usage == usageDANETA || r.Usage == usageDANEEE) &&
			(r.Selector == selectorCert || r.Selector == selectorSPKI) &&
			r.MatchingType <= matchSHA512 {
			out = append(out, r)
		}
	}
	return out
}

// tlsaMatches reports whether cert matches the record's selector and
// matching type.
func tlsaMatches(r *dns.TLSA, cert *x509.Certificate) bool {
	var data []byte
	switch r.Selector {
	case selectorCert:
		data = cert.Raw
	case selectorSPKI:
		data = cert.RawSubjectPublicKeyInfo
	default:
		return false
	}
	var sum []byte
	switch r.MatchingType {
	case matchFull:
		sum = data
	case matchSHA256:
		h := sha256.Sum256(data)
		sum = h[:]
	case matchSHA512:
		h := sha512.Sum512(data)
		sum = h[:]
	default:
		return false
	}
	want, err := hex.DecodeString(r.Certificate)
	return err == nil && bytes.Equal(want, sum)
}

// errDANE is a server certificate that no TLSA record authenticates.
var errDANE = errors.New("dane: no TLSA record matches the server certificate")

// verifyDANE authenticates a TLS server with TLSA records (RFC 7672 §3.1):
// DANE-EE(3) matches the leaf certificate alone, with no name or
// expiry check; DANE-TA(2) matches a certificate of the chain the server
// sent, from which the leaf must chain and carry one of the reference
// names (the MX host, or the destination domain).
func verifyDANE(cs tls.ConnectionState, records []*dns.TLSA, names []string) error {
	certs := cs.PeerCertificates
	if len(certs) == 0 {
		return errDANE
	}
	leaf := certs[0]
	for _, r := range records {
		if r.Usage == usageDANEEE && tlsaMatches(r, leaf) {
			return nil
		}
	}
	var lastErr error = errDANE
	for _, r := range records {
		if r.Usage != usageDANETA {
			continue
		}
		for i, ta := range certs {
			if !tlsaMatches(r, ta) {
				continue
			}
			if err := chainsTo(leaf, ta, certs[1:i+1], names); err != nil {
				lastErr = err
				continue
			}
			return nil
		}
	}
	return lastErr
}

// chainsTo verifies that leaf chains to the trust anchor ta through
// intermediates and is valid for one of names.
func chainsTo(leaf, ta *x509.Certificate, intermediates []*x509.Certificate, names []string) error {
	if leaf == ta {
		// The leaf itself is the trust anchor: only the name is checked.
		for _, n := range names {
			if leaf.VerifyHostname(n) == nil {
				return nil
			}
		}
		return fmt.Errorf("dane: certificate not valid for %s", strings.Join(names, " or "))
	}
	roots := x509.NewCertPool()
	roots.AddCert(ta)
	inter := x509.NewCertPool()
	for _, c := range intermediates {
		if c != ta {
			inter.AddCert(c)
		}
	}
	var err error
	for _, n := range names {
		_, err = leaf.Verify(x509.VerifyOptions{
			DNSName:       n,
			Roots:         roots,
			Intermediates: inter,
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
		})
		if err == nil {
			return nil
		}
	}
	return fmt.Errorf("dane: %w", err)
}
