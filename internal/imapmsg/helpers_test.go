package imapmsg

import (
	"fmt"
	"strconv"
	"strings"
)

// crlf turns a test message written with "\n" into wire form.
func crlf(s string) []byte {
	return []byte(strings.ReplaceAll(s, "\n", "\r\n"))
}

// checkWire verifies that b is a sequence of IMAP values whose
// parentheses balance, reading quoted strings and literals as atoms.
func checkWire(b []byte) error {
	depth := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth < 0 {
				return fmt.Errorf("unbalanced ')' at %d", i)
			}
		case '"':
			i++
			for ; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
				if i < len(b) && (b[i] == '\r' || b[i] == '\n') {
					return fmt.Errorf("line break in quoted string at %d", i)
				}
			}
			if i >= len(b) {
				return fmt.Errorf("unterminated quoted string")
			}
		case '{':
			end := strings.Index(string(b[i:]), "}\r\n")
			if end < 0 {
				return fmt.Errorf("bad literal at %d", i)
			}
			n, err := strconv.Atoi(string(b[i+1 : i+end]))
			if err != nil {
				return fmt.Errorf("bad literal length at %d: %v", i, err)
			}
			i += end + 3 + n - 1
			if i >= len(b) {
				return fmt.Errorf("literal overruns the value")
			}
		case '\r', '\n':
			return fmt.Errorf("line break outside a literal at %d", i)
		}
	}
	if depth != 0 {
		return fmt.Errorf("%d unclosed '('", depth)
	}
	return nil
}
