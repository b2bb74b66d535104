package tokens

import (
	"crypto/sha256"
	"sync"
)

// maxVerified bounds the cache of verified tokens.
const maxVerified = 10_000

// verifiedCache remembers tokens whose signature, type and issuer were
// verified, by the hash of API and token: the same bytes always verify the
// same way, so a resource server introspecting a token again skips the
// public-key operation. Expiry and revocation are still checked on every
// use. When full it starts over, which bounds memory without bookkeeping.
type verifiedCache struct {
	mu sync.Mutex
	m  map[[32]byte]Claims
}

// verifiedKey is sha256(api NUL token), hashed from a stack buffer: no
// allocation for tokens of usual length.
func verifiedKey(api, token string) [32]byte {
	var buf [1024]byte
	b := append(buf[:0], api...)
	b = append(b, 0)
	b = append(b, token...)
	return sha256.Sum256(b)
}

func (c *verifiedCache) get(k [32]byte) (*Claims, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	claims, ok := c.m[k]
	return &claims, ok
}

func (c *verifiedCache) put(k [32]byte, claims *Claims) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxVerified {
		c.m = make(map[[32]byte]Claims)
	}
	c.m[k] = *claims
}
