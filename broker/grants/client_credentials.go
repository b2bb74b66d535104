package grants

import (
	"context"

	"github.com/oauth2broker/oauth2broker/broker/tokens"
)

// clientCredentials is the client_credentials grant (RFC 6749 §4.4): the
// client gets an access token for itself. No refresh token is issued
// (§4.4.3).
type clientCredentials struct {
	tokens *tokens.Issuer
}

var _ Grant = (*clientCredentials)(nil)

func (g *clientCredentials) Handle(ctx context.Context, req *Request) (*Response, error) {
	scope := req.Scope
	if scope == nil {
		scope = req.Client.Scopes
	}
	at, err := g.tokens.Issue(ctx, req.API, tokens.AccessRequest{
		Subject: req.Client.ID, ClientID: req.Client.ID, Scope: joinScope(scope), Tenant: req.Tenant,
		TTL: accessTTL(req.API, req.Client),
	})
	if err != nil {
		return nil, err
	}
	return bearer(at, "", scope), nil
}
