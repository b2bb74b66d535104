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
	// The user may have been deleted, and scopes taken away, since the
	// login: the new tokens carry only what both still have.
	user, err := g.store.GetUser(ctx, req.API.Name, rec.Subject)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, protocol.ErrInvalidGrant.WithDescription("the user no longer exists")
	} else if err != nil {
		return nil, err
	}
	scope = intersect(intersect(scope, req.Client.Scopes), user.Scopes)
	req.Tenant = rec.Tenant
	return issueUserTokens(ctx, g.tokens, req, rec.Subject, scope, rec.FamilyID)
}
