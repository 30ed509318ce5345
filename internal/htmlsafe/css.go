package htmlsafe

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/gorilla/css/scanner"
)

// maxCSS bounds the CSS kept from one message.
const maxCSS = 256 << 10

// sanitizeCSS rewrites a style sheet or a declaration list so that it can
// neither run code nor fetch anything this package has not allowed:
// @import and @charset go; url() keeps data: images and fonts, cid:
// references mapped by Options.CID, and, with AllowRemote, http(s);
// functions that fetch or compute (image-set, expression, element) and
// the old binding properties are neutralised. Escapes are decoded before
// scanning, so that an escaped "url" cannot hide from it (the output is
// what a browser parses, and it is what was checked), and "<" and "\\"
// never reach the output, so the sheet cannot end its <style>.
func (s *sanitizer) sanitizeCSS(in string) string {
	if len(in) > maxCSS {
		in = in[:maxCSS]
	}
	controls := strings.NewReplacer("\x00", "", "\x01", "", "\x02", "")
	in = controls.Replace(decodeEscapes(in))
	sc := scanner.New(in)
	var b strings.Builder
	skipUntilSemicolon := false
	depth := 0 // nesting inside a neutralised function
	for {
		t := sc.Next()
		if t.Type == scanner.TokenEOF || t.Type == scanner.TokenError {
			break
		}
		if skipUntilSemicolon {
			if t.Type == scanner.TokenChar && (t.Value == ";" || t.Value == "}") {
				skipUntilSemicolon = false
			}
			continue
		}
		if depth > 0 {
			if t.Type == scanner.TokenFunction {
				depth++
			} else if t.Type == scanner.TokenChar && t.Value == ")" {
				depth--
				if depth == 0 {
					b.WriteString("none")
				}
			}
			continue
		}
		switch t.Type {
		case scanner.TokenComment, scanner.TokenCDO, scanner.TokenCDC, scanner.TokenBOM:
			continue
		case scanner.TokenAtKeyword:
			kw := strings.ToLower(t.Value)
			if strings.HasPrefix(kw, "@import") || strings.HasPrefix(kw, "@charset") || strings.HasPrefix(kw, "@namespace") {
				skipUntilSemicolon = true
				s.remote = s.remote || strings.HasPrefix(kw, "@import")
				continue
			}
			b.WriteString(t.Value)
		case scanner.TokenURI:
			b.WriteString(s.cssURL(t.Value))
		case scanner.TokenFunction:
			name := strings.ToLower(strings.TrimSuffix(t.Value, "("))
			switch name {
			case "image-set", "-webkit-image-set", "expression", "element", "-moz-element", "url", "src", "image", "cross-fade", "-webkit-cross-fade":
				// url( and src( here are forms the scanner did not
				// read as a URI: treated as unknown, dropped.
				depth = 1
				if name == "url" || name == "src" || strings.HasSuffix(name, "image-set") || name == "image" {
					s.remote = true
				}
				continue
			}
			b.WriteString(t.Value)
		case scanner.TokenString:
			if strings.Contains(strings.ToLower(t.Value), "javascript:") {
				b.WriteString(`""`)
				continue
			}
			b.WriteString(t.Value)
		default:
			v := strings.ToLower(t.Value)
			if strings.Contains(v, "expression") || strings.Contains(v, "binding") || strings.Contains(v, "behavior") ||
				strings.Contains(v, "javascript") {
				b.WriteString("none")
				continue
			}
			b.WriteString(t.Value)
		}
	}
	// Only the url()s cssURL wrote (marked) survive as url(: any other
	// "url(" that tokenising let through, as in "0url(", is broken up.
	out := strings.NewReplacer("<", "", "\\", "").Replace(b.String())
	out = otherURL.ReplaceAllString(out, "${1}_(")
	// A last net: words that only ever mean trouble in CSS are broken
	// wherever they appear, even inside strings.
	out = banned.ReplaceAllString(out, "blocked")
	return strings.ReplaceAll(out, urlMark, "url(")
}

// urlMark marks the url( that cssURL writes.
const urlMark = "\x01\x02"

var (
	otherURL = regexp.MustCompile(`(?i)(url)\(`)
	banned   = regexp.MustCompile(`(?i)expression|javascript|vbscript|behavior|binding|@import`)
)

// decodeEscapes replaces CSS escapes (CSS Syntax §4.3.7: a backslash and
// up to six hex digits with one optional space, or a backslash and any
// other character) by the characters they stand for.
func decodeEscapes(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			if s[i] != '\\' {
				b.WriteByte(s[i])
			}
			continue
		}
		j := i + 1
		for j < len(s) && j-i <= 6 && isHex(s[j]) {
			j++
		}
		if j == i+1 {
			if s[j] != '\n' {
				b.WriteByte(s[j])
			}
			i = j
			continue
		}
		n, _ := strconv.ParseUint(s[i+1:j], 16, 32)
		r := rune(n)
		if r == 0 || r > unicode.MaxRune || (r >= 0xD800 && r <= 0xDFFF) {
			r = unicode.ReplacementChar
		}
		b.WriteRune(r)
		if j < len(s) && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n') {
			j++
		}
		i = j - 1
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// cssURL rewrites one url(...) token.
func (s *sanitizer) cssURL(tok string) string {
	v := strings.TrimSpace(tok[len("url(") : len(tok)-1])
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		v = v[1 : len(v)-1]
	}
	u, ok := s.rewriteURL(v, true)
	if !ok {
		return "none"
	}
	return urlMark + `"` + strings.NewReplacer(`"`, "%22", "\n", "", "\r", "").Replace(u) + `")`
}
