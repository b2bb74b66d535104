package tokens

import (
	"context"
	"errors"

	"github.com/oauth2broker/oauth2broker/storage"
)

// Revoke revokes a token the broker issued for api to clientID (RFC 7009
// §2.1). A refresh token revokes its whole family, including the access
// tokens issued from it. An unknown, malformed or expired token is not an
// error (RFC 7009 §2.2); a token of another client is ErrWrongClient.
// hint only orders the lookups.
func (i *Issuer) Revoke(ctx context.Context, api storage.API, clientID, token, hint string) error {
	lookups := []func(context.Context, storage.API, string, string) (bool, error){i.revokeRefresh, i.revokeAccess}
	if hint == "access_token" {
		lookups[0], lookups[1] = lookups[1], lookups[0]
	}
	for _, lookup := range lookups {
		found, err := lookup(ctx, api, clientID, token)
		if found || err != nil {
			return err
		}
	}
	return nil
}

func (i *Issuer) revokeRefresh(ctx context.Context, api storage.API, clientID, token string) (bool, error) {
	rec, err := i.store.GetIssuedToken(ctx, api.Name, refreshID(token))
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if rec.ClientID != clientID {
		return true, ErrWrongClient
	}
	return true, i.revokeFamily(ctx, api.Name, rec.FamilyID)
}

func (i *Issuer) revokeAccess(ctx context.Context, api storage.API, clientID, token string) (bool, error) {
	claims, err := i.verifySignature(ctx, api, token)
	if errors.Is(err, ErrInvalidToken) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if claims.ClientID != clientID {
		return true, ErrWrongClient
	}
	if claims.Expiry == nil || !i.now().Before(claims.Expiry.Time()) {
		return true, nil
	}
	rec := storage.IssuedToken{
		API: api.Name, ID: jtiPrefix + claims.ID, Kind: storage.KindRevokedAccessToken,
		ClientID: claims.ClientID, Subject: claims.Subject, Revoked: true,
		IssuedAt: i.now(), ExpiresAt: claims.Expiry.Time(),
	}
	err = i.store.CreateIssuedToken(ctx, rec)
	if errors.Is(err, storage.ErrAlreadyExists) {
		err = nil
	}
	return true, err
}
