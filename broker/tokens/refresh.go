package tokens

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/oauth2broker/oauth2broker/storage"
)

// DefaultRefreshTokenTTL is the lifetime of a broker refresh token.
const DefaultRefreshTokenTTL = 30 * 24 * time.Hour

// DefaultRefreshFamilyLifetime is the absolute lifetime of a refresh-token
// family (a login and all its rotations) when the API sets none.
const DefaultRefreshFamilyLifetime = 90 * 24 * time.Hour

// ErrRefreshReused is returned by Redeem when a refresh token that was
// already exchanged is presented again: its whole family is revoked
// (RFC 9700 §4.14.2).
var ErrRefreshReused = errors.New("tokens: refresh token reused; its family is revoked")

// ErrWrongClient is returned when a client presents a token issued to
// another client.
var ErrWrongClient = errors.New("tokens: token was issued to another client")

// Record ID prefixes of the issued-token kinds.
const (
	refreshPrefix = "rt:"
	familyPrefix  = "fam:"
	jtiPrefix     = "jti:"
)

// refreshID is the record ID of a refresh token: a hash, so a stolen
// database does not reveal usable tokens.
func refreshID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return refreshPrefix + hex.EncodeToString(sum[:])
}

// RefreshGrant is what a refresh token is issued for.
type RefreshGrant struct {
	ClientID string
	Subject  string
	Scope    string
	Tenant   string
	// Family is empty for a new login; rotations pass the old token's.
	Family string
	// FamilyExpiresAt is the family's absolute end, which rotations pass
	// on. When zero (a new login, or a family older than the field) it
	// is now plus MaxLifetime.
	FamilyExpiresAt time.Time
	// MaxLifetime is the API's refresh_token_max_lifetime; zero means
	// DefaultRefreshFamilyLifetime.
	MaxLifetime time.Duration
	// UserGeneration is the user's storage.User.Generation.
	UserGeneration string
}

// familyEnd is when the family of a refresh token issued now for g ends.
func (g RefreshGrant) familyEnd(now time.Time) time.Time {
	if !g.FamilyExpiresAt.IsZero() {
		return g.FamilyExpiresAt
	}
	if g.MaxLifetime > 0 {
		return now.Add(g.MaxLifetime)
	}
	return now.Add(DefaultRefreshFamilyLifetime)
}

