package catalog

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// fixtureSecretJWT, as a request value in a fixture, stands for a client
// secret the broker generates per request: Apple's ES256 JWT, whose
// signature is randomised, so it cannot be compared byte for byte. The
// runner accepts a value that verifies against the key it configured and
// carries the documented header and claims (checkSecretJWT).
const fixtureSecretJWT = "$CLIENT_SECRET_JWT"

// appleAudience is the aud of Apple's client secret
// (developer.apple.com "Creating a client secret").
const appleAudience = "https://appleid.apple.com"

// secretJWT is what a generated client secret must be: signed by key,
// with header kid and claims iss (the team id) and sub (the client id).
type secretJWT struct {
	key           *ecdsa.PublicKey
	kid, iss, sub string
}

// newSecretKey makes a P-256 key for an entry with a generated client
// secret and returns its PEM (PKCS#8, as Apple's .p8 files are), which
// the fixture configures as client_secret.
func newSecretKey(t *testing.T) (*ecdsa.PrivateKey, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return key, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// checkSecretJWT verifies a generated client secret: alg ES256 and kid in
// the header, a valid signature, iss, sub, aud, iat at the runner's clock
// and exp in the future, at most six months ahead (Apple's limit).
func checkSecretJWT(s string, want *secretJWT) error {
	if want == nil {
		return fmt.Errorf("%s used, but the entry has no generated client secret", fixtureSecretJWT)
	}
	tok, err := jwt.ParseSigned(s, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return fmt.Errorf("not an ES256 JWT: %v", err)
	}
	if len(tok.Headers) != 1 || tok.Headers[0].KeyID != want.kid {
		return fmt.Errorf("header kid = %q, want %q", tok.Headers[0].KeyID, want.kid)
	}
	var c jwt.Claims
	if err := tok.Claims(want.key, &c); err != nil {
		return fmt.Errorf("signature: %v", err)
	}
	err = c.ValidateWithLeeway(jwt.Expected{Issuer: want.iss, Subject: want.sub, AnyAudience: jwt.Audience{appleAudience}, Time: fixtureNow}, 0)
	if err != nil {
		return fmt.Errorf("claims %+v: %v", c, err)
	}
	switch {
	case c.IssuedAt == nil || !c.IssuedAt.Time().Equal(fixtureNow):
		return fmt.Errorf("iat = %v, want the runner's clock %v", c.IssuedAt, fixtureNow)
	case c.Expiry == nil || !c.Expiry.Time().After(fixtureNow) || c.Expiry.Time().After(fixtureNow.Add(183*24*time.Hour)):
		return fmt.Errorf("exp = %v, want after %v and at most six months later", c.Expiry, fixtureNow)
	case len(c.Audience) != 1:
		return fmt.Errorf("aud = %v, want only %s", c.Audience, appleAudience)
	}
	return nil
}

// The checker refuses what Apple would refuse.
func TestCheckSecretJWT(t *testing.T) {
	key, _ := newSecretKey(t)
	other, _ := newSecretKey(t)
	want := &secretJWT{key: &key.PublicKey, kid: "ABC123DEFG", iss: "A1B2C3D4E5", sub: "cid"}
	sign := func(k *ecdsa.PrivateKey, kid string, c jwt.Claims) string {
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: k, KeyID: kid}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		out, err := jwt.Signed(s).Claims(c).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	good := jwt.Claims{Issuer: "A1B2C3D4E5", Subject: "cid", Audience: jwt.Audience{appleAudience},
		IssuedAt: jwt.NewNumericDate(fixtureNow), Expiry: jwt.NewNumericDate(fixtureNow.Add(30 * 24 * time.Hour))}
	if err := checkSecretJWT(sign(key, "ABC123DEFG", good), want); err != nil {
		t.Fatalf("a good secret: %v", err)
	}
	bad := map[string]string{
		"other key": sign(other, "ABC123DEFG", good),
		"wrong kid": sign(key, "XYZ", good),
		"not a JWT": "csecret",
		"wrong iss": sign(key, "ABC123DEFG", func(c jwt.Claims) jwt.Claims { c.Issuer = "X"; return c }(good)),
		"wrong sub": sign(key, "ABC123DEFG", func(c jwt.Claims) jwt.Claims { c.Subject = "x"; return c }(good)),
		"wrong aud": sign(key, "ABC123DEFG", func(c jwt.Claims) jwt.Claims { c.Audience = jwt.Audience{"https://x"}; return c }(good)),
		"expired":   sign(key, "ABC123DEFG", func(c jwt.Claims) jwt.Claims { c.Expiry = jwt.NewNumericDate(fixtureNow); return c }(good)),
		"a year ":   sign(key, "ABC123DEFG", func(c jwt.Claims) jwt.Claims { c.Expiry = jwt.NewNumericDate(fixtureNow.AddDate(1, 0, 0)); return c }(good)),
		"no iat":    sign(key, "ABC123DEFG", func(c jwt.Claims) jwt.Claims { c.IssuedAt = nil; return c }(good)),
	}
	for name, s := range bad {
		if err := checkSecretJWT(s, want); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
