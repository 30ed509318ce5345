package autoconfig

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"strings"
	"text/template"
)

// appleProfile is an unsigned configuration profile with one mail account
// (Apple's com.apple.mail.managed payload). The password is not in it: the
// device asks for it when the profile is installed.
var appleProfile = template.Must(template.New("p").Parse(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>PayloadContent</key>
  <array>
    <dict>
      <key>EmailAccountDescription</key><string>{{.Address}}</string>
      <key>EmailAccountType</key><string>EmailTypeIMAP</string>
      <key>EmailAddress</key><string>{{.Address}}</string>
      <key>IncomingMailServerAuthentication</key><string>EmailAuthPassword</string>
      <key>IncomingMailServerHostName</key><string>{{.Host}}</string>
      <key>IncomingMailServerPortNumber</key><integer>{{.IMAPS}}</integer>
      <key>IncomingMailServerUseSSL</key><true/>
      <key>IncomingMailServerUsername</key><string>{{.Address}}</string>
      <key>OutgoingMailServerAuthentication</key><string>EmailAuthPassword</string>
      <key>OutgoingMailServerHostName</key><string>{{.Host}}</string>
      <key>OutgoingMailServerPortNumber</key><integer>{{.Submissions}}</integer>
      <key>OutgoingMailServerUseSSL</key><true/>
      <key>OutgoingMailServerUsername</key><string>{{.Address}}</string>
      <key>OutgoingPasswordSameAsIncomingPassword</key><true/>
      <key>PayloadDisplayName</key><string>{{.Address}}</string>
      <key>PayloadIdentifier</key><string>{{.ReverseHost}}.mail.{{.UUID}}</string>
      <key>PayloadType</key><string>com.apple.mail.managed</string>
      <key>PayloadUUID</key><string>{{.UUID}}</string>
      <key>PayloadVersion</key><integer>1</integer>
    </dict>
  </array>
  <key>PayloadDisplayName</key><string>Mail for {{.Address}}</string>
  <key>PayloadIdentifier</key><string>{{.ReverseHost}}.profile.{{.UUID}}</string>
  <key>PayloadRemovalDisallowed</key><false/>
  <key>PayloadType</key><string>Configuration</string>
  <key>PayloadUUID</key><string>{{.ProfileUUID}}</string>
  <key>PayloadVersion</key><integer>1</integer>
</dict>
</plist>
`))

// apple serves the profile for ?email=address.
func (h *Handler) apple(w http.ResponseWriter, r *http.Request) {
	a, ok := h.address(r.Context(), r.URL.Query().Get("email"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	parts := strings.Split(h.o.Hostname, ".")
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	w.Header().Set("Content-Type", "application/x-apple-aspen-config")
	w.Header().Set("Content-Disposition", `attachment; filename="mail.mobileconfig"`)
	appleProfile.Execute(w, map[string]any{
		"Address": a.String(), "Host": h.o.Hostname, "IMAPS": h.o.IMAPSPort, "Submissions": h.o.SubmissionsPort,
		"ReverseHost": strings.Join(parts, "."), "UUID": stableUUID("mail:" + a.Key()), "ProfileUUID": stableUUID("profile:" + a.Key()),
	})
}

// stableUUID derives a UUID-shaped identifier from s, so that installing
// the profile again replaces it rather than adding a second account.
func stableUUID(s string) string {
	h := sha256.Sum256([]byte(s))
	h[6] = h[6]&0x0f | 0x50 // version 5 shape
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%X-%X-%X-%X-%X", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}
