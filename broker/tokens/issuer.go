package tokens

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/oauth2broker/oauth2broker/broker/seal"
	"github.com/oauth2broker/oauth2broker/storage"
)

// DefaultAccessTokenTTL is the access-token lifetime when neither the
// client nor the API sets one.
const DefaultAccessTokenTTL = time.Hour

// ErrInvalidToken is returned by Verify for a token that is malformed,
// not signed by one of the API's keys, of another issuer, or expired.
var ErrInvalidToken = errors.New("tokens: invalid token")

// Config configures an Issuer.
type Config struct {
	// Store holds signing keys and issued-token records.
	Store storage.Storage
	// Keyring seals signing keys at rest.
	Keyring *seal.Keyring
	// PublicURL is the broker's external base URL; an API's issuer is
	// PublicURL + "/" + api.
	PublicURL string
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
}

// Issuer issues, verifies and revokes the broker's own tokens. It is safe
// for concurrent use.
type Issuer struct {
	store     storage.Storage
	keyring   *seal.Keyring
	publicURL string
	now       func() time.Time
	cache     keyCache
	verified  verifiedCache
}

// New returns an Issuer.
func New(cfg Config) (*Issuer, error) {
	if cfg.Store == nil || cfg.Keyring == nil {
		return nil, errors.New("tokens: Store and Keyring are required")
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Issuer{
		store: cfg.Store, keyring: cfg.Keyring, now: now,
		publicURL: strings.TrimRight(cfg.PublicURL, "/"),
		cache:     keyCache{sets: map[string]*keySet{}, loaders: map[string]*sync.Mutex{}, forced: map[string]time.Time{}},
	}, nil
}

// IssuerURL returns the "iss" of an API's tokens: {public_url}/{api}.
func (i *Issuer) IssuerURL(api string) string { return i.publicURL + "/" + api }

// Audience returns the "aud" of an API's tokens: its audience setting,
// else its issuer.
func (i *Issuer) Audience(api storage.API) string {
	if api.Audience != "" {
		return api.Audience
	}
	return i.IssuerURL(api.Name)
}

// Claims are the claims of a broker access token (RFC 9068 §2.2).
type Claims struct {
	Issuer   string           `json:"iss"`
	Subject  string           `json:"sub"`
	Audience jwt.Audience     `json:"aud"`
	Expiry   *jwt.NumericDate `json:"exp"`
	IssuedAt *jwt.NumericDate `json:"iat"`
	ID       string           `json:"jti"`
	ClientID string           `json:"client_id"`
	Scope    string           `json:"scope,omitempty"`
	Tenant   string           `json:"tenant,omitempty"`
	// Username is set for tokens of the password grant.
	Username string `json:"username,omitempty"`
	// Family links tokens of one refresh-token family, so revoking the
	// family ends its access tokens too.
	Family string `json:"fam,omitempty"`
	// UserGeneration is the storage.User.Generation the token was issued
	// for (password grant): a new password, or a re-created user, ends it.
	UserGeneration string `json:"user_gen,omitempty"`
}

// AccessRequest is what an access token is issued for.
type AccessRequest struct {
	Subject  string
	ClientID string
	Scope    string
	Tenant   string
	Username string
	Family   string
	// UserGeneration is the user's storage.User.Generation (password
	// grant).
	UserGeneration string
	TTL            time.Duration
}

// Issued is a signed access token.
type Issued struct {
	Token    string
	Expiry   time.Time
	Lifetime time.Duration
}

// ExpiresIn is the token's lifetime in whole seconds (RFC 6749 §5.1).
func (t *Issued) ExpiresIn() int64 { return int64(t.Lifetime / time.Second) }

// Issue signs an access token for api.
func (i *Issuer) Issue(ctx context.Context, api storage.API, req AccessRequest) (*Issued, error) {
	ks, err := i.keys(ctx, api)
	if err != nil {
		return nil, err
	}
	ttl := req.TTL
	if ttl <= 0 {
		ttl = DefaultAccessTokenTTL
	}
	now := i.now().Truncate(time.Second)
	exp := now.Add(ttl)
	jti, err := newID()
	if err != nil {
		return nil, err
	}
	claims := Claims{
		Issuer: i.IssuerURL(api.Name), Subject: req.Subject, Audience: jwt.Audience{i.Audience(api)},
		Expiry: jwt.NewNumericDate(exp), IssuedAt: jwt.NewNumericDate(now), ID: jti,
		ClientID: req.ClientID, Scope: req.Scope, Tenant: req.Tenant, Username: req.Username, Family: req.Family,
		UserGeneration: req.UserGeneration,
	}
	// Marshal the claims once (without reflection) and sign the bytes:
	// jwt.Signed().Claims() round-trips them through a map first.
	payload, err := marshalClaims(&claims)
	if err != nil {
		return nil, fmt.Errorf("tokens: claims: %w", err)
	}
	token, err := ks.sign(payload)
	if err != nil {
		return nil, err
	}
	return &Issued{Token: token, Expiry: exp, Lifetime: ttl.Truncate(time.Second)}, nil
}

// sign returns payload signed with the active key, in compact form.
func (ks *keySet) sign(payload []byte) (string, error) {
	if ks.hs256 != nil {
		return ks.hs256.sign(payload), nil
	}
	jws, err := ks.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("tokens: sign: %w", err)
	}
	token, err := jws.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("tokens: sign: %w", err)
	}
	return token, nil
}

