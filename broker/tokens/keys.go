package tokens

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/oauth2broker/oauth2broker/broker/seal"
	"github.com/oauth2broker/oauth2broker/storage"
)

// DefaultSigningAlg is used when an API names none.
const DefaultSigningAlg = "ES256"

// keyCacheTTL bounds how long a replica signs with a key set it loaded,
// so a rotation made by another replica is picked up even when no one
// calls Forget (a store without a watch). When the store is unavailable
// at reload, the loaded set goes on serving until it answers again.
const keyCacheTTL = 30 * time.Second

// SupportedAlgs lists the signing algorithms an API may choose.
var SupportedAlgs = []string{"ES256", "ES384", "RS256", "PS256", "EdDSA"}

// HMACAlg signs the tokens of APIs whose token_format is "hmac": tokens
// only the broker can verify (by introspection), with a secret key that is
// never published, and far cheaper to sign than a public-key signature.
const HMACAlg = "HS256"

// Token formats of an API.
const (
	FormatJWT  = "jwt"
	FormatHMAC = "hmac"
)

// ValidAlg reports whether alg is supported.
func ValidAlg(alg string) bool { return slices.Contains(SupportedAlgs, alg) }

// keySet is the loaded signing state of one API.
type keySet struct {
	signer   jose.Signer
	hs256    *hs256Signer // the signer's fast path when alg is HS256
	kid      string
	alg      string
	public   []jose.JSONWebKey // every key still published, newest first
	secret   map[string][]byte // HMAC keys by kid: never published
	loadedAt time.Time
	stale    bool      // reload at next use (guarded by keyCache.mu)
	retryAt  time.Time // the store was unavailable: use as is until then
	loading  bool      // a request is reloading it
}

// verifyKey returns the key and algorithm that verify tokens of kid.
func (ks *keySet) verifyKey(kid string) (any, string, bool) {
	for _, k := range ks.public {
		if k.KeyID == kid {
			return k.Key, k.Algorithm, true
		}
	}
	if b, ok := ks.secret[kid]; ok {
		return b, HMACAlg, true
	}
	return nil, "", false
}

// unavailableRetry is how long a key set is used as is after the store
// could not reload it, before the store is asked again.
const unavailableRetry = 5 * time.Second

// keyCache caches key sets per API.
type keyCache struct {
	mu      sync.Mutex
	sets    map[string]*keySet
	loaders map[string]*sync.Mutex // one load per API at a time
	gen     uint64                 // counts invalidations, to spot one during a load
	// forced records the last reload forced by an unknown kid per API.
	forced map[string]time.Time
}

// reloadPause bounds reloads forced by tokens with unknown key ids: a
// stream of forged tokens cannot make every request reload the keys.
const reloadPause = time.Second

// mayReload reports whether an unknown kid may force a reload of api's
// keys now, and records it.
func (i *Issuer) mayReload(api string) bool {
	i.cache.mu.Lock()
	defer i.cache.mu.Unlock()
	now := i.now()
	if last, ok := i.cache.forced[api]; ok && now.Sub(last) < reloadPause && !now.Before(last) {
		return false
	}
	i.cache.forced[api] = now
	if ks, ok := i.cache.sets[api]; ok {
		ks.stale = true
	}
	return true
}

func generateKey(alg string) (crypto.Signer, error) {
	switch alg {
	case "ES256":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ES384":
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "RS256", "PS256":
		return rsa.GenerateKey(rand.Reader, 2048)
	case "EdDSA":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	}
	return nil, fmt.Errorf("tokens: unsupported signing algorithm %q", alg)
}

// newKeyID returns an id that sorts by creation time.
func newKeyID(now time.Time) (string, error) {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return fmt.Sprintf("%013x-%s", now.UnixMilli(), hex.EncodeToString(b)), nil
}

// createKey generates, seals and stores a new active key for api.
func (i *Issuer) createKey(ctx context.Context, api, alg string) error {
	material, err := newKeyMaterial(alg)
	if err != nil {
		return err
	}
	now := i.now()
	kid, err := newKeyID(now)
	if err != nil {
		return fmt.Errorf("tokens: %w", err)
	}
	sealed, err := i.keyring.Seal(material, seal.SigningKey.AD(api, kid))
	if err != nil {
		return err
	}
	return i.store.CreateSigningKey(ctx, storage.SigningKey{API: api, ID: kid, Alg: alg, SealedPrivateKey: sealed, CreatedAt: now})
}

