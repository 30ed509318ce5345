package imapsearch

import (
	"errors"
	"freehold/internal/message"
	"strings"
	"testing"
	"time"

	"freehold/internal/store"
)

var zone = time.FixedZone("CEST", 2*3600)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

const testMessage = "From: =?UTF-8?Q?J=C3=B6rg?= Schmidt <jorg@example.de>\r\n" +
	"To: Team <team@example.com>, bob@example.org\r\n" +
	"Cc: carol@example.net\r\n" +
	"Bcc: secret@example.com\r\n" +
	"Subject: =?ISO-8859-1?Q?R=E9union?= planning\r\n" +
	"Date: Tue, 1 Jul 2025 23:30:00 -0700\r\n" +
	"X-Mailer: Freehold Test\r\n" +
	"X-Empty:\r\n" +
	"Content-Type: multipart/mixed; boundary=b\r\n" +
	"\r\n" +
	"--b\r\n" +
	"Content-Type: text/plain; charset=iso-8859-1\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"Le caf=E9 est pr=EAt.\r\n" +
	"--b\r\n" +
	"Content-Type: message/rfc822\r\n" +
	"\r\n" +
	"Subject: attached minutes\r\n" +
	"\r\n" +
	"Inner body with ZEBRA.\r\n" +
	"--b\r\n" +
	"Content-Type: application/octet-stream\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"aGlkZGVuIGluIGF0dGFjaG1lbnQ=\r\n" +
	"--b--\r\n"

// candidate returns the test message as candidate 3 (UID 30) and counts
// how often its bytes are loaded.
func candidate(loads *int) Candidate {
	env := message.HeaderEnvelope([]byte(testMessage))
	return Candidate{
		Seq: 3, UID: 30,
		Keywords:     []string{"$flagged", "$seen", "project"},
		Size:         int64(len(testMessage)),
		InternalDate: time.Date(2025, 7, 2, 1, 30, 0, 0, time.UTC), // 03:30 on July 2 in CEST
		ModSeq:       42,
		Envelope:     &env,
		Raw: func() ([]byte, error) {
			*loads++
			return []byte(testMessage), nil
		},
	}
}

func k(kind KeyKind) Key { return Key{Kind: kind} }

