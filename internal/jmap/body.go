package jmap

import (
	"strings"
	"unicode/utf8"

	"freehold/internal/store"
)

// bodyPartProps are the EmailBodyPart properties (RFC 8621 §4.1.4).
var bodyPartProps = []string{"partId", "blobId", "size", "headers", "name", "type", "charset",
	"disposition", "cid", "language", "location", "subParts"}

var defaultBodyPartProps = []string{"partId", "blobId", "size", "name", "type", "charset",
	"disposition", "cid", "language", "location"}

// partView renders body parts of one message.
type partView struct {
	raw   []byte
	email store.MessageID // 0 for a parsed blob
	// blobBase is the content address of a parsed blob (Email/parse),
	// whose parts have no email to hang on; "" when unknown.
	blobBase string
	props    map[string]bool
	headers  []headerProp
}

func (v *partView) render(p *mimePart) map[string]any {
	out := map[string]any{}
	multi := strings.HasPrefix(p.mediaType, "multipart/")
	set := func(k string, val any) {
		if v.props[k] {
			out[k] = val
		}
	}
	if multi {
		set("partId", nil)
		set("blobId", nil)
		set("size", 0)
	} else {
		set("partId", p.partID)
		switch {
		case v.email != 0:
			set("blobId", partBlobID(v.email, p.partID))
		case v.blobBase != "":
			set("blobId", "Q"+v.blobBase+"_"+strings.ReplaceAll(p.partID, ".", "-"))
		default:
			set("blobId", nil)
		}
		if v.props["size"] {
			out["size"] = len(p.decoded(v.raw))
		}
	}
	set("headers", headersList(p.header))
	set("name", nilIfEmpty(p.name()))
	set("type", p.mediaType)
	set("charset", nilIfEmpty(p.charset()))
	set("disposition", nilIfEmpty(p.disp))
	if v.props["cid"] {
		cid := strings.TrimSpace(p.get("Content-ID"))
		cid = strings.TrimSuffix(strings.TrimPrefix(cid, "<"), ">")
		out["cid"] = nilIfEmpty(cid)
	}
	if v.props["language"] {
		var langs []string
		for _, l := range strings.Split(p.get("Content-Language"), ",") {
			if l = strings.TrimSpace(l); l != "" {
				langs = append(langs, l)
			}
		}
		out["language"] = stringsOrNull(langs)
	}
	set("location", nilIfEmpty(p.get("Content-Location")))
	for _, hp := range v.headers {
		out["header:"+hpKey(hp)] = headerValue(p.header, hp)
	}
	if v.props["subParts"] {
		if multi {
			subs := make([]any, 0, len(p.subParts))
			for _, s := range p.subParts {
				subs = append(subs, v.render(s))
			}
			out["subParts"] = subs
		} else {
			out["subParts"] = nil
		}
	}
	return out
}

// hpKey is the requested property name without its "header:" prefix.
func hpKey(hp headerProp) string {
	k := hp.name
	if hp.form != "Raw" {
		k += ":as" + hp.form
	}
	if hp.all {
		k += ":all"
	}
	return k
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// bodyLists computes textBody, htmlBody and attachments with the
// algorithm of RFC 8621 §4.1.4.
func bodyLists(root *mimePart) (text, html, atts []*mimePart) {
	if !strings.HasPrefix(root.mediaType, "multipart/") {
		parseStructure([]*mimePart{root}, "mixed", false, &text, &html, &atts)
		return
	}
	sub := strings.TrimPrefix(root.mediaType, "multipart/")
	parseStructure(root.subParts, sub, sub == "alternative", &text, &html, &atts)
	return
}

func isInlineMediaType(t string) bool {
	return strings.HasPrefix(t, "image/") || strings.HasPrefix(t, "audio/") || strings.HasPrefix(t, "video/")
}

// parseStructure walks the parts of one multipart; text or html being
// nil means that list is not collected below this point (inside an
// alternative that chose the other).
func parseStructure(parts []*mimePart, multiType string, inAlt bool, text, html, atts *[]*mimePart) {
	textLen, htmlLen := -1, -1
	if text != nil {
		textLen = len(*text)
	}
	if html != nil {
		htmlLen = len(*html)
	}
	for i, p := range parts {
		multi := strings.HasPrefix(p.mediaType, "multipart/")
		inline := p.disp != "attachment" &&
			(p.mediaType == "text/plain" || p.mediaType == "text/html" || isInlineMediaType(p.mediaType)) &&
			(i == 0 || (multiType != "related" && (isInlineMediaType(p.mediaType) || p.name() == "")))
		switch {
		case multi:
			sub := strings.TrimPrefix(p.mediaType, "multipart/")
			parseStructure(p.subParts, sub, inAlt || sub == "alternative", text, html, atts)
		case inline:
			if multiType == "alternative" {
				switch p.mediaType {
				case "text/plain":
					if text != nil {
						*text = append(*text, p)
					}
				case "text/html":
					if html != nil {
						*html = append(*html, p)
					}
				default:
					*atts = append(*atts, p)
				}
				continue
			}
			if inAlt {
				// As in the RFC's algorithm, the choice holds for the
				// rest of this multipart.
				if p.mediaType == "text/plain" {
					html = nil
				}
				if p.mediaType == "text/html" {
					text = nil
				}
			}
			if text != nil {
				*text = append(*text, p)
			}
			if html != nil {
				*html = append(*html, p)
			}
			if (text == nil || html == nil) && isInlineMediaType(p.mediaType) {
				*atts = append(*atts, p)
			}
		default:
			*atts = append(*atts, p)
		}
	}
	if multiType == "alternative" && text != nil && html != nil {
		// Only an HTML part was found: it serves as text too; and the
		// other way round.
		if textLen == len(*text) && htmlLen != len(*html) {
			*text = append(*text, (*html)[htmlLen:]...)
		}
		if htmlLen == len(*html) && textLen != len(*text) {
			*html = append(*html, (*text)[textLen:]...)
		}
	}
}

// bodyValue is an EmailBodyValue (RFC 8621 §4.1.4).
type bodyValue struct {
	Value             string `json:"value"`
	IsEncodingProblem bool   `json:"isEncodingProblem"`
	IsTruncated       bool   `json:"isTruncated"`
}

// makeBodyValue decodes a text part, truncating it to max octets (0: no
// limit) on a character boundary.
func makeBodyValue(p *mimePart, raw []byte, max int) bodyValue {
	s, problem := p.text(raw)
	bv := bodyValue{Value: s, IsEncodingProblem: problem}
	if max > 0 && len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		bv.Value, bv.IsTruncated = s[:cut], true
	}
	return bv
}
