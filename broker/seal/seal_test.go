package seal

import (
	"bytes"
	"errors"
	"testing"
)

func mustKey(t *testing.T) []byte {
	t.Helper()
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpenRoundTrip(t *testing.T) {
	ring, err := NewKeyring(mustKey(t))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := ring.Seal([]byte("refresh-token"), []byte("api/conn"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("refresh-token")) {
		t.Fatalf("sealed value contains the plaintext")
	}
	got, err := ring.Open(sealed, []byte("api/conn"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "refresh-token" {
		t.Fatalf("got %q, want %q", got, "refresh-token")
	}
}

func TestOpenRejects(t *testing.T) {
	ring, _ := NewKeyring(mustKey(t))
	other, _ := NewKeyring(mustKey(t))
	sealed, _ := ring.Seal([]byte("secret"), []byte("a"))
	flipped := append([]byte(nil), sealed...)
	flipped[len(flipped)-1] ^= 1
	cases := map[string]struct {
		ring   *Keyring
		sealed []byte
		ad     string
	}{
		"wrong additional data": {ring, sealed, "b"},
		"unknown key":           {other, sealed, "a"},
		"tampered":              {ring, flipped, "a"},
		"truncated":             {ring, sealed[:3], "a"},
		"empty":                 {ring, nil, "a"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := tc.ring.Open(tc.sealed, []byte(tc.ad)); !errors.Is(err, ErrOpen) {
				t.Fatalf("got %v, want ErrOpen", err)
			}
		})
	}
}

func TestRotation(t *testing.T) {
	oldKey, newKey := mustKey(t), mustKey(t)
	before, _ := NewKeyring(oldKey)
	sealed, _ := before.Seal([]byte("x"), nil)
	after, err := NewKeyring(newKey, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := after.Open(sealed, nil); err != nil || string(got) != "x" {
		t.Fatalf("open after rotation: got %q, %v; want %q", got, err, "x")
	}
	if !after.NeedsReseal(sealed) {
		t.Fatalf("NeedsReseal = false for a value under the old key, want true")
	}
	resealed, _ := after.Seal([]byte("x"), nil)
	if after.NeedsReseal(resealed) {
		t.Fatalf("NeedsReseal = true for a value under the primary key, want false")
	}
	if before.PrimaryID() == after.PrimaryID() {
		t.Fatalf("primary id did not change on rotation")
	}
}

func TestParseKey(t *testing.T) {
	key := mustKey(t)
	got, err := ParseKey(" " + EncodeKey(key) + "\n")
	if err != nil || !bytes.Equal(got, key) {
		t.Fatalf("ParseKey(EncodeKey(k)) = %x, %v; want %x", got, err, key)
	}
	for _, bad := range []string{"", "not base64!!", EncodeKey(key[:16])} {
		if _, err := ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) = nil error, want an error", bad)
		}
	}
	if _, err := NewKeyring(key[:5]); err == nil {
		t.Errorf("NewKeyring with a short key: nil error, want an error")
	}
}

func TestDerive(t *testing.T) {
	key := mustKey(t)
	a, _ := NewKeyring(key)
	b, _ := NewKeyring(key)
	if !bytes.Equal(a.Derive("x"), b.Derive("x")) || len(a.Derive("x")) != 32 {
		t.Fatalf("Derive differs between keyrings of one key")
	}
	if bytes.Equal(a.Derive("x"), a.Derive("y")) || bytes.Contains(a.Derive("x"), key[:8]) {
		t.Fatalf("Derive does not separate labels, or leaks the key")
	}
	c, _ := NewKeyring(mustKey(t), key)
	if bytes.Equal(a.Derive("x"), c.Derive("x")) {
		t.Fatalf("Derive did not change with the primary key")
	}
}

// A MAC checks under the key that made it while that key is in the ring,
// never under another label, message or key, and asks to be remade after
// a rotation.
func TestMAC(t *testing.T) {
	k1, _ := GenerateKey()
	k2, _ := GenerateKey()
	ring, _ := NewKeyring(k1)
	tag := ring.MAC("label", []byte("msg"))
	if len(tag) != MACSize || !ring.CheckMAC("label", []byte("msg"), tag) || ring.NeedsRemac(tag) {
		t.Fatalf("fresh MAC: %x does not check", tag)
	}
	bad := append([]byte(nil), tag...)
	bad[len(bad)-1] ^= 1
	for name, ok := range map[string]bool{
		"other label":   ring.CheckMAC("other", []byte("msg"), tag),
		"other message": ring.CheckMAC("label", []byte("msh"), tag),
		"altered tag":   ring.CheckMAC("label", []byte("msg"), bad),
		"short tag":     ring.CheckMAC("label", []byte("msg"), tag[1:]),
		"nil tag":       ring.CheckMAC("label", []byte("msg"), nil),
	} {
		if ok {
			t.Errorf("%s: CheckMAC true, want false", name)
		}
	}
	rotated, _ := NewKeyring(k2, k1)
	if !rotated.CheckMAC("label", []byte("msg"), tag) || !rotated.NeedsRemac(tag) {
		t.Error("after a rotation the old MAC must check and need remaking")
	}
	if other, _ := NewKeyring(k2); other.CheckMAC("label", []byte("msg"), tag) {
		t.Error("a ring without the key checked the MAC")
	}
}
