package grants

import (
	"context"
	"errors"

	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/broker/tokens"
	"github.com/oauth2broker/oauth2broker/storage"
)

// refreshToken is the refresh_token grant (RFC 6749 §6) for refresh tokens
// the broker issued with the password grant. Every use rotates the token;
// a reused token revokes its family (RFC 9700 §4.14.2).
type refreshToken struct {
	store  storage.Storage
	tokens *tokens.Issuer
}

var _ Grant = (*refreshToken)(nil)

func (g *refreshToken) Handle(ctx context.Context, req *Request) (*Response, error) {
	presented := req.Params.Get("refresh_token")
	if presented == "" {
		return nil, protocol.ErrInvalidRequest.WithDescription("missing refresh_token")
	}
	rec, err := g.tokens.Redeem(ctx, req.API.Name, req.Client.ID, presented)
	switch {
	case errors.Is(err, tokens.ErrRefreshReused):
		return nil, protocol.ErrInvalidGrant.WithDescription("refresh token was already used; its grant is revoked")
	case errors.Is(err, tokens.ErrInvalidToken):
		return nil, protocol.ErrInvalidGrant.WithDescription("refresh token is invalid, expired or revoked")
	case err != nil:
		return nil, err
	}
	if rec.IssuedAt.Before(req.Client.CreatedAt) {
		// Issued to an earlier, deleted client with the same id.
		return nil, protocol.ErrInvalidGrant.WithDescription("refresh token is invalid, expired or revoked")
	}
	original := parseScope(rec.Scope)
	scope := original
	if req.Scope != nil {
		if !subset(req.Scope, original) {
			return nil, protocol.ErrInvalidScope.WithDescription("requested scope exceeds the original grant")
		}
		scope = req.Scope
	}
	user, err := g.currentUser(ctx, req.API.Name, rec)
	if err != nil {
		return nil, err
	}
	// Scopes may have been taken away since the login: the access token
	// carries only what the client and the user still have. The rotated
	// refresh token keeps the original grant's scope (RFC 6749 §6), so a
	// narrower refresh never loses the rest for good.
	scope = intersect(intersect(scope, req.Client.Scopes), user.Scopes)
	req.Tenant = rec.Tenant
	return issueUserTokens(ctx, g.tokens, req, userGrant{
		User: user, Scope: scope, GrantScope: original, Family: rec.FamilyID, FamilyExpiresAt: rec.FamilyExpiresAt,
	})
}

// currentUser returns the user a refresh token was issued to, if the user
// still exists with the same generation: a deleted or re-created user, or
// a changed password, ends the family (and its access tokens).
func (g *refreshToken) currentUser(ctx context.Context, api string, rec storage.IssuedToken) (storage.User, error) {
	user, err := g.store.GetUser(ctx, api, rec.Subject)
	switch {
	case errors.Is(err, storage.ErrNotFound):
	case err != nil:
		return user, err
	case user.Generation == rec.UserGeneration:
		return user, nil
	}
	if err := g.tokens.RevokeFamily(ctx, api, rec.FamilyID); err != nil {
		return user, err
	}
	return user, protocol.ErrInvalidGrant.WithDescription("the user was deleted, re-created or given a new password since this login")
}