func TestMatchKeys(t *testing.T) {
	set := func(s string) NumSet {
		n, err := ParseNumSet(s)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	size := int64(len(testMessage))
	tests := []struct {
		name string
		key  Key
		want bool
		raw  bool // whether the key may load the message
	}{
		{"ALL", k(KeyAll), true, false},
		{"SEEN", k(KeySeen), true, false},
		{"UNSEEN", k(KeyUnseen), false, false},
		{"FLAGGED", k(KeyFlagged), true, false},
		{"UNFLAGGED", k(KeyUnflagged), false, false},
		{"ANSWERED", k(KeyAnswered), false, false},
		{"UNANSWERED", k(KeyUnanswered), true, false},
		{"DELETED", k(KeyDeleted), false, false},
		{"UNDELETED", k(KeyUndeleted), true, false},
		{"DRAFT", k(KeyDraft), false, false},
		{"UNDRAFT", k(KeyUndraft), true, false},
		{"KEYWORD Project", Key{Kind: KeyKeyword, Value: "Project"}, true, false},
		{`KEYWORD \Seen`, Key{Kind: KeyKeyword, Value: `\Seen`}, true, false},
		{"KEYWORD other", Key{Kind: KeyKeyword, Value: "other"}, false, false},
		{"UNKEYWORD other", Key{Kind: KeyUnkeyword, Value: "other"}, true, false},
		{"RECENT", k(KeyRecent), false, false},
		{"NEW", k(KeyNew), false, false},
		{"OLD", k(KeyOld), true, false},
		{"seq 2:4", Key{Kind: KeySeqSet, Set: set("2:4")}, true, false},
		{"seq 4:* names the last message", Key{Kind: KeySeqSet, Set: set("4:*")}, true, false},
		{"seq 4:5", Key{Kind: KeySeqSet, Set: set("4:5")}, false, false},
		{"seq * (max 3)", Key{Kind: KeySeqSet, Set: set("*")}, true, false},
		{"UID 1:29,31", Key{Kind: KeyUID, Set: set("1:29,31")}, false, false},
		{"UID 30", Key{Kind: KeyUID, Set: set("30")}, true, false},
		{"UID $ (saved 30)", Key{Kind: KeyUID, Set: NumSet{SearchRes: true}}, true, false},
		{"$ (saved 30)", Key{Kind: KeySeqSet, Set: NumSet{SearchRes: true}}, true, false},
		{"LARGER size-1", Key{Kind: KeyLarger, Num: size - 1}, true, false},
		{"LARGER size", Key{Kind: KeyLarger, Num: size}, false, false},
		{"SMALLER size+1", Key{Kind: KeySmaller, Num: size + 1}, true, false},
		{"SMALLER size", Key{Kind: KeySmaller, Num: size}, false, false},
		{"MODSEQ 42", Key{Kind: KeyModSeq, Num: 42}, true, false},
		{"MODSEQ 43", Key{Kind: KeyModSeq, Num: 43}, false, false},
		// Internal date 2025-07-02 01:30 UTC is July 2 in CEST.
		{"ON 2-Jul-2025", Key{Kind: KeyOn, Date: date(2025, 7, 2)}, true, false},
		{"ON 1-Jul-2025", Key{Kind: KeyOn, Date: date(2025, 7, 1)}, false, false},
		{"BEFORE 2-Jul-2025", Key{Kind: KeyBefore, Date: date(2025, 7, 2)}, false, false},
		{"BEFORE 3-Jul-2025", Key{Kind: KeyBefore, Date: date(2025, 7, 3)}, true, false},
		{"SINCE 2-Jul-2025", Key{Kind: KeySince, Date: date(2025, 7, 2)}, true, false},
		{"SINCE 3-Jul-2025", Key{Kind: KeySince, Date: date(2025, 7, 3)}, false, false},
		// Date: header is July 1 in its own zone (July 2 in UTC).
		{"SENTON 1-Jul-2025", Key{Kind: KeySentOn, Date: date(2025, 7, 1)}, true, false},
		{"SENTON 2-Jul-2025", Key{Kind: KeySentOn, Date: date(2025, 7, 2)}, false, false},
		{"SENTBEFORE 1-Jul-2025", Key{Kind: KeySentBefore, Date: date(2025, 7, 1)}, false, false},
		{"SENTBEFORE 2-Jul-2025", Key{Kind: KeySentBefore, Date: date(2025, 7, 2)}, true, false},
		{"SENTSINCE 1-Jul-2025", Key{Kind: KeySentSince, Date: date(2025, 7, 1)}, true, false},
		{"SENTSINCE 2-Jul-2025", Key{Kind: KeySentSince, Date: date(2025, 7, 2)}, false, false},
		{"OLDER 1 day", Key{Kind: KeyOlder, Num: 86400}, true, false},
		{"YOUNGER 1 day", Key{Kind: KeyYounger, Num: 86400}, false, false},
		{"FROM jörg (decoded name)", Key{Kind: KeyFrom, Value: "JÖRG"}, true, false},
		{"FROM address part", Key{Kind: KeyFrom, Value: "@EXAMPLE.de"}, true, false},
		{"FROM name and address", Key{Kind: KeyFrom, Value: "schmidt <jorg@"}, true, false},
		{"FROM other", Key{Kind: KeyFrom, Value: "bob"}, false, false},
		{"TO bob", Key{Kind: KeyTo, Value: "bob"}, true, false},
		{"TO team name", Key{Kind: KeyTo, Value: "team"}, true, false},
		{"CC carol", Key{Kind: KeyCc, Value: "carol"}, true, false},
		{"CC bob", Key{Kind: KeyCc, Value: "bob"}, false, false},
		{"BCC secret", Key{Kind: KeyBcc, Value: "SECRET"}, true, false},
		{"SUBJECT réunion (decoded, folded)", Key{Kind: KeySubject, Value: "RÉUNION"}, true, false},
		{"SUBJECT decomposed é", Key{Kind: KeySubject, Value: "re\u0301union"}, true, false},
		{"SUBJECT other", Key{Kind: KeySubject, Value: "minutes"}, false, false},
		{"HEADER X-Mailer", Key{Kind: KeyHeader, Field: "x-mailer", Value: "freehold"}, true, true},
		{"HEADER X-Mailer other", Key{Kind: KeyHeader, Field: "X-Mailer", Value: "mutt"}, false, true},
		{"HEADER X-Empty empty", Key{Kind: KeyHeader, Field: "X-Empty", Value: ""}, true, true},
		{"HEADER absent empty", Key{Kind: KeyHeader, Field: "X-Absent", Value: ""}, false, true},
		{"HEADER Subject decoded", Key{Kind: KeyHeader, Field: "Subject", Value: "réunion"}, true, true},
		{"BODY charset-decoded", Key{Kind: KeyBody, Value: "CAFÉ EST PRÊT"}, true, true},
		{"BODY attached message", Key{Kind: KeyBody, Value: "zebra"}, true, true},
		{"BODY attached message header", Key{Kind: KeyBody, Value: "attached minutes"}, true, true},
		{"BODY not the binary attachment", Key{Kind: KeyBody, Value: "hidden"}, false, true},
		{"BODY not the header", Key{Kind: KeyBody, Value: "X-Mailer"}, false, true},
		{"TEXT header", Key{Kind: KeyText, Value: "x-mailer: freehold"}, true, true},
		{"TEXT body", Key{Kind: KeyText, Value: "café"}, true, true},
		{"TEXT absent", Key{Kind: KeyText, Value: "nowhere"}, false, true},
		{"NOT SEEN", Key{Kind: KeyNot, Sub: []Key{k(KeySeen)}}, false, false},
		{"OR DRAFT SEEN", Key{Kind: KeyOr, Sub: []Key{k(KeyDraft), k(KeySeen)}}, true, false},
		{"OR DRAFT DELETED", Key{Kind: KeyOr, Sub: []Key{k(KeyDraft), k(KeyDeleted)}}, false, false},
		{"(SEEN FLAGGED)", Key{Kind: KeyAnd, Sub: []Key{k(KeySeen), k(KeyFlagged)}}, true, false},
		{"(SEEN DRAFT)", Key{Kind: KeyAnd, Sub: []Key{k(KeySeen), k(KeyDraft)}}, false, false},
	}
	opts := MatchOptions{
		MaxSeq: 3, MaxUID: 40, SearchRes: []store.UID{50, 30, 10},
		Location: zone, Now: time.Date(2025, 7, 10, 0, 0, 0, 0, time.UTC),
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loads := 0
			c := candidate(&loads)
			m, err := NewMatcher(Criteria{Keys: []Key{tt.key}}, opts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Match(&c)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
			if !tt.raw && loads > 0 {
				t.Errorf("loaded the message %d times for a key that does not need it", loads)
			}
			if loads > 1 {
				t.Errorf("loaded the message %d times", loads)
			}
			if m.Needs().Raw != tt.raw {
				t.Errorf("Needs().Raw = %v", m.Needs().Raw)
			}
		})
	}
}

