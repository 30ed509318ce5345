package htmlsafe

import (
	"strings"
	"testing"
	"time"
)

// TestLargeInputsAreFast guards against inputs that make sanitising slow.
func TestLargeInputsAreFast(t *testing.T) {
	for name, in := range map[string]string{
		"long css":        "<style>" + strings.Repeat("a{color:red;background:url(cid:x)} ", 20000) + "</style>",
		"unclosed string": "<style>a{content:\"" + strings.Repeat("x", 200000) + "</style>",
		"many escapes":    "<style>" + strings.Repeat("\\75 ", 50000) + "</style>",
		"deep nesting":    strings.Repeat("<div>", 20000) + "x",
		"many attrs":      "<p " + strings.Repeat("style=\"color:red\" ", 10000) + ">x",
		"unclosed urls":   "<style>" + strings.Repeat("url(a ", 40000) + "</style>",
		"unclosed fn":     "<style>" + strings.Repeat("f(", 100000) + "</style>",
		"quotes":          "<style>" + strings.Repeat("'a\\\n", 40000) + "</style>",
		"long text":       strings.Repeat("hello world ", 200000),
	} {
		start := time.Now()
		Sanitize(in, Options{})
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%s: %v", name, d)
		}
	}
}