// newKeyMaterial returns a new key's bytes: 32 random bytes for HMAC, a
// PKCS#8 private key otherwise.
func newKeyMaterial(alg string) ([]byte, error) {
	if alg == HMACAlg {
		b := make([]byte, 32)
		_, err := rand.Read(b)
		return b, err
	}
	priv, err := generateKey(alg)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	return der, nil
}

// keys returns the API's key set, loading it from storage (and creating
// the first key) when the cache is cold or stale. One load per API runs at
// a time, outside the cache's lock; while a stale set is reloaded, other
// requests go on with it rather than wait for the store.
func (i *Issuer) keys(ctx context.Context, api storage.API) (*keySet, error) {
	alg := apiAlg(api)
	i.cache.mu.Lock()
	cached, ok := i.cache.sets[api.Name]
	usable := ok && cached.alg == alg
	if usable && (i.current(cached) || cached.loading) {
		i.cache.mu.Unlock()
		return cached, nil
	}
	if usable {
		cached.loading = true
	}
	load, ok := i.cache.loaders[api.Name]
	if !ok {
		load = &sync.Mutex{}
		i.cache.loaders[api.Name] = load
	}
	i.cache.mu.Unlock()

	load.Lock() // a cold cache creates the first key: once
	defer load.Unlock()
	i.cache.mu.Lock()
	if cur, ok := i.cache.sets[api.Name]; ok && cur != cached && cur.alg == alg && i.current(cur) {
		i.cache.mu.Unlock()
		return cur, nil // loaded by the request before this one
	}
	gen := i.cache.gen
	i.cache.mu.Unlock()

	ks, err := i.loadKeys(ctx, api)
	i.cache.mu.Lock()
	defer i.cache.mu.Unlock()
	if usable {
		cached.loading = false
	}
	if err != nil {
		if usable && errors.Is(err, storage.ErrUnavailable) {
			// The store cannot answer (no quorum): go on with the keys
			// known, which were valid moments ago, rather than fail every
			// token and JWKS request; ask the store again in a while, not
			// on every request.
			cached.retryAt = time.Now().Add(unavailableRetry)
			return cached, nil
		}
		return nil, err
	}
	// A change heard while loading may not be in what was read.
	ks.stale = i.cache.gen != gen
	i.cache.sets[api.Name] = ks
	return ks, nil
}

// current reports whether ks may be used without a reload. The caller
// holds the cache's lock.
func (i *Issuer) current(ks *keySet) bool {
	return (!ks.stale && i.now().Sub(ks.loadedAt) < keyCacheTTL) || time.Now().Before(ks.retryAt)
}

// invalidate marks api's cached key set stale: the next use reloads it.
func (i *Issuer) invalidate(api string) {
	i.cache.mu.Lock()
	i.cache.gen++
	if ks, ok := i.cache.sets[api]; ok {
		ks.stale, ks.retryAt = true, time.Time{}
	}
	i.cache.mu.Unlock()
}

// Forget marks the cached key set of api stale, or of every API when api
// is empty, so that the next use reloads it from the store: call it when
// another process changed the keys or the API. While the store is
// unavailable a stale set is still used (see keyCacheTTL).
func (i *Issuer) Forget(api string) {
	if api != "" {
		i.invalidate(api)
		return
	}
	i.cache.mu.Lock()
	i.cache.gen++
	for _, ks := range i.cache.sets {
		ks.stale = true
	}
	i.cache.mu.Unlock()
}

func apiAlg(api storage.API) string {
	if api.TokenFormat == FormatHMAC {
		return HMACAlg
	}
	if api.SigningAlg == "" {
		return DefaultSigningAlg
	}
	return api.SigningAlg
}

