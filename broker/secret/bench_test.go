package secret

import "testing"

func BenchmarkCheckClientSecret(b *testing.B) {
	s, _ := NewClientSecret()
	h := HashClientSecret(s)
	for b.Loop() {
		if !CheckClientSecret(h, s) {
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
