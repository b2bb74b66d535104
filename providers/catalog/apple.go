package catalog

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/oauth2broker/oauth2broker/providers"
)

// appleSecretLifetime is how long a generated Apple client secret lives
// (Apple accepts up to six months); it is regenerated a day before.
const appleSecretLifetime = 30 * 24 * time.Hour

// appleSecret returns a function making Apple's client secret: an ES256
// JWT signed with the private key the user configured as client_secret
// (PEM, PKCS#8), with vars team_id and key_id
// (developer.apple.com "Creating a client secret").
func appleSecret(cfg providers.Config, now func() time.Time) (func() (string, error), error) {
	block, _ := pem.Decode([]byte(cfg.ClientSecret))
	if block == nil {
		return nil, errors.New("catalog: apple: client_secret must be the PEM private key (.p8) from Apple")
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("catalog: apple: private key: %w", err)
	}
	key, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, errors.New("catalog: apple: the private key cannot sign")
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: cfg.Vars["key_id"]}}, nil)
	if err != nil {
		return nil, fmt.Errorf("catalog: apple: %w", err)
	}
	if now == nil {
		now = time.Now
	}
	var mu sync.Mutex
	var cached string
	var expires time.Time
	return func() (string, error) {
		mu.Lock()
		defer mu.Unlock()
		t := now()
		if cached != "" && t.Add(24*time.Hour).Before(expires) {
			return cached, nil
		}
		expires = t.Add(appleSecretLifetime)
		claims := jwt.Claims{Issuer: cfg.Vars["team_id"], Subject: cfg.ClientID, Audience: jwt.Audience{"https://appleid.apple.com"},
			IssuedAt: jwt.NewNumericDate(t), Expiry: jwt.NewNumericDate(expires)}
		s, err := jwt.Signed(signer).Claims(claims).Serialize()
		if err != nil {
			return "", fmt.Errorf("catalog: apple: %w", err)
		}
		cached = s
		return s, nil
	}, nil
}
