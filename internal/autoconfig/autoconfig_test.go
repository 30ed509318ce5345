package autoconfig

import (
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func server(t *testing.T) *httptest.Server {
	h := New(Options{Hostname: "mail.example.org", IMAPSPort: 993, SubmissionsPort: 465,
		IsLocal: func(_ context.Context, d string) bool { return d == "example.org" }})
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}

func get(t *testing.T, req *http.Request) (int, string) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestThunderbird(t *testing.T) {
	s := server(t)
	req, _ := http.NewRequest("GET", s.URL+"/mail/config-v1.1.xml?emailaddress=alice%40example.org", nil)
	code, body := get(t, req)
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	var doc struct {
		Provider struct {
			ID       string `xml:"id,attr"`
			Incoming []struct {
				Type   string `xml:"type,attr"`
				Host   string `xml:"hostname"`
				Port   int    `xml:"port"`
				Socket string `xml:"socketType"`
				User   string `xml:"username"`
			} `xml:"incomingServer"`
			Outgoing struct {
				Port int `xml:"port"`
			} `xml:"outgoingServer"`
		} `xml:"emailProvider"`
	}
	if err := xml.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	in := doc.Provider.Incoming
	if doc.Provider.ID != "example.org" || len(in) != 1 || in[0].Type != "imap" || in[0].Host != "mail.example.org" ||
		in[0].Port != 993 || in[0].Socket != "SSL" || in[0].User != "%EMAILADDRESS%" || doc.Provider.Outgoing.Port != 465 {
		t.Errorf("config: %+v\n%s", doc, body)
	}
	// By host name, as Thunderbird asks autoconfig.<domain>.
	req, _ = http.NewRequest("GET", s.URL+"/mail/config-v1.1.xml", nil)
	req.Host = "autoconfig.example.org"
	if code, _ := get(t, req); code != 200 {
		t.Errorf("by host: status %d", code)
	}
	req.Host = "autoconfig.example.org:8443"
	if code, _ := get(t, req); code != 200 {
		t.Errorf("by host with port: status %d", code)
	}
	// Not for a domain that is not ours.
	req, _ = http.NewRequest("GET", s.URL+"/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=x%40other.org", nil)
	if code, _ := get(t, req); code != 404 {
		t.Errorf("foreign domain: status %d", code)
	}
}

func TestOutlook(t *testing.T) {
	s := server(t)
	body := `<?xml version="1.0"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>bob@example.org</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>`
	req, _ := http.NewRequest("POST", s.URL+"/autodiscover/autodiscover.xml", strings.NewReader(body))
	code, out := get(t, req)
	if code != 200 || !strings.Contains(out, "<Type>IMAP</Type>") || !strings.Contains(out, "<Port>993</Port>") ||
		!strings.Contains(out, "<LoginName>bob@example.org</LoginName>") || !strings.Contains(out, "responseschema/2006a") {
		t.Errorf("status %d:\n%s", code, out)
	}
	req, _ = http.NewRequest("POST", s.URL+"/autodiscover/autodiscover.xml", strings.NewReader("<not xml"))
	if code, _ := get(t, req); code != 400 {
		t.Errorf("garbage: status %d", code)
	}
}

func TestApple(t *testing.T) {
	s := server(t)
	req, _ := http.NewRequest("GET", s.URL+"/apple/freehold.mobileconfig?email=carol%40example.org", nil)
	code, out := get(t, req)
	if code != 200 || !strings.Contains(out, "<string>carol@example.org</string>") || !strings.Contains(out, "<integer>993</integer>") {
		t.Errorf("status %d:\n%s", code, out)
	}
	if err := xml.Unmarshal([]byte(out), new(struct{})); err != nil {
		t.Errorf("profile is not XML: %v", err)
	}
	_, again := get(t, req)
	if again != out {
		t.Error("profile differs between two downloads: its UUIDs must be stable")
	}
}
