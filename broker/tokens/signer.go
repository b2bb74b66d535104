package tokens

import (
	jose "github.com/go-jose/go-jose/v4"
)

// Signer signs payloads with one key it generated, as a compact JWS. Its
// key belongs to no API and is never stored: it measures what one
// signature costs, without the issuer around it (the bench's sign
// ceiling).
type Signer struct{ signer jose.Signer }

// NewSigner returns a Signer of alg, one of SupportedAlgs, on a fresh
// key.
func NewSigner(alg string) (*Signer, error) {
	key, err := generateKey(alg)
	if err != nil {
		return nil, err
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: key}, nil)
	if err != nil {
		return nil, err
	}
	return &Signer{signer: s}, nil
}

// Sign signs payload and returns the compact JWS.
func (s *Signer) Sign(payload []byte) (string, error) {
	obj, err := s.signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}
