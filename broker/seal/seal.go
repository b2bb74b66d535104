package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// KeySize is the size of an encryption key in bytes (AES-256).
const KeySize = 32

// version is the first byte of every sealed value.
const version byte = 1

// kidSize is the length of the key id written into sealed values.
const kidSize = 4

// ErrOpen is returned when a sealed value cannot be opened: it was made
// under a key not in the ring, or it was altered.
var ErrOpen = errors.New("seal: cannot open sealed value")

// Keyring seals with its primary key and opens with any of its keys.
// It is safe for concurrent use.
type Keyring struct {
	primary    [kidSize]byte
	primaryKey []byte
	aeads      map[[kidSize]byte]cipher.AEAD
	keys       map[[kidSize]byte][]byte // for MACs made before a rotation
	derived    sync.Map                 // macKey → derived key ([]byte)
}

// NewKeyring builds a keyring. primary seals; old keys only open values
// sealed before a rotation.
func NewKeyring(primary []byte, old ...[]byte) (*Keyring, error) {
	k := &Keyring{aeads: map[[kidSize]byte]cipher.AEAD{}, keys: map[[kidSize]byte][]byte{}}
	for i, key := range append([][]byte{primary}, old...) {
		if len(key) != KeySize {
			return nil, fmt.Errorf("seal: key %d is %d bytes, want %d", i, len(key), KeySize)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("seal: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("seal: %w", err)
		}
		id := keyID(key)
		if i == 0 {
			k.primary, k.primaryKey = id, append([]byte(nil), key...)
		}
		k.aeads[id] = aead
		k.keys[id] = append([]byte(nil), key...)
	}
	return k, nil
}

// keyID derives a short public identifier from a key.
func keyID(key []byte) [kidSize]byte {
	sum := sha256.Sum256(append([]byte("oauth2broker seal kid\x00"), key...))
	var id [kidSize]byte
	copy(id[:], sum[:])
	return id
}

// PrimaryID names the primary key (hex), for logs: it reveals nothing
// about the key.
func (k *Keyring) PrimaryID() string { return hex.EncodeToString(k.primary[:]) }

// Seal encrypts plaintext. additional binds the value to its context (for
// example the record key) so a sealed value cannot be moved to another
// record; the same additional data must be given to Open.
func (k *Keyring) Seal(plaintext, additional []byte) ([]byte, error) {
	aead := k.aeads[k.primary]
	out := make([]byte, 1+kidSize+aead.NonceSize(), 1+kidSize+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out[0] = version
	copy(out[1:], k.primary[:])
	nonce := out[1+kidSize:]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return aead.Seal(out, nonce, plaintext, additional), nil
}

// Open decrypts a value made by Seal with any key of the ring.
func (k *Keyring) Open(sealed, additional []byte) ([]byte, error) {
	if len(sealed) < 1+kidSize || sealed[0] != version {
		return nil, ErrOpen
	}
	var id [kidSize]byte
	copy(id[:], sealed[1:])
	aead, ok := k.aeads[id]
	if !ok || len(sealed) < 1+kidSize+aead.NonceSize() {
		return nil, ErrOpen
	}
	nonce := sealed[1+kidSize : 1+kidSize+aead.NonceSize()]
	plain, err := aead.Open(nil, nonce, sealed[1+kidSize+aead.NonceSize():], additional)
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}

// NeedsReseal reports whether a sealed value was made under a key other
// than the primary one, so a caller can re-seal it after a rotation.
func (k *Keyring) NeedsReseal(sealed []byte) bool {
	return len(sealed) < 1+kidSize || string(sealed[1:1+kidSize]) != string(k.primary[:])
}

// Reseal opens a value sealed under an older key of the ring and seals it
// again under the primary key, with the same additional data. A value
// already under the primary key is returned as is, with changed false.
func (k *Keyring) Reseal(sealed, additional []byte) (out []byte, changed bool, err error) {
	if !k.NeedsReseal(sealed) {
		return sealed, false, nil
	}
	plain, err := k.Open(sealed, additional)
	if err != nil {
		return nil, false, err
	}
	out, err = k.Seal(plain, additional)
	return out, err == nil, err
}

// HasOldKeys reports whether the ring holds keys besides the primary one.
func (k *Keyring) HasOldKeys() bool { return len(k.aeads) > 1 }

// GenerateKey returns a new random key.
func GenerateKey() ([]byte, error) {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return key, nil
}

// ParseKey decodes a base64 (standard or URL alphabet, padded or not) key
// of KeySize bytes. Surrounding white space is ignored.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err := enc.DecodeString(s); err == nil {
			if len(key) != KeySize {
				return nil, fmt.Errorf("seal: key is %d bytes, want %d", len(key), KeySize)
			}
			return key, nil
		}
	}
	return nil, errors.New("seal: key is not valid base64")
}

// EncodeKey encodes a key as standard base64, the form ParseKey reads.
func EncodeKey(key []byte) string { return base64.StdEncoding.EncodeToString(key) }

// Derive returns a 32-byte key for one purpose (label), derived from the
// primary key with HMAC-SHA256: the same on every replica with the same
// key, unrelated to the sealing itself. It changes when the primary key
// is rotated.
func (k *Keyring) Derive(label string) []byte { return derive(k.primaryKey, label) }

func derive(key []byte, label string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("oauth2broker derive\x00" + label))
	return mac.Sum(nil)
}

// MACSize is the length of what MAC returns.
const MACSize = kidSize + sha256.Size

// MAC returns a keyed hash of msg for one purpose (label): the primary
// key's id, then HMAC-SHA256 of msg under a key derived from the primary
// key for label. Unlike Derive, it survives a rotation: CheckMAC finds the
// key by its id as long as the key stays in the ring.
func (k *Keyring) MAC(label string, msg []byte) []byte {
	return append(k.primary[:], k.macWith(k.primary, label, msg)...)
}

// macWith is HMAC-SHA256 of msg under the key of id derived for label;
// derived keys are kept, so a MAC costs one HMAC.
func (k *Keyring) macWith(id [kidSize]byte, label string, msg []byte) []byte {
	dk := macKey{id, label}
	derived, ok := k.derived.Load(dk)
	if !ok {
		derived, _ = k.derived.LoadOrStore(dk, derive(k.keys[id], label))
	}
	mac := hmac.New(sha256.New, derived.([]byte))
	mac.Write(msg)
	return mac.Sum(nil)
}

// macKey names a derived MAC key.
type macKey struct {
	id    [kidSize]byte
	label string
}

// CheckMAC reports, in constant time, whether tagged is MAC(label, msg)
// under any key of the ring. A tag of an unknown key (or malformed) does
// the same work and reports false.
func (k *Keyring) CheckMAC(label string, msg, tagged []byte) bool {
	id := k.primary
	known := len(tagged) == MACSize
	if known {
		copy(id[:], tagged)
		if _, known = k.keys[id]; !known {
			id = k.primary
		}
	}
	sum := k.macWith(id, label, msg)
	if !known {
		return false
	}
	return hmac.Equal(sum, tagged[kidSize:])
}

// NeedsRemac reports whether tagged was made under a key other than the
// primary one, so a caller holding msg can make it again after a
// rotation.
func (k *Keyring) NeedsRemac(tagged []byte) bool {
	return len(tagged) != MACSize || string(tagged[:kidSize]) != string(k.primary[:])
}
