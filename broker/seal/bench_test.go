package seal

import "testing"

func BenchmarkSeal(b *testing.B) {
	key, _ := GenerateKey()
	ring, _ := NewKeyring(key)
	plain := make([]byte, 512)
	for b.Loop() {
		if _, err := ring.Seal(plain, []byte("ad")); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	key, _ := GenerateKey()
	ring, _ := NewKeyring(key)
	sealed, _ := ring.Seal(make([]byte, 512), []byte("ad"))
	for b.Loop() {
		if _, err := ring.Open(sealed, []byte("ad")); err != nil {
			b.Fatal(err)
		}
	}
}
