// Package htmlsafe turns the HTML of an email into a document that is
// safe to show: no scripts or event handlers, no javascript: URLs, no
// forms, no meta refresh, no <base>, no external style sheets, and no
// remote images, fonts or CSS url()s unless the reader allowed them.
// cid: references become the URLs the caller maps them to.
//
// Sanitising is done in two passes: golang.org/x/net/html parses the
// message and this package rewrites what bluemonday cannot judge (CSS in
// style sheets and attributes, cid: and remote image sources); then
// bluemonday's allow-list policy decides which elements and attributes
// survive. The result is meant to be served with its own strict CSP
// (see CSP), which blocks anything that slipped through.
package htmlsafe

import (
	"bytes"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
)

// Options tunes Sanitize.
type Options struct {
	// AllowRemote keeps http(s) images, fonts and CSS url()s.
	AllowRemote bool
	// CID maps a Content-ID (without angle brackets) to the URL that
	// replaces a cid: reference to it. Unmapped cid: references are
	// removed.
	CID func(cid string) (string, bool)
}

// Result is a sanitised document.
type Result struct {
	// HTML is a complete UTF-8 document.
	HTML string
	// RemoteBlocked reports that remote content was removed, so that
	// the reader can be offered to load it.
	RemoteBlocked bool
}

// maxInput bounds the HTML read from one message.
const maxInput = 8 << 20

// Sanitize returns a safe document showing the email HTML src.
func Sanitize(src string, o Options) Result {
	if len(src) > maxInput {
		src = src[:maxInput]
	}
	s := &sanitizer{o: o}
	doc, err := html.Parse(strings.NewReader(src))
	if err != nil {
		return Result{HTML: wrap("", "")}
	}
	var styles []string
	s.walk(doc, &styles)
	var body bytes.Buffer
	if b := findBody(doc); b != nil {
		for c := b.FirstChild; c != nil; c = c.NextSibling {
			_ = html.Render(&body, c)
		}
	}
	clean := policy().Sanitize(body.String())
	return Result{HTML: wrap(strings.Join(styles, "\n"), clean), RemoteBlocked: s.remote}
}

// wrap makes the final document. Its <style> holds only CSS from
// sanitizeCSS, which never contains "<".
func wrap(css, body string) string {
	return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><meta name=\"referrer\" content=\"no-referrer\">" +
		"<style>" + css + "</style></head><body>" + body + "</body></html>\n"
}

type sanitizer struct {
	o      Options
	remote bool // remote content was removed
}

func findBody(n *html.Node) *html.Node {
	if n.Type == html.ElementNode && n.Data == "body" {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if b := findBody(c); b != nil {
			return b
		}
	}
	return nil
}

// dropped elements are removed with their content before bluemonday sees
// the document (bluemonday would drop most of them too).
var dropped = map[string]bool{"script": true, "noscript": true, "iframe": true, "frame": true, "frameset": true,
	"object": true, "embed": true, "applet": true, "meta": true, "base": true, "link": true, "template": true,
	"svg": true, "math": true, "title": true, "input": true, "button": true, "select": true, "textarea": true,
	"option": true, "portal": true, "audio": true, "video": true, "source": true, "track": true, "canvas": true}

// walk rewrites the tree in place: style elements are collected
// (sanitised) into styles and removed, style attributes sanitised, image
// sources rewritten, dropped elements removed.
func (s *sanitizer) walk(n *html.Node, styles *[]string) {
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		if c.Type == html.ElementNode {
			switch {
			case c.Data == "style":
				var b strings.Builder
				for t := c.FirstChild; t != nil; t = t.NextSibling {
					if t.Type == html.TextNode {
						b.WriteString(t.Data)
					}
				}
				*styles = append(*styles, s.sanitizeCSS(b.String()))
				n.RemoveChild(c)
				c = next
				continue
			case dropped[c.Data] || c.Namespace != "":
				n.RemoveChild(c)
				c = next
				continue
			}
			s.rewriteAttrs(c)
		}
		s.walk(c, styles)
		c = next
	}
}

