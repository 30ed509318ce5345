// Package dnsrecords says what DNS records a domain needs for Freehold to
// receive its mail, send mail that others trust, and let clients set
// themselves up — MX, SPF, DKIM, DMARC, MTA-STS, TLS-RPT, the SRV records
// of RFC 6186 and RFC 6764, autoconfig and autodiscover — in zone-file
// syntax (`freehold dns DOMAIN`), and checks them against live DNS record
// by record (`freehold dns DOMAIN --check`).
package dnsrecords

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"freehold/internal/msgauth/dkimkeys"
	"freehold/internal/smtpclient/mtasts"
	"freehold/internal/store"
)

// Input describes a domain and the server that handles it.
type Input struct {
	Domain string // e.g. example.org
	// Hostname is the server's name: MX target, SRV target, EHLO name.
	Hostname string
	// Addrs are the server's public addresses; when given, A/AAAA records
	// for Hostname are listed and the SPF check evaluates them.
	Addrs []netip.Addr
	// DKIM are the domain's keys; pending, active and retiring ones are
	// all published.
	DKIM []store.DKIMKey
	// MTASTS is the domain's policy (default: testing mode, Hostname as
	// the only MX).
	MTASTS *mtasts.Policy
	// DMARCPolicy is p= (default "quarantine"); DMARCReports, when set,
	// is the rua= address for aggregate reports.
	DMARCPolicy  string
	DMARCReports string
	// TLSRPTReports is the rua= of TLS-RPT (RFC 8460); default
	// postmaster@Domain.
	TLSRPTReports string
}

// Record is one DNS record to publish.
type Record struct {
	Name    string // FQDN with the trailing dot
	Type    string // MX, TXT, CNAME, SRV, A, AAAA
	Value   string // the data, unquoted for TXT
	Purpose string // what it is for, for people
}

// policy returns the MTA-STS policy to publish.
func (in Input) policy() mtasts.Policy {
	if in.MTASTS != nil {
		return *in.MTASTS
	}
	return mtasts.OwnPolicy(mtasts.ModeTesting, in.Hostname)
}

func fqdn(s string) string { return strings.TrimSuffix(strings.ToLower(s), ".") + "." }

// Records lists what the domain should publish.
func Records(in Input) ([]Record, error) {
	if in.Domain == "" || in.Hostname == "" {
		return nil, fmt.Errorf("dnsrecords: domain and hostname are required")
	}
	d, h := fqdn(in.Domain), fqdn(in.Hostname)
	var out []Record
	add := func(name, typ, value, purpose string) {
		out = append(out, Record{Name: name, Type: typ, Value: value, Purpose: purpose})
	}
	add(d, "MX", "10 "+h, "Mail exchanger: where mail for the domain is delivered")
	for _, a := range in.Addrs {
		typ := "A"
		if a.Is6() {
			typ = "AAAA"
		}
		add(h, typ, a.String(), "Address of the mail server")
	}
	add(d, "TXT", "v=spf1 mx -all", "SPF (RFC 7208): only the domain's MX hosts send its mail")
	for _, k := range in.DKIM {
		txt, err := dkimkeys.TXTRecord(k)
		if err != nil {
			return nil, err
		}
		add(k.Selector+"._domainkey."+d, "TXT", txt, fmt.Sprintf("DKIM key (%s, %s)", k.Algorithm, k.State))
	}
	dmarc := "v=DMARC1; p=" + orDefault(in.DMARCPolicy, "quarantine")
	if in.DMARCReports != "" {
		dmarc += "; rua=mailto:" + in.DMARCReports
	}
	add("_dmarc."+d, "TXT", dmarc, "DMARC (RFC 7489): what receivers do with mail failing SPF and DKIM")
	add("_mta-sts."+d, "TXT", "v=STSv1; id="+in.policy().ID(), "MTA-STS (RFC 8461): policy id; changes with the policy")
	add("mta-sts."+d, "CNAME", h, "MTA-STS: host serving https://mta-sts."+strings.TrimSuffix(d, ".")+mtasts.WellKnownPath)
	add("_smtp._tls."+d, "TXT", "v=TLSRPTv1; rua=mailto:"+orDefault(in.TLSRPTReports, "postmaster@"+strings.TrimSuffix(d, ".")),
		"TLS-RPT (RFC 8460): where senders report TLS failures")
	add("_submissions._tcp."+d, "SRV", "0 1 465 "+h, "Mail submission over TLS (RFC 8314, RFC 6186)")
	add("_submission._tcp."+d, "SRV", "10 1 587 "+h, "Mail submission with STARTTLS (RFC 6186)")
	add("_imaps._tcp."+d, "SRV", "0 1 993 "+h, "IMAP over TLS (RFC 6186)")
	add("_imap._tcp."+d, "SRV", "0 0 0 .", "No plain IMAP (RFC 6186 §3.4)")
	// No _caldavs/_carddavs SRV records: CalDAV and CardDAV are not
	// served yet, and a record would send clients to nothing.
	add("_autodiscover._tcp."+d, "SRV", "0 1 443 "+h, "Outlook autodiscover")
	add("autoconfig."+d, "CNAME", h, "Thunderbird autoconfiguration")
	add("autodiscover."+d, "CNAME", h, "Outlook autodiscover")
	return out, nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// Zone formats records as zone-file lines, each preceded by a comment
// saying what it is for. TXT values longer than 255 octets are split into
// several strings (RFC 1035 §3.3.14), as DKIM RSA keys need.
func Zone(records []Record, ttl int) string {
	if ttl <= 0 {
		ttl = 3600
	}
	var b strings.Builder
	for _, r := range records {
		fmt.Fprintf(&b, "; %s\n", r.Purpose)
		value := r.Value
		if r.Type == "TXT" {
			value = quoteTXT(value)
		}
		fmt.Fprintf(&b, "%s %s IN %s %s\n", r.Name, strconv.Itoa(ttl), r.Type, value)
	}
	return b.String()
}

func quoteTXT(s string) string {
	var parts []string
	for len(s) > 255 {
		parts = append(parts, s[:255])
		s = s[255:]
	}
	parts = append(parts, s)
	for i, p := range parts {
		parts[i] = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(p) + `"`
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "( " + strings.Join(parts, "\n\t") + " )"
}
