package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/oauth2broker/oauth2broker/providers"
)

// retrieve makes one token request and reads the answer, whatever its
// shape: JSON (even mislabelled) or form-encoded, nested fields, errors
// sent with status 200.
func (p *Provider) retrieve(ctx context.Context, op string, form url.Values) (*providers.TokenSet, error) {
	req, err := p.tokenRequest(ctx, form)
	if err != nil {
		return nil, fmt.Errorf("oauth: %s: %w", op, err)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, Classify(op, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body) // bounded by outbound.Guard
	if err != nil {
		return nil, Classify(op, err)
	}
	answer := parseAnswer(resp.Header.Get("Content-Type"), body)
	ts := p.tokenSet(answer)
	if resp.StatusCode < 200 || resp.StatusCode > 299 || ts.AccessToken == "" {
		code, _ := answer["error"].(string)
		code = safeCode(code)
		status := resp.StatusCode
		if status >= 200 && status <= 299 && code != "" {
			status = http.StatusBadRequest // an error sent with 200
		}
		err := fmt.Errorf("oauth: %s: %w (status %d, error %q)", op, classifyAnswer(status, code), resp.StatusCode, code)
		return nil, p.withRetryAfter(err, resp)
	}
	return ts, nil
}

// withRetryAfter makes err a *providers.RetryAfterError when the answer
// is a 429, or a 503 with a Retry-After header, so that callers can wait
// as long as the upstream asks.
func (p *Provider) withRetryAfter(err error, resp *http.Response) error {
	after, ok := parseRetryAfter(resp.Header.Get("Retry-After"), p.now())
	if resp.StatusCode != http.StatusTooManyRequests && (resp.StatusCode != http.StatusServiceUnavailable || !ok) {
		return err
	}
	return &providers.RetryAfterError{Status: resp.StatusCode, After: after, Err: err}
}

// parseRetryAfter reads a Retry-After value (RFC 9110 §10.2.3):
// delay-seconds or an HTTP date, relative to now. A date in the past
// means no wait. ok is false when the value is absent or malformed.
func parseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(secs) * time.Second, true
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(at.Sub(now), 0), true
}

// tokenRequest builds the POST with client authentication (RFC 6749
// §2.3.1): HTTP Basic unless the provider wants the secret in the body.
func (p *Provider) tokenRequest(ctx context.Context, form url.Values) (*http.Request, error) {
	secret := p.cfg.ClientSecret
	if p.cfg.ClientSecretFunc != nil {
		s, err := p.cfg.ClientSecretFunc()
		if err != nil {
			return nil, err
		}
		secret = s
	}
	basic := p.cfg.AuthStyle != providers.AuthStyleBody
	if !basic {
		form.Set("client_id", p.cfg.ClientID)
		form.Set("client_secret", secret)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.cfg.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if basic {
		req.SetBasicAuth(url.QueryEscape(p.cfg.ClientID), url.QueryEscape(secret))
	}
	return req, nil
}

// parseAnswer reads a JSON object, or a form when the answer says it is
// one or is not JSON.
func parseAnswer(contentType string, body []byte) map[string]any {
	mt, _, _ := mime.ParseMediaType(contentType)
	trimmed := bytes.TrimSpace(body)
	if mt != "application/x-www-form-urlencoded" && bytes.HasPrefix(trimmed, []byte("{")) {
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.UseNumber()
		var m map[string]any
		if dec.Decode(&m) == nil {
			return m
		}
	}
	values, err := url.ParseQuery(string(trimmed))
	if err != nil {
		return map[string]any{}
	}
	m := make(map[string]any, len(values))
	for k := range values {
		m[k] = values.Get(k)
	}
	return m
}

// lookup follows a dot path through nested objects.
func lookup(m map[string]any, path string) (any, bool) {
	var cur any = m
	for _, part := range strings.Split(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func str(m map[string]any, path string) string {
	v, _ := lookup(m, path)
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case []any: // a scope sent as a JSON array (Twitch)
		parts := make([]string, 0, len(v))
		for _, p := range v {
			if s, ok := p.(string); ok {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, " ")
	}
	return ""
}

// tokenSet extracts the token set, applying the default lifetime.
func (p *Provider) tokenSet(a map[string]any) *providers.TokenSet {
	q := p.cfg.Quirks
	ts := &providers.TokenSet{
		AccessToken:  str(a, orDefault(q.AccessTokenPath, "access_token")),
		RefreshToken: str(a, orDefault(q.RefreshTokenPath, "refresh_token")),
		TokenType:    str(a, orDefault(q.TokenTypePath, "token_type")),
		Scope:        str(a, orDefault(q.ScopePath, "scope")),
		IDToken:      str(a, "id_token"),
	}
	if ts.TokenType == "" || strings.EqualFold(ts.TokenType, "bearer") {
		ts.TokenType = "Bearer"
	}
	secs, err := strconv.ParseFloat(str(a, orDefault(q.ExpiresInPath, "expires_in")), 64)
	switch {
	case err == nil && secs > 0:
		ts.Expiry = p.now().Add(time.Duration(secs) * time.Second)
	case p.lifetime > 0:
		ts.Expiry = p.now().Add(p.lifetime)
	}
	for _, path := range q.Keep {
		if v, ok := lookup(a, path); ok {
			if ts.Extra == nil {
				ts.Extra = map[string]any{}
			}
			ts.Extra[path] = v
		}
	}
	return ts
}
