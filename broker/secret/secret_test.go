package secret

import (
	"strings"
	"testing"
)

func TestClientSecret(t *testing.T) {
	s, err := NewClientSecret()
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 43 {
		t.Fatalf("got secret of length %d, want 43 (256 bits)", len(s))
	}
	other, _ := NewClientSecret()
	if s == other {
		t.Fatalf("two generated secrets are equal")
	}
	h := HashClientSecret(s)
	if strings.Contains(string(h), s) {
		t.Fatalf("hash contains the secret")
	}
	if !CheckClientSecret(h, s) {
		t.Fatalf("CheckClientSecret(hash, secret) = false, want true")
	}
	if CheckClientSecret(h, other) || CheckClientSecret(h, "") || CheckClientSecret(nil, s) {
		t.Fatalf("CheckClientSecret accepted a wrong secret")
	}
}

func TestPassword(t *testing.T) {
	h, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("got hash %q, want argon2id PHC format", h)
	}
	ok, err := CheckPassword(h, "correct horse")
	if err != nil || !ok {
		t.Fatalf("CheckPassword(right) = %v, %v; want true", ok, err)
	}
	ok, err = CheckPassword(h, "correct horsE")
	if err != nil || ok {
		t.Fatalf("CheckPassword(wrong) = %v, %v; want false", ok, err)
	}
	h2, _ := HashPassword("correct horse")
	if h == h2 {
		t.Fatalf("two hashes of one password are equal: salt missing")
	}
	for _, bad := range []string{"", "plain", "$argon2id$v=19$m=99999999,t=2,p=1$c2FsdA$a2V5", "$argon2i$v=19$m=16,t=2,p=1$c2FsdA$a2V5", "$argon2id$v=19$m=16,t=2,p=1$!!$a2V5"} {
		if _, err := CheckPassword(bad, "x"); err == nil {
			t.Errorf("CheckPassword(%q) = nil error, want ErrMalformedHash", bad)
		}
	}
}
