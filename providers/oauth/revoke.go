package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
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
	u, err := keptInPath(u, ts)
	if err != nil {
		return err
	}
	var req *http.Request
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
		req, err = p.rfc7009Request(ctx, u, ts, rv.Revocation)
	}
	if err != nil {
		return fmt.Errorf("oauth: revoke: %w", err)
	}
	return p.revokeCall(req)
}

// rfc7009Request builds an RFC 7009 revocation as the provider wants
// it: the token, its hint (unless dropped), client authentication by
// quirks.revocation_auth, parameters renamed, encoded by
// quirks.revocation_body, sent with rv.Method (POST by default).
func (p *Provider) rfc7009Request(ctx context.Context, u string, ts *providers.TokenSet, rv providers.Revocation) (*http.Request, error) {
	token, hint := ts.RefreshToken, "refresh_token"
	if token == "" || rv.Token == "access_token" {
		token, hint = ts.AccessToken, "access_token"
	}
	form := url.Values{"token": {token}, "token_type_hint": {hint}}
	for _, d := range rv.Drop {
		form.Del(d)
	}
	secret, err := p.secret()
	if err != nil {
		return nil, err
	}
	q := p.cfg.Config.Quirks
	style := p.authStyle(q.RevocationAuth)
	p.bodyCredentials(form, style, secret)
	rename(form, rv.Rename)
	req, err := paramsRequest(ctx, orDefault(rv.Method, http.MethodPost), u, q.RevocationBody, form)
	if err != nil {
		return nil, err
	}
	for k, v := range q.RevocationHeaders {
		req.Header.Set(k, v)
	}
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

// keptInPath fills the {name}s left in a revocation URL (providers.
// KeptNames, in its path) from the connection's kept fields, path-escaped.
// A connection without the field cannot be revoked this way.
func keptInPath(u string, ts *providers.TokenSet) (string, error) {
	var missing string
	out := providers.VarRE.ReplaceAllStringFunc(u, func(m string) string {
		name := m[1 : len(m)-1]
		v, ok := extraString(ts.Extra[name])
		if !ok || v == "" || v == "." || v == ".." {
			missing = name
			return m
		}
		return url.PathEscape(v)
	})
	if missing != "" {
		return "", fmt.Errorf("oauth: revoke: %w: the connection has no kept %s for the revocation URL", providers.ErrRevocationUnsupported, missing)
	}
	return out, nil
}

// extraString renders a kept scalar (a string, or a number as the answer
// or the store gave it).
func extraString(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case int:
		return strconv.Itoa(v), true
	case int64:
		return strconv.FormatInt(v, 10), true
	}
	return "", false
}
