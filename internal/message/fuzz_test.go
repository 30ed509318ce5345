package message

import (
	"testing"
)

// FuzzSummarize feeds arbitrary bytes: Summarize must not panic and must
// return valid UTF-8 without line breaks, and a preview within PreviewLen.
func FuzzSummarize(f *testing.F) {
	seeds := []string{
		"",
		"Subject: hi\r\n\r\nbody\r\n",
		"From: =?utf-8?b?w6k=?= <a@b>\r\nTo: x:;\r\n\r\n",
		"Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\n\r\ntext\r\n--a--\r\n",
		"Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n<b>x</b>\r\n--b--\r\n--a--",
		"Content-Type: text/plain; charset=shift_jis\r\nContent-Transfer-Encoding: base64\r\n\r\ng6CDQoNF\r\n",
		"Date: Mon, 32 Foo 99999 99:99:99 +9999\r\nReferences: <a> <b\r\n\r\n",
		"Content-Type: multipart/digest; boundary=\"\"\r\n\r\n--\r\n",
		"Content-Type: text/plain; charset=\"utf-16\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=FF=FEa=00=\r\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		env, preview, _ := Summarize(raw)
		checkValid(t, env, preview)
	})
}