// IssueRefresh creates a refresh token for api and stores its record. It
// returns the token and its family. The record is durable before the
// token is returned.
func (i *Issuer) IssueRefresh(ctx context.Context, api string, g RefreshGrant) (token, family string, err error) {
	token, err = newSecret()
	if err != nil {
		return "", "", err
	}
	family = g.Family
	if family == "" {
		if family, err = newID(); err != nil {
			return "", "", err
		}
	}
	now := i.now()
	end := g.familyEnd(now)
	if !now.Before(end) {
		return "", "", ErrInvalidToken // the family's absolute lifetime is over
	}
	rec := storage.IssuedToken{
		API: api, ID: refreshID(token), Kind: storage.KindRefreshToken, FamilyID: family,
		ClientID: g.ClientID, Subject: g.Subject, Scope: g.Scope, Tenant: g.Tenant,
		IssuedAt: now, ExpiresAt: earliest(now.Add(DefaultRefreshTokenTTL), end),
		FamilyExpiresAt: end, UserGeneration: g.UserGeneration,
	}
	if err := i.store.CreateIssuedToken(ctx, rec); err != nil {
		return "", "", err
	}
	return token, family, nil
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// Redeem exchanges a refresh token once: it checks the token belongs to
// clientID and is live, marks it used, and returns its record. A token
// presented a second time revokes its family and gives ErrRefreshReused;
// an unknown, expired or revoked one gives ErrInvalidToken.
func (i *Issuer) Redeem(ctx context.Context, api, clientID, token string) (storage.IssuedToken, error) {
	rec, err := i.liveRefresh(ctx, api, token)
	if err != nil {
		return storage.IssuedToken{}, err
	}
	if rec.ClientID != clientID {
		return storage.IssuedToken{}, ErrInvalidToken
	}
	if !rec.UsedAt.IsZero() {
		return storage.IssuedToken{}, i.reused(ctx, api, rec)
	}
	now := i.now()
	_, err = i.store.UpdateIssuedToken(ctx, api, rec.ID, func(t storage.IssuedToken) (storage.IssuedToken, error) {
		if !t.UsedAt.IsZero() {
			return t, ErrRefreshReused
		}
		t.UsedAt = now
		return t, nil
	})
	if errors.Is(err, ErrRefreshReused) {
		return storage.IssuedToken{}, i.reused(ctx, api, rec)
	}
	if err != nil {
		return storage.IssuedToken{}, err
	}
	return rec, nil
}

// RevokeFamily ends every refresh and access token of a family.
func (i *Issuer) RevokeFamily(ctx context.Context, api, family string) error {
	return i.revokeFamily(ctx, api, family)
}

func (i *Issuer) reused(ctx context.Context, api string, rec storage.IssuedToken) error {
	if err := i.revokeFamily(ctx, api, rec.FamilyID); err != nil {
		return err
	}
	return ErrRefreshReused
}

// liveRefresh returns the record of a refresh token that is neither
// expired nor revoked (it may be used).
func (i *Issuer) liveRefresh(ctx context.Context, api, token string) (storage.IssuedToken, error) {
	rec, err := i.store.GetIssuedToken(ctx, api, refreshID(token))
	if errors.Is(err, storage.ErrNotFound) {
		return rec, ErrInvalidToken
	}
	if err != nil {
		return rec, err
	}
	now := i.now()
	if rec.Revoked || !now.Before(rec.ExpiresAt) || (!rec.FamilyExpiresAt.IsZero() && !now.Before(rec.FamilyExpiresAt)) {
		return rec, ErrInvalidToken
	}
	revoked, err := i.familyRevoked(ctx, api, rec.FamilyID)
	if err != nil {
		return rec, err
	}
	if revoked {
		return rec, ErrInvalidToken
	}
	return rec, nil
}

// revokeFamily ends every refresh and access token of a family.
func (i *Issuer) revokeFamily(ctx context.Context, api, family string) error {
	rec := storage.IssuedToken{
		API: api, ID: familyPrefix + family, Kind: storage.KindFamily, FamilyID: family, Revoked: true,
		IssuedAt: i.now(), ExpiresAt: i.now().Add(DefaultRefreshTokenTTL),
	}
	err := i.store.CreateIssuedToken(ctx, rec)
	if errors.Is(err, storage.ErrAlreadyExists) {
		return nil
	}
	return err
}

func (i *Issuer) familyRevoked(ctx context.Context, api, family string) (bool, error) {
	if family == "" {
		return false, nil
	}
	rec, err := i.store.GetIssuedToken(ctx, api, familyPrefix+family)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	return err == nil && rec.Revoked, err
}

func (i *Issuer) accessRevoked(ctx context.Context, api string, c *Claims) (bool, error) {
	_, err := i.store.GetIssuedToken(ctx, api, jtiPrefix+c.ID)
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return false, err
	}
	if revoked, err := i.userChanged(ctx, api, c); revoked || err != nil {
		return revoked, err
	}
	return i.familyRevoked(ctx, api, c.Family)
}

// userChanged reports whether the user of a password-grant token was
// deleted, or got a new password (or was re-created) since the token was
// issued: the token names the user's generation, which a change replaces.
// That holds whatever the clocks say: a change in the second of the login,
// a login that checked the old password while the change committed, a
// change stamped by a replica whose clock runs ahead. A token without a
// generation (issued before the claim existed) is judged by its iat,
// which has whole seconds.
func (i *Issuer) userChanged(ctx context.Context, api string, c *Claims) (bool, error) {
	if c.Username == "" {
		return false, nil
	}
	u, err := i.store.GetUser(ctx, api, c.Username)
	if errors.Is(err, storage.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if c.UserGeneration != "" {
		return c.UserGeneration != u.Generation, nil
	}
	return c.IssuedAt == nil || c.IssuedAt.Time().Before(u.PasswordChangedAt.Truncate(time.Second)), nil
}

// newSecret returns an opaque token with 256 random bits.
func newSecret() (string, error) {
	a, err := newID()
	if err != nil {
		return "", err
	}
	b, err := newID()
	return a + b, err
}