// Verify checks an access token of api: its signature by one of the API's
// published keys, its type, issuer and expiry. It does not consult
// revocation records (see Introspect).
func (i *Issuer) Verify(ctx context.Context, api storage.API, token string) (*Claims, error) {
	claims, err := i.verifySignature(ctx, api, token)
	if err != nil {
		return nil, err
	}
	if claims.Expiry == nil || !i.now().Before(claims.Expiry.Time()) {
		return nil, ErrInvalidToken
	}
	return claims, nil
}

// verifySignature checks signature, type and issuer, not expiry.
func (i *Issuer) verifySignature(ctx context.Context, api storage.API, token string) (*Claims, error) {
	vk := verifiedKey(api.Name, token)
	if c, ok := i.verified.get(vk); ok {
		return c, nil
	}
	c, err := i.verifySignatureNow(ctx, api, token)
	if err == nil {
		i.verified.put(vk, c)
	}
	return c, err
}

// verifySignatureNow does the verification verifySignature caches.
func (i *Issuer) verifySignatureNow(ctx context.Context, api storage.API, token string) (*Claims, error) {
	algs := []jose.SignatureAlgorithm{HMACAlg}
	for _, a := range SupportedAlgs {
		algs = append(algs, jose.SignatureAlgorithm(a))
	}
	parsed, err := jwt.ParseSigned(token, algs)
	if err != nil || len(parsed.Headers) != 1 {
		return nil, ErrInvalidToken
	}
	h := parsed.Headers[0]
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); !strings.EqualFold(typ, "at+jwt") {
		return nil, ErrInvalidToken
	}
	ks, err := i.keys(ctx, api)
	if err != nil {
		return nil, err
	}
	key, alg, ok := ks.verifyKey(h.KeyID)
	if !ok {
		// Perhaps another replica rotated: reload, at most once a second.
		if !i.mayReload(api.Name) {
			return nil, ErrInvalidToken
		}
		if ks, err = i.keys(ctx, api); err != nil {
			return nil, err
		}
		if key, alg, ok = ks.verifyKey(h.KeyID); !ok {
			return nil, ErrInvalidToken
		}
	}
	if alg != h.Algorithm {
		return nil, ErrInvalidToken
	}
	var claims Claims
	if err := parsed.Claims(key, &claims); err != nil {
		return nil, ErrInvalidToken
	}
	if claims.Issuer != i.IssuerURL(api.Name) {
		return nil, ErrInvalidToken
	}
	return &claims, nil
}

// newID returns 128 random bits, URL-safe base64.
func newID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("tokens: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
