package imapmsg

import (
	"fmt"
	"strings"
	"testing"
)

func TestSmoke(t *testing.T) {
	msg := strings.ReplaceAll(`From: "Doe, John" <john@example.com>, jane@example.org (Jane R)
To: undisclosed-recipients:;
Cc: Team: a@x.org, B <b@y.org>;, c@z
Subject: =?utf-8?q?Caf=C3=A9?= test
Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)
Message-ID: <B27397-0100000@cac.washington.edu>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="XX"

preamble
--XX
Content-Type: text/plain; charset=utf-8

Hello
world
--XX
Content-Type: message/rfc822

From: a@b
Subject: inner

inner body
--XX--
epilogue
`, "\n", "\r\n")
	fmt.Println(string(Envelope([]byte(msg), Options{})))
	fmt.Println(string(BodyStructure([]byte(msg), Options{})))
	fmt.Println(string(Body([]byte(msg), Options{})))
	for _, s := range []Section{{Part: []int{1}}, {Part: []int{2}}, {Part: []int{2, 1}}, {Part: []int{2}, Specifier: SpecHeader}, {Part: []int{2}, Specifier: SpecMIME}, {Specifier: SpecHeaderFields, Fields: []string{"subject", "to"}}} {
		b, err := Extract([]byte(msg), s)
		fmt.Printf("%s: %q %v\n", s, b, err)
	}
	fmt.Printf("%+v\n", ParseEnvelope([]byte(msg)))
}
