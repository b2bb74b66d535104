package grants

import (
	"context"
	"fmt"
	"strconv"

	"github.com/oauth2broker/oauth2broker/broker/connections"
	"github.com/oauth2broker/oauth2broker/broker/connerr"
	"github.com/oauth2broker/oauth2broker/broker/protocol"
)

// connection is the broker's own grant
// (urn:oauth2broker:grant-type:connection, or no grant_type with a
// client_user_identity): it answers the upstream token set of one of the
// client's connections, refreshed first when needed.
type connection struct {
	conns *connections.Manager
}

var _ Grant = (*connection)(nil)

func (g *connection) Handle(ctx context.Context, req *Request) (*Response, error) {
	force, err := parseBool(req.Params.Get("force_refresh"))
	if err != nil {
		return nil, err
	}
	res, err := g.conns.Token(ctx, req.API, connections.TokenRequest{
		ClientID: req.Client.ID, Identity: req.Params.Get("client_user_identity"), Provider: req.Params.Get("provider"), Force: force,
	})
	if err != nil {
		return nil, connerr.Answer(err)
	}
	return connectionResponse(req, res), nil
}

// parseBool reads force_refresh: true/false as JSON booleans or strings.
func parseBool(s string) (bool, error) {
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, protocol.ErrInvalidRequest.WithDescription(fmt.Sprintf("force_refresh must be true or false, not %q", truncate(s)))
	}
	return b, nil
}

// connectionResponse is the answer carrying an upstream token set: RFC
// 6749 §5.1 members plus expires_at, id_token, provider and
// client_user_identity; the upstream refresh token only when the API
// exposes it.
func connectionResponse(req *Request, res *connections.Result) *Response {
	ts := res.Tokens
	r := &Response{AccessToken: ts.AccessToken, TokenType: ts.TokenType, Scope: ts.Scope, Extra: map[string]any{
		"provider": res.Conn.Provider, "client_user_identity": res.Conn.Identity,
	}}
	for k, v := range ts.Extra {
		r.Extra[k] = v
	}
	if !ts.Expiry.IsZero() {
		r.ExpiresIn = max(int64(ts.Expiry.Sub(req.Now).Seconds()), 1)
		r.Extra["expires_at"] = ts.Expiry.Unix()
	}
	if ts.IDToken != "" {
		r.Extra["id_token"] = ts.IDToken
	}
	if req.API.ExposeRefreshToken {
		r.RefreshToken = ts.RefreshToken
	}
	return r
}
