package imapmsg

import (
	"testing"
)

// TestEnvelopeRFCExample rebuilds the header behind the ENVELOPE of the
// FETCH example in RFC 3501 §7.4.2 and expects that exact value.
func TestEnvelopeRFCExample(t *testing.T) {
	raw := crlf(`Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)
From: Terry Gray <gray@cac.washington.edu>
Subject: IMAP4rev1 WG mtg summary and minutes
To: imap@cac.washington.edu
Cc: minutes@CNRI.Reston.VA.US,
 John Klensin <KLENSIN@MIT.EDU>
Message-Id: <B27397-0100000@cac.washington.edu>
MIME-Version: 1.0
Content-Type: TEXT/PLAIN; CHARSET=US-ASCII

body
`)
	want := `("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev1 WG mtg summary and minutes" ` +
		`(("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) ` +
		`(("Terry Gray" NIL "gray" "cac.washington.edu")) ((NIL NIL "imap" "cac.washington.edu")) ` +
		`((NIL NIL "minutes" "CNRI.Reston.VA.US")("John Klensin" NIL "KLENSIN" "MIT.EDU")) NIL NIL ` +
		`"<B27397-0100000@cac.washington.edu>")`
	if got := string(Envelope(raw, Options{})); got != want {
		t.Errorf("Envelope:\n got %s\nwant %s", got, want)
	}
}

func TestEnvelopeCases(t *testing.T) {
	tests := []struct {
		name   string
		header string
		opts   Options
		want   string
	}{
		{
			name:   "empty header",
			header: "\n",
			want:   `(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)`,
		},
		{
			name: "sender and reply-to present, groups, bcc",
			header: `From: a@example.com
Sender: "Secretary, The" <sec@example.com>
Reply-To: list@example.org
To: undisclosed-recipients:;
Cc: Friends: b@x.org, "C \"q\" D" <c@y.org>;, e@z.net
Bcc: f@example.com
In-Reply-To: <p@x>
Message-ID: <id@x>
`,
			want: `(NIL NIL ((NIL NIL "a" "example.com")) (("Secretary, The" NIL "sec" "example.com")) ` +
				`((NIL NIL "list" "example.org")) ((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)) ` +
				`((NIL NIL "Friends" NIL)(NIL NIL "b" "x.org")("C \"q\" D" NIL "c" "y.org")(NIL NIL NIL NIL)(NIL NIL "e" "z.net")) ` +
				`((NIL NIL "f" "example.com")) "<p@x>" "<id@x>")`,
		},
		{
			name: "encoded words stay encoded, comment names, route, no domain",
			header: `Subject: =?UTF-8?Q?Caf=C3=A9?=
From: =?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>
To: jdoe@example.com (John Doe), <@relay.example,@r2.example:bob@example.com>, nobody
Reply-To:
`,
			want: `(NIL "=?UTF-8?Q?Caf=C3=A9?=" (("=?ISO-8859-1?Q?Andr=E9?= Pirard" NIL "PIRARD" "vm1.ulg.ac.be")) ` +
				`(("=?ISO-8859-1?Q?Andr=E9?= Pirard" NIL "PIRARD" "vm1.ulg.ac.be")) ` +
				`(("=?ISO-8859-1?Q?Andr=E9?= Pirard" NIL "PIRARD" "vm1.ulg.ac.be")) ` +
				`(("John Doe" NIL "jdoe" "example.com")(NIL "@relay.example,@r2.example" "bob" "example.com")(NIL NIL "nobody" "")) ` +
				`NIL NIL NIL NIL)`,
		},
		{
			name:   "8-bit subject is a literal for a client without UTF-8",
			header: "Subject: Caf\u00e9\nFrom: \"J\u00f6rg\" <j@x.de>\n",
			want: "(NIL {5}\r\nCaf\u00e9 (({5}\r\nJ\u00f6rg NIL \"j\" \"x.de\")) (({5}\r\nJ\u00f6rg NIL \"j\" \"x.de\")) " +
				"(({5}\r\nJ\u00f6rg NIL \"j\" \"x.de\")) NIL NIL NIL NIL NIL)",
		},
		{
			name:   "8-bit subject is quoted for a UTF-8 client",
			header: "Subject: Caf\u00e9\n",
			opts:   Options{UTF8: true},
			want:   "(NIL \"Caf\u00e9\" NIL NIL NIL NIL NIL NIL NIL NIL)",
		},
		{
			name:   "folded subject is unfolded, quoted local part kept quoted",
			header: "Subject: a long\n  subject\nFrom: \"john smith\"@example.com\n",
			want: `(NIL "a long  subject" ((NIL NIL "\"john smith\"" "example.com")) ((NIL NIL "\"john smith\"" "example.com")) ` +
				`((NIL NIL "\"john smith\"" "example.com")) NIL NIL NIL NIL NIL)`,
		},
		{
			name:   "first of repeated fields wins",
			header: "Subject: one\nSubject: two\n",
			want:   `(NIL "one" NIL NIL NIL NIL NIL NIL NIL NIL)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Envelope(crlf(tt.header+"\nbody\n"), tt.opts)
			if string(got) != tt.want {
				t.Errorf("\n got %q\nwant %q", got, tt.want)
			}
			if err := checkWire(got); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestAppendString(t *testing.T) {
	tests := []struct {
		in   string
		utf8 bool
		want string
	}{
		{"", false, `""`},
		{`a "b" \c`, false, `"a \"b\" \\c"`},
		{"two\r\nlines", false, "{10}\r\ntwo\r\nlines"},
		{"caf\u00e9", false, "{5}\r\ncaf\u00e9"},
		{"caf\u00e9", true, "\"caf\u00e9\""},
		{"bad\xff", true, "{4}\r\nbad\xff"},
		{"nul\x00led", false, `"nulled"`},
	}
	for _, tt := range tests {
		if got := string(appendString(nil, tt.in, tt.utf8)); got != tt.want {
			t.Errorf("appendString(%q, %v) = %q, want %q", tt.in, tt.utf8, got, tt.want)
		}
	}
	if got := string(appendNString([]byte("x "), "", false)); got != "x NIL" {
		t.Errorf("appendNString empty = %q", got)
	}
}