func (s *sanitizer) rewriteAttrs(n *html.Node) {
	out := n.Attr[:0]
	for _, a := range n.Attr {
		key := strings.ToLower(a.Key)
		switch {
		case key == "style":
			a.Val = s.sanitizeCSS(a.Val)
		case n.Data == "img" && key == "src":
			u, ok := s.rewriteURL(strings.TrimSpace(a.Val), false)
			if !ok {
				continue
			}
			a.Val = u
		case key == "background" || key == "srcset" || key == "poster" || key == "lowsrc" || key == "dynsrc":
			if strings.Contains(a.Val, ":") || strings.HasPrefix(strings.TrimSpace(a.Val), "//") {
				s.remote = true
			}
			continue
		}
		out = append(out, a)
	}
	n.Attr = out
}

// rewriteURL decides what a resource URL (image, font, CSS url()) becomes.
func (s *sanitizer) rewriteURL(v string, css bool) (string, bool) {
	lower := strings.ToLower(v)
	switch {
	case strings.HasPrefix(lower, "cid:"):
		if s.o.CID == nil {
			return "", false
		}
		return s.o.CID(strings.Trim(v[4:], "<>"))
	case strings.HasPrefix(lower, "data:"):
		if dataImage.MatchString(lower) || css && dataFont.MatchString(lower) {
			return v, true
		}
		return "", false
	case strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://") || strings.HasPrefix(lower, "//"):
		if s.o.AllowRemote {
			return v, true
		}
		s.remote = true
		return "", false
	}
	return "", false
}

var (
	dataImage = regexp.MustCompile(`^data:image/(png|jpe?g|gif|webp|bmp);base64,[a-z0-9+/=\s]*$`)
	dataFont  = regexp.MustCompile(`^data:(font/[a-z0-9.+-]+|application/(x-)?font-[a-z0-9.+-]+);base64,`)
)

// policy is the allow-list: formatting, tables, lists, links and images,
// with the presentational attributes mail uses. It is built per call:
// bluemonday policies are not to be shared while being built, and the
// package keeps no state.
func policy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowStandardURLs()
	p.AllowURLSchemes("http", "https", "mailto", "tel")
	p.AllowDataURIImages()
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	p.AllowLists()
	p.AllowTables()
	p.AllowImages()
	p.AllowAttrs("href").OnElements("a")
	p.AllowAttrs("name").OnElements("a")
	p.AllowElements("a", "abbr", "acronym", "address", "article", "aside", "b", "bdi", "bdo", "big", "blockquote",
		"br", "center", "cite", "code", "dd", "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure",
		"font", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "i", "ins", "kbd", "main", "mark",
		"p", "pre", "q", "rp", "rt", "ruby", "s", "samp", "section", "small", "span", "strike", "strong", "sub",
		"summary", "sup", "time", "tt", "u", "var", "wbr", "caption", "col", "colgroup", "table", "tbody", "td",
		"tfoot", "th", "thead", "tr", "img", "ol", "ul", "li", "nav")
	// style attributes were sanitised by sanitizeCSS; no style policy
	// is set, so bluemonday keeps them as they are.
	p.AllowAttrs("style", "class", "id", "dir", "lang", "title", "align", "valign", "width", "height",
		"bgcolor", "color", "border", "cellpadding", "cellspacing", "colspan", "rowspan", "face", "size",
		"alt", "start", "type", "nowrap", "hspace", "vspace").Globally()
	// Last: the helpers above turn relative URLs back on. A relative URL
	// would resolve against this server.
	p.AllowRelativeURLs(false)
	return p
}

// CSP returns the Content-Security-Policy the sanitised document must be
// served with: nothing may load but inline styles and images from data:
// URIs and from downloadPrefix (an absolute URL prefix); with remote,
// images and fonts from anywhere. Scripts are not allowed at all and the
// document is sandboxed (only links opening in a new window work).
func CSP(downloadPrefix string, remote bool) string {
	img, font := "data: "+downloadPrefix, "data:"
	if remote {
		img, font = "* data:", "* data:"
	}
	return "default-src 'none'; img-src " + img + "; font-src " + font + "; style-src 'unsafe-inline'; " +
		"form-action 'none'; base-uri 'none'; frame-ancestors 'self'; " +
		"sandbox allow-popups allow-popups-to-escape-sandbox"
}
