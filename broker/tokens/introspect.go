package tokens

import (
	"context"
	"errors"

	"github.com/oauth2broker/oauth2broker/storage"
)

// Introspection is an RFC 7662 §2.2 answer.
type Introspection struct {
	Active   bool   `json:"active"`
	Scope    string `json:"scope,omitempty"`
	ClientID string `json:"client_id,omitempty"`
	Username string `json:"username,omitempty"`
	// TokenType is the access token's type (RFC 7662 §2.2 refers to
	// RFC 6749 §5.1): "Bearer"; absent for a refresh token, which has
	// none, so that no resource server takes one for an access token.
	TokenType string `json:"token_type,omitempty"`
	// TokenUse says which kind of token this is, "access_token" or
	// "refresh_token" (an extension member, as in Ory Hydra).
	TokenUse string   `json:"token_use,omitempty"`
	Expiry   int64    `json:"exp,omitempty"`
	IssuedAt int64    `json:"iat,omitempty"`
	Subject  string   `json:"sub,omitempty"`
	Audience []string `json:"aud,omitempty"`
	Issuer   string   `json:"iss,omitempty"`
	ID       string   `json:"jti,omitempty"`
	Tenant   string   `json:"tenant,omitempty"`
}

// Introspect tells whether a token the broker issued for api is active
// (RFC 7662): a live, unrevoked access token or refresh token. Anything
// else, including another API's tokens, is {"active": false}.
func (i *Issuer) Introspect(ctx context.Context, api storage.API, token string, hint string) (Introspection, error) {
	lookups := []func(context.Context, storage.API, string) (Introspection, error){i.introspectAccess, i.introspectRefresh}
	if hint == "refresh_token" {
		lookups[0], lookups[1] = lookups[1], lookups[0]
	}
	for _, lookup := range lookups {
		if in, err := lookup(ctx, api, token); err != nil || in.Active {
			return in, err
		}
	}
	return Introspection{}, nil
}

func (i *Issuer) introspectAccess(ctx context.Context, api storage.API, token string) (Introspection, error) {
	c, err := i.VerifyActive(ctx, api, token)
	if errors.Is(err, ErrInvalidToken) {
		return Introspection{}, nil
	}
	if err != nil {
		return Introspection{}, err
	}
	return Introspection{
		Active: true, Scope: c.Scope, ClientID: c.ClientID, Username: c.Username, TokenType: "Bearer", TokenUse: "access_token",
		Expiry: c.Expiry.Time().Unix(), IssuedAt: c.IssuedAt.Time().Unix(), Subject: c.Subject,
		Audience: c.Audience, Issuer: c.Issuer, ID: c.ID, Tenant: c.Tenant,
	}, nil
}

func (i *Issuer) introspectRefresh(ctx context.Context, api storage.API, token string) (Introspection, error) {
	rec, err := i.liveRefresh(ctx, api.Name, token)
	if errors.Is(err, ErrInvalidToken) || (err == nil && !rec.UsedAt.IsZero()) {
		return Introspection{}, nil
	}
	if err != nil {
		return Introspection{}, err
	}
	// The refresh grant refuses a token of a deleted, re-created or
	// re-passworded user: introspection says so too.
	if u, err := i.store.GetUser(ctx, api.Name, rec.Subject); errors.Is(err, storage.ErrNotFound) || (err == nil && u.Generation != rec.UserGeneration) {
		return Introspection{}, nil
	} else if err != nil {
		return Introspection{}, err
	}
	in := Introspection{
		Active: true, Scope: rec.Scope, ClientID: rec.ClientID, TokenUse: "refresh_token",
		Expiry: rec.ExpiresAt.Unix(), IssuedAt: rec.IssuedAt.Unix(), Subject: rec.Subject,
		Issuer: i.IssuerURL(api.Name), Tenant: rec.Tenant,
	}
	if rec.Subject != rec.ClientID {
		in.Username = rec.Subject
	}
	return in, nil
}

// VerifyActive checks an access token of api like Verify and also that it
// was not revoked (by itself or through its refresh-token family).
func (i *Issuer) VerifyActive(ctx context.Context, api storage.API, token string) (*Claims, error) {
	c, err := i.Verify(ctx, api, token)
	if err != nil {
		return nil, err
	}
	revoked, err := i.accessRevoked(ctx, api.Name, c)
	if err != nil {
		return nil, err
	}
	if revoked {
		return nil, ErrInvalidToken
	}
	return c, nil
}
