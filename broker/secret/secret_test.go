package secret

import (
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/oauth2broker/oauth2broker/broker/seal"
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
	key, _ := seal.GenerateKey()
	ring, _ := seal.NewKeyring(key)
	h := HashClientSecret(ring, s)
	if strings.Contains(string(h), s) {
		t.Fatalf("hash contains the secret")
	}
	if !CheckClientSecret(ring, h, s) {
		t.Fatalf("CheckClientSecret(hash, secret) = false, want true")
	}
	if CheckClientSecret(ring, h, other) || CheckClientSecret(ring, h, "") || CheckClientSecret(ring, nil, s) || CheckClientSecret(ring, h[1:], s) {
		t.Fatalf("CheckClientSecret accepted a wrong secret or hash")
	}
	if ClientSecretNeedsRehash(ring, h) {
		t.Error("a fresh hash needs a rehash")
	}

	// Keyed: another encryption key gives another hash, which a ring
	// without that key refuses.
	otherKey, _ := seal.GenerateKey()
	otherRing, _ := seal.NewKeyring(otherKey)
	if CheckClientSecret(otherRing, h, s) {
		t.Error("a ring without the key accepted the hash")
	}
	// After a rotation the old hash still matches and asks for a rehash.
	rotated, _ := seal.NewKeyring(otherKey, key)
	if !CheckClientSecret(rotated, h, s) || !ClientSecretNeedsRehash(rotated, h) {
		t.Error("after a rotation: the old hash must match and need a rehash")
	}
	if nh := HashClientSecret(rotated, s); !CheckClientSecret(rotated, nh, s) || ClientSecretNeedsRehash(rotated, nh) {
		t.Error("a hash under the new primary key must match and need no rehash")
	}

	// An unkeyed SHA-256 of the secret is not a hash this package makes,
	// and never matches.
	sum := sha256.Sum256([]byte("oauth2broker client secret\x00" + s))
	if CheckClientSecret(ring, append([]byte("sha256:"), sum[:]...), s) {
		t.Error("an unkeyed SHA-256 hash matched its secret")
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
