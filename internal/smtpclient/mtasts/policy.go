// Package mtasts implements SMTP MTA Strict Transport Security (RFC 8461):
// discovering, fetching, caching and applying the policies of the domains
// we send to, and serving the policies of our own domains.
package mtasts

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Mode is a policy mode (RFC 8461 §5).
type Mode string

const (
	ModeEnforce Mode = "enforce"
	ModeTesting Mode = "testing"
	ModeNone    Mode = "none"
)

// Policy is a parsed MTA-STS policy (RFC 8461 §3.2).
type Policy struct {
	Mode   Mode
	MX     []string // patterns: "mail.example.com" or "*.example.com"
	MaxAge time.Duration
}

// maxMaxAge is the largest max_age a policy may have (RFC 8461 §3.2).
const maxMaxAge = 31557600 * time.Second

// ErrSyntax is wrapped by policy parse errors.
var ErrSyntax = errors.New("mta-sts: bad policy")

// Parse parses a policy file. Unknown keys are ignored; version, mode and
// max_age are required, and mx unless the mode is none.
func Parse(text string) (Policy, error) {
	var p Policy
	var haveVersion, haveMaxAge bool
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 4096), 64*1024)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return Policy{}, fmt.Errorf("%w: line %q", ErrSyntax, line)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "version":
			if v != "STSv1" {
				return Policy{}, fmt.Errorf("%w: version %q", ErrSyntax, v)
			}
			haveVersion = true
		case "mode":
			switch Mode(v) {
			case ModeEnforce, ModeTesting, ModeNone:
				p.Mode = Mode(v)
			default:
				return Policy{}, fmt.Errorf("%w: mode %q", ErrSyntax, v)
			}
		case "max_age":
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil || len(v) > 10 {
				return Policy{}, fmt.Errorf("%w: max_age %q", ErrSyntax, v)
			}
			p.MaxAge = min(time.Duration(n)*time.Second, maxMaxAge)
			haveMaxAge = true
		case "mx":
			if v == "" {
				return Policy{}, fmt.Errorf("%w: empty mx", ErrSyntax)
			}
			p.MX = append(p.MX, strings.ToLower(strings.TrimSuffix(v, ".")))
		}
	}
	if err := sc.Err(); err != nil {
		return Policy{}, fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	if !haveVersion || p.Mode == "" || !haveMaxAge {
		return Policy{}, fmt.Errorf("%w: version, mode and max_age are required", ErrSyntax)
	}
	if p.Mode != ModeNone && len(p.MX) == 0 {
		return Policy{}, fmt.Errorf("%w: no mx", ErrSyntax)
	}
	return p, nil
}

// String formats the policy file, CRLF line ends (RFC 8461 §3.2).
func (p Policy) String() string {
	var b strings.Builder
	b.WriteString("version: STSv1\r\nmode: " + string(p.Mode) + "\r\n")
	for _, mx := range p.MX {
		b.WriteString("mx: " + mx + "\r\n")
	}
	b.WriteString("max_age: " + strconv.FormatInt(int64(p.MaxAge/time.Second), 10) + "\r\n")
	return b.String()
}

// ID is a policy id for the _mta-sts TXT record, derived from the policy
// text so that it changes whenever the policy does (RFC 8461 §3.1: up to 32
// alphanumeric characters).
func (p Policy) ID() string {
	h := sha256.Sum256([]byte(p.String()))
	return hex.EncodeToString(h[:])[:32]
}

// Matches reports whether an MX host name is allowed by the policy
// (RFC 8461 §4.1): equal to a pattern, or one label under a "*." pattern.
func (p Policy) Matches(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, pat := range p.MX {
		if rest, ok := strings.CutPrefix(pat, "*."); ok {
			i := strings.IndexByte(host, '.')
			if i > 0 && host[i+1:] == rest {
				return true
			}
			continue
		}
		if host == pat {
			return true
		}
	}
	return false
}

// parseTXT parses a _mta-sts TXT record (RFC 8461 §3.1) and returns its id.
func parseTXT(txt string) (string, bool) {
	fields := strings.Split(txt, ";")
	if strings.TrimSpace(fields[0]) != "v=STSv1" {
		return "", false
	}
	id := ""
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(strings.TrimSpace(f), "=")
		if !ok {
			continue
		}
		if k == "id" {
			id = v
		}
	}
	if id == "" || len(id) > 32 {
		return "", false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return "", false
		}
	}
	return id, true
}
