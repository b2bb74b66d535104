package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/oauth2broker/oauth2broker/providers"
)

// Revoke implements providers.Revoker by the provider's revocation kind:
// RFC 7009 (the refresh token, which ends the grant, unless the provider
// wants the access token), GitHub's grant deletion, or a call carrying the
// access token as a Bearer credential.
func (p *Provider) Revoke(ctx context.Context, ts *providers.TokenSet) error {
	rv := p.cfg.Quirks.Revocation
	u := orDefault(rv.URL, p.cfg.RevocationURL)
	if rv.Kind == RevokeNone || u == "" {
		return providers.ErrRevocationUnsupported
	}
	u = strings.ReplaceAll(u, "{client_id}", url.PathEscape(p.cfg.ClientID))
	var req *http.Request
	var err error
	switch rv.Kind {
	case RevokeGitHubGrant:
		body, _ := json.Marshal(map[string]string{"access_token": ts.AccessToken})
		if req, err = http.NewRequestWithContext(ctx, http.MethodDelete, u, bytes.NewReader(body)); err == nil {
			req.SetBasicAuth(p.cfg.ClientID, p.cfg.ClientSecret)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/vnd.github+json")
		}
	case RevokeBearer:
		if req, err = http.NewRequestWithContext(ctx, orDefault(rv.Method, http.MethodPost), u, nil); err == nil {
			req.Header.Set("Authorization", "Bearer "+ts.AccessToken)
		}
	default:
		req, err = p.rfc7009Request(ctx, u, ts, rv.Token)
	}
	if err != nil {
		return fmt.Errorf("oauth: revoke: %w", err)
	}
	return p.revokeCall(req)
}

func (p *Provider) rfc7009Request(ctx context.Context, u string, ts *providers.TokenSet, which string) (*http.Request, error) {
	token, hint := ts.RefreshToken, "refresh_token"
	if token == "" || which == "access_token" {
		token, hint = ts.AccessToken, "access_token"
	}
	form := url.Values{"token": {token}, "token_type_hint": {hint}}
	secret, err := p.secret()
	if err != nil {
		return nil, err
	}
	q := p.cfg.Config.Quirks
	style := p.authStyle(q.RevocationAuth)
	p.bodyCredentials(form, style, secret)
	ctype, body := "application/x-www-form-urlencoded", form.Encode()
	if q.RevocationBody == "json" {
		ctype, body = "application/json", jsonBody(form)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, v := range q.RevocationHeaders {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", ctype)
	if style == "header" {
		req.SetBasicAuth(url.QueryEscape(p.cfg.ClientID), url.QueryEscape(secret))
	}
	return req, nil
}

// revokeCall sends a revocation and classifies the answer: any 2xx is
// success (GitHub answers 204); Slack-style {"ok":false} is not.
func (p *Provider) revokeCall(req *http.Request) error {
	resp, err := p.client.Do(req)
	if err != nil {
		return Classify("revoke", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	a := parseAnswer(resp.Header.Get("Content-Type"), body)
	code := p.errorCode(a)
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 && a["ok"] != false {
		return nil
	}
	return fmt.Errorf("oauth: revoke: %w (status %d, error %q)", classifyAnswer(resp.StatusCode, code), resp.StatusCode, code)
}
