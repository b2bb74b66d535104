package tokens

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash"
	"strings"
	"sync"

	jose "github.com/go-jose/go-jose/v4"
)

// hs256Signer signs HS256 JWS compact tokens with crypto/hmac directly:
// go-jose's generic path (a JSON header per token, a map, a new HMAC)
// cost as much as the rest of an hmac token answer. The protected header
// is the one go-jose writes for the key, taken once from a token it
// signed, so the tokens are byte for byte the ones go-jose would sign.
type hs256Signer struct {
	prefix string    // base64url(protected header) + "."
	macs   sync.Pool // of hash.Hash: HMAC-SHA256 with the key
}

// newHS256Signer returns a signer for key that writes the protected
// header of js, a go-jose signer of the same key.
func newHS256Signer(js jose.Signer, key []byte) (*hs256Signer, error) {
	jws, err := js.Sign(nil)
	if err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	compact, err := jws.CompactSerialize()
	if err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	header, _, _ := strings.Cut(compact, ".")
	key = append([]byte(nil), key...)
	s := &hs256Signer{prefix: header + "."}
	s.macs.New = func() any { return hmac.New(sha256.New, key) }
	return s, nil
}

// sign returns the compact serialization of payload signed with HS256.
func (s *hs256Signer) sign(payload []byte) string {
	enc := base64.RawURLEncoding
	buf := make([]byte, 0, len(s.prefix)+enc.EncodedLen(len(payload))+1+enc.EncodedLen(sha256.Size))
	buf = append(buf, s.prefix...)
	buf = enc.AppendEncode(buf, payload)
	mac := s.macs.Get().(hash.Hash)
	mac.Reset()
	mac.Write(buf)
	var sum [sha256.Size]byte
	sig := mac.Sum(sum[:0])
	s.macs.Put(mac)
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, sig)
	return string(buf)
}
