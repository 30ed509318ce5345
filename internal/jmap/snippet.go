package jmap

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"strings"
	"unicode/utf8"

	"freehold/internal/blob"
	"freehold/internal/store"
)

type snippetArgs struct {
	AccountID string          `json:"accountId"`
	Filter    json.RawMessage `json:"filter"`
	EmailIDs  []string        `json:"emailIds"`
}

// searchSnippetGet implements SearchSnippet/get (RFC 8621 §5): the
// subject and a piece of the body with the filter's search terms marked.
func searchSnippetGet(ctx context.Context, c *call) (any, error) {
	var a snippetArgs
	if err := c.decode(&a); err != nil {
		return nil, err
	}
	if err := c.checkAccount(a.AccountID); err != nil {
		return nil, err
	}
	if len(a.EmailIDs) > c.s.limits.MaxObjectsInGet {
		return nil, methodErr(errRequestTooLarge, "too many emailIds")
	}
	var terms []string
	if len(a.Filter) > 0 && !isNull(a.Filter) {
		var f emailFilter
		if err := json.Unmarshal(a.Filter, &f); err != nil {
			var me *MethodError
			if errors.As(err, &me) {
				return nil, me
			}
			return nil, invalidArgs("filter: %v", err)
		}
		terms = searchTerms(&f, 0)
	}
	var ids []store.MessageID
	for _, raw := range a.EmailIDs {
		id, _ := c.resolveID(raw)
		if n, ok := parseEmailID(id); ok {
			ids = append(ids, n)
		}
	}
	msgs, err := c.s.st.Messages(ctx, c.acct().ID, ids)
	if err != nil {
		return nil, err
	}
	byID := map[string]*store.Message{}
	for i := range msgs {
		byID[emailIDString(msgs[i].ID)] = &msgs[i]
	}
	list := []any{}
	notFound := []string{}
	for _, raw := range a.EmailIDs {
		id, _ := c.resolveID(raw)
		m := byID[id]
		if m == nil {
			notFound = append(notFound, raw)
			continue
		}
		sn := map[string]any{"emailId": raw, "subject": nil, "preview": nil}
		if len(terms) > 0 {
			if s, ok := markTerms(m.Envelope.Subject, terms, -1); ok {
				sn["subject"] = s
			}
			if data, err := blob.ReadAll(ctx, c.s.blobs, m.BlobID); err == nil {
				lm := &loadedMsg{m: m, raw: data, root: parseMIME(data)}
				ev := &evaluator{ctx: ctx, c: c}
				if p, ok := markTerms(ev.bodyText(lm), terms, 200); ok {
					sn["preview"] = p
				}
			}
		}
		list = append(list, sn)
	}
	return map[string]any{"accountId": a.AccountID, "list": list, "notFound": notFound}, nil
}

// searchTerms collects the text searched for by a filter's positive
// conditions.
func searchTerms(f *emailFilter, depth int) []string {
	if depth > 16 {
		return nil
	}
	var out []string
	if f.Operator == "NOT" {
		return nil
	}
	for i := range f.Conditions {
		out = append(out, searchTerms(&f.Conditions[i], depth+1)...)
	}
	for _, p := range []*string{f.Text, f.Subject, f.Body} {
		if p != nil && strings.TrimSpace(*p) != "" {
			out = append(out, strings.TrimSpace(*p))
		}
	}
	return out
}

// markTerms HTML-escapes s with the first term found marked; with
// window >= 0 it cuts s to about window characters around the match.
// Matching is on lower-cased text (s is lower-case for bodies).
func markTerms(s string, terms []string, window int) (string, bool) {
	lower := strings.ToLower(s)
	at, term := -1, ""
	for _, t := range terms {
		if i := strings.Index(lower, strings.ToLower(t)); i >= 0 && (at < 0 || i < at) {
			at, term = i, t
		}
	}
	if at < 0 || len(lower) != len(s) {
		if at < 0 {
			return "", false
		}
		s = lower // lengths differ under case folding: show the folded text
	}
	end := at + len(term)
	start, stop := 0, len(s)
	if window >= 0 {
		start = max(at-window/2, 0)
		for start > 0 && !utf8.RuneStart(s[start]) {
			start--
		}
		stop = min(end+window/2, len(s))
		for stop < len(s) && !utf8.RuneStart(s[stop]) {
			stop++
		}
	}
	collapse := func(x string) string {
		if window < 0 {
			return html.EscapeString(x)
		}
		return html.EscapeString(strings.Join(strings.Fields(x), " "))
	}
	return collapse(s[start:at]) + "<mark>" + collapse(s[at:end]) + "</mark>" + collapse(s[end:stop]), true
}
