package grants

import (
	"context"
	"errors"

	"github.com/oauth2broker/oauth2broker/broker/connections"
	"github.com/oauth2broker/oauth2broker/broker/connerr"
	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/broker/tokens"
)

// Token type URIs of RFC 8693 §3.
const tokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"

// tokenExchange is RFC 8693 token exchange: a client presents a broker
// access token issued to an end user (password grant, sub = the user) and
// names a provider as the resource; it gets that user's upstream access
// token, so a resource-side service never handles identities or refresh
// tokens. Only the client the subject token was issued to may exchange it,
// for a connection it made itself: a client never reaches another
// client's connections.
type tokenExchange struct {
	conns  *connections.Manager
	tokens *tokens.Issuer
}

var _ Grant = (*tokenExchange)(nil)

func (g *tokenExchange) Handle(ctx context.Context, req *Request) (*Response, error) {
	p := req.Params
	if p.Get("subject_token") == "" || p.Get("subject_token_type") != tokenTypeAccessToken {
		return nil, protocol.ErrInvalidRequest.WithDescription("subject_token and subject_token_type " + tokenTypeAccessToken + " are required")
	}
	if t := p.Get("requested_token_type"); t != "" && t != tokenTypeAccessToken {
		return nil, protocol.ErrInvalidRequest.WithDescription("only access tokens can be requested")
	}
	provider := p.Get("resource")
	if provider == "" {
		provider = p.Get("audience")
	}
	if provider == "" {
		return nil, protocol.ErrInvalidTarget.WithDescription("resource (the provider name) is required")
	}
	// An invalid, expired or unacceptable subject_token is invalid_request
	// (RFC 8693 §2.2.2), not invalid_grant.
	claims, err := g.tokens.VerifyActive(ctx, req.API, p.Get("subject_token"))
	if errors.Is(err, tokens.ErrInvalidToken) {
		return nil, protocol.ErrInvalidRequest.WithDescription("subject_token is invalid, expired or revoked")
	}
	if err != nil {
		return nil, err
	}
	if claims.Username == "" {
		return nil, protocol.ErrInvalidRequest.WithDescription("subject_token was not issued to an end user")
	}
	if claims.ClientID != req.Client.ID {
		// A client may only reach the connections it made itself.
		return nil, protocol.ErrInvalidRequest.WithDescription("subject_token was issued to another client")
	}
	res, err := g.conns.Token(ctx, req.API, connections.TokenRequest{ClientID: claims.ClientID, Identity: claims.Username, Provider: provider})
	err = connerr.Answer(err)
	if errors.Is(err, protocol.ErrInvalidRequest) {
		return nil, protocol.ErrInvalidTarget.WithDescription("unknown provider")
	}
	if err != nil {
		return nil, err
	}
	r := connectionResponse(req, res)
	r.RefreshToken = ""
	r.Extra = map[string]any{"issued_token_type": tokenTypeAccessToken}
	return r, nil
}
