package jmap

import (
	"strings"

	"golang.org/x/net/html"
)

// htmlToText returns the text of an HTML document: text nodes outside
// script and style, with block boundaries as spaces.
func htmlToText(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	skip := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return b.String()
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "title":
				skip++
			case "br", "p", "div", "tr", "li", "td", "h1", "h2", "h3", "h4", "h5", "h6":
				b.WriteByte(' ')
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "title":
				if skip > 0 {
					skip--
				}
			}
		}
	}
}