func (i *Issuer) loadKeys(ctx context.Context, api storage.API) (*keySet, error) {
	alg := apiAlg(api)
	stored, err := i.store.ListSigningKeys(ctx, api.Name)
	if err != nil {
		return nil, err
	}
	if active := activeKey(stored, alg); active == nil {
		// First use, or the API changed its algorithm: make a key.
		if err := i.createKey(ctx, api.Name, alg); err != nil {
			return nil, err
		}
		if stored, err = i.store.ListSigningKeys(ctx, api.Name); err != nil {
			return nil, err
		}
	}
	now := i.now()
	ks := &keySet{alg: alg, loadedAt: now, secret: map[string][]byte{}}
	for j := len(stored) - 1; j >= 0; j-- { // newest first
		k := stored[j]
		if !k.RemoveAt.IsZero() && !now.Before(k.RemoveAt) {
			continue
		}
		priv, err := i.openKey(k)
		if err != nil {
			return nil, err
		}
		if b, ok := priv.([]byte); ok {
			ks.secret[k.ID] = b
		} else {
			ks.public = append(ks.public, jose.JSONWebKey{Key: priv.(crypto.Signer).Public(), KeyID: k.ID, Algorithm: k.Alg, Use: "sig"})
		}
		if ks.signer == nil && k.RetiredAt.IsZero() && k.Alg == alg {
			opts := (&jose.SignerOptions{}).WithType("at+jwt")
			if _, symmetric := priv.([]byte); symmetric {
				// go-jose leaves kid out for symmetric keys; name it.
				opts = opts.WithHeader("kid", k.ID)
			}
			signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: jose.JSONWebKey{Key: priv, KeyID: k.ID}}, opts)
			if err != nil {
				return nil, fmt.Errorf("tokens: %w", err)
			}
			ks.signer, ks.kid = signer, k.ID
			if b, symmetric := priv.([]byte); symmetric && alg == HMACAlg {
				if ks.hs256, err = newHS256Signer(signer, b); err != nil {
					return nil, err
				}
			}
		}
	}
	if ks.signer == nil {
		return nil, errors.New("tokens: no active signing key")
	}
	// The active key first: IDs created in the same millisecond do not
	// sort by creation.
	slices.SortStableFunc(ks.public, func(a, b jose.JSONWebKey) int {
		return boolOrder(a.KeyID == ks.kid, b.KeyID == ks.kid)
	})
	return ks, nil
}

// boolOrder sorts true before false.
func boolOrder(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return -1
	}
	return 1
}

// activeKey returns the newest unretired key of alg, or nil.
func activeKey(keys []storage.SigningKey, alg string) *storage.SigningKey {
	for j := len(keys) - 1; j >= 0; j-- {
		if keys[j].RetiredAt.IsZero() && keys[j].Alg == alg {
			return &keys[j]
		}
	}
	return nil
}

// openKey returns a stored key: []byte for HMAC, a crypto.Signer
// otherwise.
func (i *Issuer) openKey(k storage.SigningKey) (any, error) {
	der, err := i.keyring.Open(k.SealedPrivateKey, seal.SigningKey.AD(k.API, k.ID))
	if err != nil {
		return nil, fmt.Errorf("tokens: signing key %s: %w", k.ID, err)
	}
	if k.Alg == HMACAlg {
		return der, nil
	}
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("tokens: signing key %s: %w", k.ID, err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("tokens: signing key %s is not a signer", k.ID)
	}
	return signer, nil
}

// JWKS returns the API's published public keys (RFC 7517), the active one
// first, followed by retired keys whose tokens may still be live.
func (i *Issuer) JWKS(ctx context.Context, api storage.API) (jose.JSONWebKeySet, error) {
	ks, err := i.keys(ctx, api)
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	return jose.JSONWebKeySet{Keys: slices.Clone(ks.public)}, nil
}

// Rotate retires the API's active keys and creates a new one. A retired
// key stays in the JWKS for maxTTL (the longest access-token lifetime of
// the API) plus a minute, so every token it signed can still be verified.
// It returns the new key id.
func (i *Issuer) Rotate(ctx context.Context, api storage.API, maxTTL time.Duration) (string, error) {
	now := i.now()
	stored, err := i.store.ListSigningKeys(ctx, api.Name)
	if err != nil {
		return "", err
	}
	for _, k := range stored {
		if !k.RetiredAt.IsZero() {
			continue
		}
		_, err := i.store.UpdateSigningKey(ctx, api.Name, k.ID, func(k storage.SigningKey) (storage.SigningKey, error) {
			k.RetiredAt, k.RemoveAt = now, now.Add(maxTTL+time.Minute)
			return k, nil
		})
		if err != nil {
			return "", err
		}
	}
	if err := i.createKey(ctx, api.Name, apiAlg(api)); err != nil {
		return "", err
	}
	i.invalidate(api.Name)
	ks, err := i.keys(ctx, api)
	if err != nil {
		return "", err
	}
	return ks.kid, nil
}
