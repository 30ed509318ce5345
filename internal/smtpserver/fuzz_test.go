package smtpserver

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// framingVerbs change how the following bytes are read (message data, SASL
// responses, TLS), so FuzzSession leaves them out to be able to count one
// reply per line.
var framingVerbs = map[string]bool{"DATA": true, "BDAT": true, "AUTH": true, "STARTTLS": true, "QUIT": true}

// FuzzSession feeds arbitrary command lines to a real session over a pipe
// and checks that the server never panics and answers every line with
// exactly one reply.
func FuzzSession(f *testing.F) {
	for _, s := range []string{
		"EHLO x\nMAIL FROM:<a@b.example> SIZE=10 BODY=8BITMIME\nRCPT TO:<alice@example.org>\nRSET",
		"HELO\nMAIL FROM:<>\nRCPT TO:<postmaster>\nNOOP x\nVRFY a\nEXPN b\nHELP",
		"EHLO x\nMAIL FROM:<\"quoted\\\"local\"@example.org> SMTPUTF8\nRCPT TO:<@route,@x:bob@example.org>",
		"EHLO x\nMAIL FROM:a@b SIZE=99999999999999999999999\nMAIL FROM:<a@b> SIZE=1 SIZE=2",
		"ehlo \x00\nmail from:<ä@ö.example>\nRCPT TO:<jösé@example.org> NOTIFY=NEVER\n\n\t\r",
		"EHLO x\nMAIL FROM:<a@b> =x\nMAIL FROM:<a@b\nRCPT TO:<>\nRCPT TO:<a@[127.0.0.1]>",
		"EHLO " + strings.Repeat("x", 3000) + "\nNOOP",
		"EHLO x\nMAIL FROM:<a@b.example> RET=HDRS ENVID=QQ+2B1\nRCPT TO:<alice@example.org> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;a+2Bb@x",
		"EHLO x\nMAIL FROM:<a@b> RET=ALL ENVID=+zz\nMAIL FROM:<a@b> ENVID=\nRCPT TO:<bob@example.org> NOTIFY=NEVER,FAILURE ORCPT=;",
		"EHLO x\nMAIL FROM:<a@b> SMTPUTF8\nRCPT TO:<bob@example.org> ORCPT=utf-8;jösé@x NOTIFY=never",
		"EHLO x\nMAIL FROM:<a@b> HOLDFOR=60\nMAIL FROM:<a@b> HOLDUNTIL=2030-01-01T00:00:00Z HOLDFOR=1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, input string) {
		be := standardBackend()
		ts := newTestServer(t, be, Options{MaxErrors: 1 << 20, IdleTimeout: 5 * time.Second})
		var lines []string
		for _, l := range strings.Split(input, "\n") {
			l = strings.TrimRight(l, "\r")
			verb, _, _ := strings.Cut(l, " ")
			if framingVerbs[strings.ToUpper(verb)] || strings.ContainsRune(l, '\r') {
				continue
			}
			lines = append(lines, l)
		}
		client, done := pipeSession(ts)
		defer client.Close()
		client.SetDeadline(time.Now().Add(10 * time.Second))
		go func() {
			var b bytes.Buffer
			for _, l := range lines {
				b.WriteString(l)
				b.WriteString("\r\n")
			}
			b.WriteString("QUIT\r\n")
			client.Write(b.Bytes())
		}()
		r := bufio.NewReader(client)
		replies := 0
		for {
			l, err := r.ReadString('\n')
			if err == io.EOF || err != nil && replies == len(lines)+2 {
				break
			}
			if err != nil {
				t.Fatalf("after %d replies: %v", replies, err)
			}
			if len(l) < 4 || l[3] == ' ' {
				replies++
			}
			if strings.HasPrefix(l, "421") {
				t.Fatalf("421 after %d replies: %q\n%s", replies, l, ts.log)
			}
		}
		<-done
		// The greeting, one reply per line, and the 221 to QUIT.
		if replies != len(lines)+2 {
			t.Fatalf("%d replies to %d lines", replies, len(lines))
		}
		if p := ts.log.events("panic in SMTP session"); len(p) > 0 {
			t.Fatalf("panic: %v", p)
		}
	})
}

// FuzzParsePathArg checks the MAIL/RCPT argument parser on its own.
func FuzzParsePathArg(f *testing.F) {
	for _, s := range []string{"FROM:<a@b>", "TO:<\"x y\"@z> A=B C", "FROM:<>", "to: <@a,@b:c@d>", "FROM:<\"\\", "TO:x@y Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		for _, kw := range []string{"FROM:", "TO:"} {
			path, params, err := parsePathArg(arg, kw)
			if err != nil {
				continue
			}
			if !utf8.ValidString(path) {
				t.Errorf("invalid UTF-8 path %q", path)
			}
			for _, p := range params {
				if p.key == "" || strings.ContainsAny(p.key+p.value, " \t") {
					t.Errorf("bad param %+v", p)
				}
			}
		}
	})
}

