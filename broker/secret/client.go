package secret

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"

	"github.com/oauth2broker/oauth2broker/broker/seal"
)

// clientSecretBytes is the entropy of a generated client secret: 256 bits.
const clientSecretBytes = 32

// hashPrefix names the client-secret hash format: HMAC-SHA256 keyed with
// the encryption keyring, under macLabel.
const (
	hashPrefix = "hmac-sha256:"
	macLabel   = "client secret"
)

// NewClientSecret returns a new client secret with 256 bits from
// crypto/rand, URL-safe base64 without padding.
func NewClientSecret() (string, error) {
	return RandomString(clientSecretBytes)
}

// RandomString returns n random bytes as URL-safe base64 without padding.
func RandomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// HashClientSecret hashes a client secret for storage: HMAC-SHA256 under
// a key derived from the encryption keyring (seal.Keyring.MAC), so that a
// stolen database without the key says nothing of the secrets, not even
// of a weak declared one.
//
// A fast hash is right here and a password hash is not: a generated
// secret has 256 bits of entropy, and a 50 ms password hash on every
// client_credentials request would cap the token endpoint at a few dozen
// requests per second per core.
func HashClientSecret(k *seal.Keyring, secret string) []byte {
	return append([]byte(hashPrefix), k.MAC(macLabel, []byte(secret))...)
}

// CheckClientSecret reports, in constant time, whether secret matches the
// stored hash. A nil or malformed hash does the same work and reports
// false.
func CheckClientSecret(k *seal.Keyring, hash []byte, secret string) bool {
	rest, _ := bytes.CutPrefix(hash, []byte(hashPrefix))
	return k.CheckMAC(macLabel, []byte(secret), rest) && bytes.HasPrefix(hash, []byte(hashPrefix))
}

// ClientSecretNeedsRehash reports whether hash should be made again, from
// the secret that just matched it: it is keyed with an encryption key that
// is no longer the primary one (the MAC names its key).
func ClientSecretNeedsRehash(k *seal.Keyring, hash []byte) bool {
	rest, ok := bytes.CutPrefix(hash, []byte(hashPrefix))
	return !ok || k.NeedsRemac(rest)
}
