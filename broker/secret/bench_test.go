package secret

import (
	"testing"

	"github.com/oauth2broker/oauth2broker/broker/seal"
)

func BenchmarkCheckClientSecret(b *testing.B) {
	s, _ := NewClientSecret()
	key, _ := seal.GenerateKey()
	ring, _ := seal.NewKeyring(key)
	h := HashClientSecret(ring, s)
	for b.Loop() {
		if !CheckClientSecret(ring, h, s) {
			b.Fatal("mismatch")
		}
	}
}

func BenchmarkCheckPassword(b *testing.B) {
	h, _ := HashPassword("correct horse battery")
	for b.Loop() {
		if ok, _ := CheckPassword(h, "correct horse battery"); !ok {
			b.Fatal("mismatch")
		}
	}
}