// FuzzDSNParams checks the DSN parameter parsers (RFC 3461 §4): they
// never panic, and what they accept is in its stored form.
func FuzzDSNParams(f *testing.F) {
	for _, s := range []string{"FULL", "hdrs", "QQ314159+2B", "a+zz", "NEVER", "SUCCESS,FAILURE,DELAY", "never,success",
		"rfc822;a+2Bb@example.org", "utf-8;j\\x{F6}@x", "utf-8;jö@x", "x;", ";", strings.Repeat("+41", 40)} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, v string, smtputf8 bool) {
		if r, err := parseRet(v); err == nil && r != "FULL" && r != "HDRS" {
			t.Errorf("RET=%q gave %q", v, r)
		}
		if id, err := parseEnvID(v); err == nil {
			if id == "" || len(id) > maxEnvID || !isASCII(id) || strings.ContainsAny(id, "\r\n") {
				t.Errorf("ENVID=%q gave %q", v, id)
			}
		}
		if n, err := parseNotify(v); err == nil {
			if again, err := parseNotify(n); err != nil || again != n || (strings.Contains(n, "NEVER") && n != "NEVER") {
				t.Errorf("NOTIFY=%q gave %q, not a fixed point (%q, %v)", v, n, again, err)
			}
		}
		if o, err := parseORcpt(v, smtputf8); err == nil {
			typ, addr, ok := strings.Cut(o, ";")
			if o != v || !ok || !isAtom(typ) || len(o) > maxORcpt || strings.ContainsAny(o, " \r\n") || strings.Contains(addr, "=") {
				t.Errorf("ORCPT=%q gave %q", v, o)
			}
			if !smtputf8 && !isASCII(o) {
				t.Errorf("ORCPT=%q accepted 8-bit without SMTPUTF8", v)
			}
		}
	})
}

// FuzzHoldParams checks the FUTURERELEASE parameters (RFC 4865 §3): they
// never panic, and an accepted release is within the maximum hold.
func FuzzHoldParams(f *testing.F) {
	for _, s := range []string{"0", "3600", "999999999", "1234567890", "-1", "2030-03-01T12:00:00Z",
		"2030-03-01t12:00:00.123456789+01:00", "2030-02-30T00:00:00Z", "2030-03-01T24:00:00Z", "9999-12-31T23:59:59-23:59"} {
		f.Add(s)
	}
	now := time.Date(2030, 3, 1, 12, 0, 0, 0, time.UTC)
	const max = 30 * 24 * time.Hour
	f.Fuzz(func(t *testing.T, v string) {
		for _, key := range []string{"HOLDFOR", "HOLDUNTIL"} {
			at, err := holdTime(now, max, param{key: key, value: v, set: true}, false)
			if err != nil {
				if r := holdReply(err); r.code != 501 && r.code != 554 {
					t.Errorf("%s=%q: reply %d", key, v, r.code)
				}
				continue
			}
			if !at.IsZero() && (!at.After(now) || at.Sub(now) > max) {
				t.Errorf("%s=%q released at %v", key, v, at)
			}
		}
	})
}

// FuzzDataTransparency sends arbitrary message bytes (with line ends made
// CRLF and dot-stuffed, as a client must) and checks that exactly those
// bytes are stored after the trace fields (RFC 5321 §4.5.2).
func FuzzDataTransparency(f *testing.F) {
	for _, s := range []string{"", ".", "..\r\n.\r\n", "a\nb\rc", ".x\r\n\r\n.\r\n..", strings.Repeat("line\r\n", 100)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		msg := normalizeCRLF(body)
		be := standardBackend()
		ts := newTestServer(t, be, Options{IdleTimeout: 5 * time.Second})
		client, done := pipeSession(ts)
		defer client.Close()
		client.SetDeadline(time.Now().Add(10 * time.Second))
		go func() {
			var b bytes.Buffer
			b.WriteString("HELO x\r\nMAIL FROM:<a@remote.example>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n")
			b.Write(dotStuff(msg))
			b.WriteString(".\r\nQUIT\r\n")
			client.Write(b.Bytes())
		}()
		var replies []string
		r := bufio.NewReader(client)
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				break
			}
			replies = append(replies, strings.TrimSpace(l))
		}
		<-done
		if len(replies) != 7 || !strings.HasPrefix(replies[5], "250 2.0.0") {
			t.Fatalf("replies %q", replies)
		}
		dels, _ := be.snapshot()
		stored := be.blob(dels[0].Message.BlobID)
		if rest := stripTrace(stored); rest != string(msg) {
			t.Fatalf("stored body %q, want %q", rest, msg)
		}
	})
}

// stripTrace removes the Return-Path and Received fields the server
// prepends: the first line, then the Received line and its continuations.
func stripTrace(s string) string {
	_, s, _ = strings.Cut(s, "\r\n")
	_, s, _ = strings.Cut(s, "\r\n")
	for strings.HasPrefix(s, "\t") {
		_, s, _ = strings.Cut(s, "\r\n")
	}
	return s
}

// normalizeCRLF turns every CR, LF and CRLF into CRLF and ends the text
// with CRLF, giving a valid message body.
func normalizeCRLF(b []byte) []byte {
	var out []byte
	for i := 0; i < len(b); i++ {
		switch {
		case b[i] == '\r' && i+1 < len(b) && b[i+1] == '\n':
			out = append(out, '\r', '\n')
			i++
		case b[i] == '\r' || b[i] == '\n':
			out = append(out, '\r', '\n')
		default:
			out = append(out, b[i])
		}
	}
	if len(out) > 0 && !bytes.HasSuffix(out, []byte("\r\n")) {
		out = append(out, '\r', '\n')
	}
	return out
}

// dotStuff doubles a leading dot on every line (RFC 5321 §4.5.2).
func dotStuff(b []byte) []byte {
	var out []byte
	start := true
	for _, c := range b {
		if start && c == '.' {
			out = append(out, '.')
		}
		out = append(out, c)
		start = c == '\n'
	}
	return out
}
