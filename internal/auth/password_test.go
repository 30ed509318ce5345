package auth

import (
	"errors"
	"testing"
)

var fastParams = Params{Memory: 64, Time: 1, Threads: 1}

func TestHashVerify(t *testing.T) {
	h, err := Hash("correct horse", fastParams)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := Verify(h, "correct horse"); !ok || err != nil {
		t.Errorf("Verify(right) = %v, %v", ok, err)
	}
	if ok, err := Verify(h, "correct horsE"); ok || err != nil {
		t.Errorf("Verify(wrong) = %v, %v", ok, err)
	}
	h2, _ := Hash("correct horse", fastParams)
	if h == h2 {
		t.Error("two hashes of one password are equal: salt not random")
	}
}

func TestVerifyBadHash(t *testing.T) {
	for _, h := range []string{"", "plain", "$argon2id$v=19$m=0,t=1,p=1$AAAA$AAAA", "$argon2i$v=19$m=64,t=1,p=1$AAAA$AAAA", "$argon2id$v=19$m=64,t=1,p=1$!!$AAAA"} {
		if _, err := Verify(h, "x"); !errors.Is(err, ErrBadHash) {
			t.Errorf("Verify(%q) err = %v", h, err)
		}
	}
}
