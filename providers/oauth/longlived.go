package oauth

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"

	"github.com/oauth2broker/oauth2broker/providers"
)

// longLived makes the call of quirks.long_lived.exchange after a code
// exchange: the first answer's access token is traded for a long-lived
// one, whose access token, expiry and token type replace the first's
// (Meta's short-lived → long-lived ladder). With quirks.long_lived.refresh
// the long-lived token is also the connection's refresh credential.
// Without quirks.long_lived it returns first.
func (p *Provider) longLived(ctx context.Context, first *providers.TokenSet) (*providers.TokenSet, error) {
	ll := p.cfg.Config.Quirks.LongLived
	if ll == nil {
		return first, nil
	}
	second, err := p.tokenCall(ctx, "long-lived exchange", ll.Exchange, first.AccessToken)
	if err != nil {
		return nil, err
	}
	out := *first
	out.AccessToken, out.Expiry, out.TokenType = second.AccessToken, second.Expiry, second.TokenType
	if second.RefreshToken != "" {
		out.RefreshToken = second.RefreshToken
	}
	if len(second.Extra) > 0 {
		out.Extra = maps.Clone(first.Extra)
		if out.Extra == nil {
			out.Extra = map[string]any{}
		}
		maps.Copy(out.Extra, second.Extra)
	}
	if ll.Refresh != nil {
		out.RefreshToken = out.AccessToken
	}
	return &out, nil
}

// refreshLongLived refreshes a long-lived token with itself (Instagram's
// ig_refresh_token); the new token is the next refresh's credential.
func (p *Provider) refreshLongLived(ctx context.Context, ts *providers.TokenSet, c providers.TokenCall) (*providers.TokenSet, error) {
	out, err := p.tokenCall(ctx, "refresh", c, ts.AccessToken)
	if err != nil {
		return nil, err
	}
	out.RefreshToken = out.AccessToken
	return p.refreshed(ctx, out, ts), nil
}

// tokenCall makes a token request outside RFC 6749 (providers.TokenCall):
// GET with the parameters in the query, or POST with a form, the values'
// {access_token}, {client_id} and {client_secret} filled in; its answer
// is read as any token answer.
func (p *Provider) tokenCall(ctx context.Context, op string, c providers.TokenCall, token string) (*providers.TokenSet, error) {
	secret, err := p.secret()
	if err != nil {
		return nil, fmt.Errorf("oauth: %s: %w", op, err)
	}
	fill := map[string]string{"access_token": token, "client_id": p.cfg.ClientID, "client_secret": secret}
	params := url.Values{}
	for k, v := range c.Params {
		params.Set(k, providers.FillVars(v, fill))
	}
	method, encoding := http.MethodGet, "query"
	if c.Method == http.MethodPost {
		method, encoding = http.MethodPost, "form"
	}
	req, err := paramsRequest(ctx, method, c.URL, encoding, params)
	if err != nil {
		return nil, fmt.Errorf("oauth: %s: %w", op, err)
	}
	req.Header.Set("Accept", "application/json")
	return p.send(op, req)
}