func TestMatchCheapKeysFirst(t *testing.T) {
	loads := 0
	c := candidate(&loads)
	// BODY comes first on the wire, but DRAFT decides without loading.
	crit := Criteria{Keys: []Key{{Kind: KeyBody, Value: "café"}, k(KeyDraft)}}
	m, err := NewMatcher(crit, MatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := m.Match(&c); ok || err != nil || loads != 0 {
		t.Errorf("Match = %v, %v with %d loads; want false without loading", ok, err, loads)
	}
	// Several raw keys share one load.
	crit = Criteria{Keys: []Key{{Kind: KeyBody, Value: "café"}, {Kind: KeyText, Value: "zebra"}, {Kind: KeyHeader, Field: "To", Value: "bob"}}}
	m, _ = NewMatcher(crit, MatchOptions{})
	if ok, err := m.Match(&c); !ok || err != nil || loads != 1 {
		t.Errorf("Match = %v, %v with %d loads; want true with one load", ok, err, loads)
	}
}

func TestMatchEnvelopeFromRaw(t *testing.T) {
	loads := 0
	c := candidate(&loads)
	c.Envelope = nil
	ok, err := Match(Criteria{Keys: []Key{{Kind: KeyFrom, Value: "jörg"}, {Kind: KeySubject, Value: "planning"}}}, c)
	if !ok || err != nil || loads != 1 {
		t.Errorf("Match = %v, %v with %d loads", ok, err, loads)
	}
}

func TestMatchErrors(t *testing.T) {
	loads := 0
	c := candidate(&loads)
	c.Raw = nil
	if _, err := Match(Criteria{Keys: []Key{{Kind: KeyBody, Value: "x"}}}, c); !errors.Is(err, ErrNoRaw) {
		t.Errorf("no loader: err = %v", err)
	}
	boom := errors.New("blob gone")
	c.Raw = func() ([]byte, error) { return nil, boom }
	if _, err := Match(Criteria{Keys: []Key{{Kind: KeyNot, Sub: []Key{{Kind: KeyText, Value: "x"}}}}}, c); !errors.Is(err, boom) {
		t.Errorf("loader error through NOT: err = %v", err)
	}
	for _, bad := range []Criteria{
		{Keys: []Key{{Kind: KeyNot}}},
		{Keys: []Key{{Kind: KeyOr, Sub: []Key{k(KeySeen)}}}},
		{Keys: []Key{{Kind: KeyHeader, Value: "x"}}},
		{Keys: []Key{{Kind: KeyKind(999)}}},
	} {
		if _, err := NewMatcher(bad, MatchOptions{}); !errors.Is(err, ErrBadCriteria) {
			t.Errorf("NewMatcher(%+v) err = %v, want ErrBadCriteria", bad, err)
		}
	}
	deep := k(KeySeen)
	for i := 0; i < 200; i++ {
		deep = Key{Kind: KeyNot, Sub: []Key{deep}}
	}
	if _, err := NewMatcher(Criteria{Keys: []Key{deep}}, MatchOptions{}); !errors.Is(err, ErrBadCriteria) {
		t.Errorf("deep nesting: err = %v", err)
	}
}

func TestEmptyCriteriaMatchesAll(t *testing.T) {
	loads := 0
	if ok, err := Match(Criteria{}, candidate(&loads)); !ok || err != nil {
		t.Errorf("empty criteria: %v, %v", ok, err)
	}
}

func TestLookupKey(t *testing.T) {
	for name, want := range map[string]struct {
		kind  KeyKind
		shape ArgShape
	}{
		"all": {KeyAll, ArgNone}, "Header": {KeyHeader, ArgHeader}, "OR": {KeyOr, ArgTwoKeys},
		"uid": {KeyUID, ArgSet}, "sentbefore": {KeySentBefore, ArgDate}, "MODSEQ": {KeyModSeq, ArgModSeq},
		"keyword": {KeyKeyword, ArgKeyword}, "not": {KeyNot, ArgSearchKey}, "larger": {KeyLarger, ArgNumber},
	} {
		kind, shape, ok := LookupKey(name)
		if !ok || kind != want.kind || shape != want.shape {
			t.Errorf("LookupKey(%q) = %v, %v, %v", name, kind, shape, ok)
		}
	}
	if _, _, ok := LookupKey("FUZZY"); ok {
		t.Error("unknown key found")
	}
}

func TestContainsFold(t *testing.T) {
	for _, tt := range []struct {
		hay, needle string
		want        bool
	}{
		{"Hello World", "o w", true},
		{"Hello", "hello!", false},
		{"STRASSE", "strasse", true},
		{"Größe", "GRÖSSE", false}, // simple folding only: ß is not "ss"
		{"Größe", "GRÖ", true},
		{"ﬁle", "file", true}, // NFKD expands the ligature
		{"K", "k", true},      // Kelvin sign
		{"", "", true},
		{"abc", "", true},
	} {
		if got := containsFold(tt.hay, foldString(tt.needle)); got != tt.want {
			t.Errorf("containsFold(%q, %q) = %v", tt.hay, tt.needle, got)
		}
	}
	if s := strings.Repeat("a", 3); lowerASCII(s) != s {
		t.Error("lowerASCII changed a lower-case string")
	}
}
