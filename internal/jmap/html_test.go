package jmap

import (
	"strings"
	"testing"
)

const htmlMsg = `From: news@example.net
To: alice@example.org
Subject: Newsletter
MIME-Version: 1.0
Content-Type: multipart/related; boundary="rel"

--rel
Content-Type: text/html; charset=utf-8

<html><head><style>p{color:red;background:url(http://track.example/bg.png)}</style>
<script>alert(1)</script></head>
<body onload="alert(2)"><p>Hi <a href="javascript:alert(3)">there</a></p>
<img src="cid:logo@x"><img src="http://track.example/pixel.gif">
<form action="http://evil.example"><input name=p></form></body></html>
--rel
Content-Type: image/png
Content-ID: <logo@x>
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--rel--
`

func TestHTMLEndpoint(t *testing.T) {
	e := newEnv(t)
	id := emailIDString(e.deliver(e.alice, "INBOX", htmlMsg))
	path := "/jmap/html/" + accountIDString(e.alice.ID) + "/" + id
	resp, body := e.send(e.alice, "GET", path, nil, "")
	doc := string(body)
	csp := resp.Header.Get("Content-Security-Policy")
	if resp.StatusCode != 200 || !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "sandbox") ||
		resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("X-Freehold-Remote-Blocked") != "1" {
		t.Errorf("status %d headers %v", resp.StatusCode, resp.Header)
	}
	for _, bad := range []string{"<script", "onload", "javascript:", "<form", "track.example", "cid:"} {
		if strings.Contains(strings.ToLower(doc), bad) {
			t.Errorf("sanitised document holds %q:\n%s", bad, doc)
		}
	}
	if !strings.Contains(doc, `src="data:image/png;base64,iVBORw0KGgo="`) || !strings.Contains(doc, "<p>Hi ") {
		t.Errorf("document:\n%s", doc)
	}
	b, _ := e.get(e.alice, path+"?remote=1")
	if !strings.Contains(string(b), "http://track.example/pixel.gif") {
		t.Errorf("remote=1 dropped the remote image:\n%s", b)
	}
	if _, st := e.get(e.bob, path); st != 404 {
		t.Errorf("bob reads alice's html: %d", st)
	}
	if _, st := e.get(e.bob, "/jmap/html/"+accountIDString(e.bob.ID)+"/"+id); st != 404 {
		t.Errorf("bob reads alice's html through his account: %d", st)
	}
}
