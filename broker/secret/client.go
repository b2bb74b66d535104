package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
)

// clientSecretBytes is the entropy of a generated client secret: 256 bits.
const clientSecretBytes = 32

// hashPrefix versions the client-secret hash format.
const hashPrefix = "sha256:"

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

// HashClientSecret hashes a generated client secret for storage.
//
// A fast hash is right here and a password hash is not: the secret has 256
// bits of entropy, so a stolen hash cannot be brute-forced, and a 50 ms
// password hash on every client_credentials request would cap the token
// endpoint at a few dozen requests per second per core.
func HashClientSecret(secret string) []byte {
	sum := sha256.Sum256([]byte("oauth2broker client secret\x00" + secret))
	return append([]byte(hashPrefix), sum[:]...)
}

// CheckClientSecret reports, in constant time, whether secret matches the
// stored hash.
func CheckClientSecret(hash []byte, secret string) bool {
	return subtle.ConstantTimeCompare(hash, HashClientSecret(secret)) == 1
}
