package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"

	"github.com/oauth2broker/oauth2broker/providers"
)

// Revoke implements providers.Revoker with RFC 7009: it revokes the
// refresh token (which ends the grant) or, without one, the access token.
func (p *Provider) Revoke(ctx context.Context, ts *providers.TokenSet) error {
	if p.revocationURL == "" {
		return providers.ErrRevocationUnsupported
	}
	token, hint := ts.RefreshToken, "refresh_token"
	if token == "" {
		token, hint = ts.AccessToken, "access_token"
	}
	form := url.Values{"token": {token}, "token_type_hint": {hint}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.revocationURL, nil)
	if err != nil {
		return fmt.Errorf("oauth: revoke: %w", err)
	}
	if p.authStyle == oauth2.AuthStyleInParams {
		form.Set("client_id", p.conf.ClientID)
		form.Set("client_secret", p.conf.ClientSecret)
	} else {
		req.SetBasicAuth(url.QueryEscape(p.conf.ClientID), url.QueryEscape(p.conf.ClientSecret))
	}
	req.Body = io.NopCloser(strings.NewReader(form.Encode()))
	req.ContentLength = int64(len(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := p.client.Do(req)
	if err != nil {
		return Classify("revoke", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	var e struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	return fmt.Errorf("oauth: revoke: %w (status %d, error %q)", classifyAnswer(resp.StatusCode, e.Error), resp.StatusCode, e.Error)
}
