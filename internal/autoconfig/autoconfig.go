// Package autoconfig tells mail clients how to reach Freehold from an
// address alone: Thunderbird's autoconfig (config-v1.1.xml), Outlook's
// autodiscover (POX) and an Apple configuration profile. Every answer
// points at implicit TLS (IMAPS and submissions, RFC 8314) and asks for
// the full address as user name.
package autoconfig

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"freehold/internal/mail"
)

// Options describe the server clients should use.
type Options struct {
	Hostname        string // the name in the TLS certificate
	IMAPSPort       int    // implicit-TLS IMAP, usually 993
	SubmissionsPort int    // implicit-TLS submission, usually 465
	// IsLocal reports whether Freehold handles the domain; requests for
	// other domains get 404, so the server never vouches for strangers.
	IsLocal func(ctx context.Context, domain string) bool
}

// Handler serves the three formats.
type Handler struct {
	o   Options
	mux *http.ServeMux
}

// New returns the handler; mount it for /mail/, /.well-known/autoconfig/,
// /autodiscover/ and /Autodiscover/, and /apple/.
func New(o Options) *Handler {
	h := &Handler{o: o, mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /mail/config-v1.1.xml", h.thunderbird)
	h.mux.HandleFunc("GET /.well-known/autoconfig/mail/config-v1.1.xml", h.thunderbird)
	h.mux.HandleFunc("POST /autodiscover/autodiscover.xml", h.outlook)
	h.mux.HandleFunc("POST /Autodiscover/Autodiscover.xml", h.outlook)
	h.mux.HandleFunc("GET /apple/freehold.mobileconfig", h.apple)
	return h
}

// Handles reports whether a request path is one the handler answers, for
// the caller's routing.
func Handles(path string) bool {
	for _, p := range []string{"/mail/config-v1.1.xml", "/.well-known/autoconfig/", "/autodiscover/", "/Autodiscover/", "/apple/"} {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// address returns the client's address, and its domain if it is ours.
func (h *Handler) address(ctx context.Context, s string) (mail.Address, bool) {
	a, err := mail.ParseAddress(strings.TrimSpace(s))
	if err != nil || h.o.IsLocal == nil || !h.o.IsLocal(ctx, a.Domain) {
		return mail.Address{}, false
	}
	return a, true
}

// thunderbird serves Mozilla's autoconfig format. Thunderbird passes the
// address in emailaddress; when it does not, the domain comes from the
// autoconfig.<domain> host name.
func (h *Handler) thunderbird(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("emailaddress")
	if q == "" {
		host := strings.ToLower(r.Host)
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		q = "user@" + strings.TrimPrefix(host, "autoconfig.")
	}
	a, ok := h.address(r.Context(), q)
	if !ok {
		http.NotFound(w, r)
		return
	}
	type server struct {
		Type     string `xml:"type,attr"`
		Hostname string `xml:"hostname"`
		Port     int    `xml:"port"`
		Socket   string `xml:"socketType"`
		Auth     string `xml:"authentication"`
		Username string `xml:"username"`
	}
	doc := struct {
		XMLName  xml.Name `xml:"clientConfig"`
		Version  string   `xml:"version,attr"`
		Provider struct {
			ID       string `xml:"id,attr"`
			Domain   string `xml:"domain"`
			Display  string `xml:"displayName"`
			Short    string `xml:"displayShortName"`
			Incoming server `xml:"incomingServer"`
			Outgoing server `xml:"outgoingServer"`
		} `xml:"emailProvider"`
	}{Version: "1.1"}
	p := &doc.Provider
	p.ID, p.Domain, p.Display, p.Short = a.Domain, a.Domain, a.Domain+" mail", a.Domain
	p.Incoming = server{"imap", h.o.Hostname, h.o.IMAPSPort, "SSL", "password-cleartext", "%EMAILADDRESS%"}
	p.Outgoing = server{"smtp", h.o.Hostname, h.o.SubmissionsPort, "SSL", "password-cleartext", "%EMAILADDRESS%"}
	writeXML(w, "application/xml", doc)
}

// outlook answers the Outlook POX autodiscover request with IMAP and SMTP
// settings (AccountType email).
func (h *Handler) outlook(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Email string `xml:"Request>EMailAddress"`
	}
	if err := xml.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req); err != nil {
		http.Error(w, "bad autodiscover request", http.StatusBadRequest)
		return
	}
	a, ok := h.address(r.Context(), req.Email)
	if !ok {
		http.NotFound(w, r)
		return
	}
	type protocol struct {
		Type     string `xml:"Type"`
		Server   string `xml:"Server"`
		Port     int    `xml:"Port"`
		Login    string `xml:"LoginName"`
		SPA      string `xml:"SPA"`
		SSL      string `xml:"SSL"`
		AuthReq  string `xml:"AuthRequired"`
		Encrypt  string `xml:"Encryption"`
		UsePOPAu string `xml:"UsePOPAuth,omitempty"`
	}
	doc := struct {
		XMLName  xml.Name `xml:"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006 Autodiscover"`
		Response struct {
			XMLName xml.Name `xml:"http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a Response"`
			Account struct {
				Type      string     `xml:"AccountType"`
				Action    string     `xml:"Action"`
				Protocols []protocol `xml:"Protocol"`
			} `xml:"Account"`
		}
	}{}
	acc := &doc.Response.Account
	acc.Type, acc.Action = "email", "settings"
	acc.Protocols = []protocol{
		{"IMAP", h.o.Hostname, h.o.IMAPSPort, a.String(), "off", "on", "on", "SSL", ""},
		{"SMTP", h.o.Hostname, h.o.SubmissionsPort, a.String(), "off", "on", "on", "SSL", "off"},
	}
	writeXML(w, "application/xml", doc)
}

func writeXML(w http.ResponseWriter, ctype string, v any) {
	b, err := xml.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ctype+"; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	fmt.Fprint(w, xml.Header)
	w.Write(b)
	w.Write([]byte("\n"))
}
