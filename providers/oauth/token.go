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
func (p *Provider) retrieve(ctx context.Context, c call, form url.Values) (*providers.TokenSet, error) {
	req, err := p.tokenRequest(ctx, c, form)
	if err != nil {
		return nil, fmt.Errorf("oauth: %s: %w", c.op, err)
	}
	return p.send(c.op, req)
}

// send makes a token request and reads its answer as retrieve does.
func (p *Provider) send(op string, req *http.Request) (*providers.TokenSet, error) {
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
	if resp.StatusCode < 200 || resp.StatusCode > 299 || ts.AccessToken == "" || answer["ok"] == false {
		code := p.errorCode(answer)
		status := resp.StatusCode
		if status >= 200 && status <= 299 && code != "" {
			status = http.StatusBadRequest // an error sent with 200
		}
		err := fmt.Errorf("oauth: %s: %w (status %d, error %q)", op, classifyTokenAnswer(status, code), resp.StatusCode, code)
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

// call is one kind of token request: its endpoint, client
// authentication (quirks.*_auth; auth_style when empty) and headers.
type call struct {
	op, url, auth string
	headers       map[string]string
}

// errorCode reads an error answer's code (at the first quirks.error_path
// present, else the RFC 6749 "error" string), mapped by
// quirks.error_codes and made fit for logs.
func (p *Provider) errorCode(answer map[string]any) string {
	var code string
	for _, path := range p.cfg.Config.Quirks.ErrorPath {
		if v, _ := lookup(answer, path); isScalar(v) {
			code = str(answer, path)
			break
		}
	}
	if code == "" {
		code, _ = answer["error"].(string)
	}
	if mapped, ok := p.cfg.Config.Quirks.ErrorCodes[code]; ok {
		code = mapped
	}
	return SafeCode(code)
}

// secret returns the client secret (Apple's is made per request).
func (p *Provider) secret() (string, error) {
	if p.cfg.ClientSecretFunc != nil {
		return p.cfg.ClientSecretFunc()
	}
	return p.cfg.ClientSecret, nil
}

// authStyle is the client authentication of a call: "header", "body" or
// "none".
func (p *Provider) authStyle(perCall string) string {
	switch {
	case perCall != "":
		return perCall
	case p.cfg.AuthStyle == providers.AuthStyleBody:
		return "body"
	}
	return "header"
}

// tokenRequest builds the POST with client authentication (RFC 6749
// §2.3.1) as the call wants it, a form or (quirks.request_body json) a
// JSON body, and the call's extra headers.
func (p *Provider) tokenRequest(ctx context.Context, c call, form url.Values) (*http.Request, error) {
	secret, err := p.secret()
	if err != nil {
		return nil, err
	}
	style := p.authStyle(c.auth)
	p.bodyCredentials(form, style, secret)
	rename(form, p.cfg.Config.Quirks.TokenRename)
	req, err := paramsRequest(ctx, http.MethodPost, c.url, p.cfg.Config.Quirks.RequestBody, form)
	if err != nil {
		return nil, err
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	if style == "header" {
		req.SetBasicAuth(url.QueryEscape(p.cfg.ClientID), url.QueryEscape(secret))
	}
	return req, nil
}

// rename renames parameters of form (quirks.token_rename,
// quirks.revocation.rename).
func rename(form url.Values, names map[string]string) {
	for from, to := range names {
		if v, ok := form[from]; ok {
			delete(form, from)
			form[to] = v
		}
	}
}

// paramsRequest makes a request carrying params as encoding says: a form
// body ("form" or empty), a JSON object ("json"), or the URL's query
// after any it has, with no body ("query").
func paramsRequest(ctx context.Context, method, target, encoding string, params url.Values) (*http.Request, error) {
	ctype, body := "application/x-www-form-urlencoded", params.Encode()
	switch encoding {
	case "json":
		ctype, body = "application/json", jsonBody(params)
	case "query":
		sep := "?"
		if strings.Contains(target, "?") {
			sep = "&"
		}
		ctype, body, target = "", "", target+sep+params.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, target, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	return req, nil
}

// bodyCredentials puts the client's credentials in a request form for
// client authentication style: client_id and client_secret for "body",
// client_id alone for a public client's "none".
func (p *Provider) bodyCredentials(form url.Values, style, secret string) {
	switch {
	case style == "body":
		form.Set("client_id", p.cfg.ClientID)
		form.Set("client_secret", secret)
	case style == "none" && p.cfg.Quirks.PublicClient:
		form.Set("client_id", p.cfg.ClientID)
	}
}

// jsonBody encodes a form as a JSON object of strings.
func jsonBody(form url.Values) string {
	m := make(map[string]string, len(form))
	for k := range form {
		m[k] = form.Get(k)
	}
	b, _ := json.Marshal(m)
	return string(b)
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

// isScalar reports whether v is a string or a number.
func isScalar(v any) bool {
	switch v.(type) {
	case string, json.Number:
		return true
	}
	return false
}

// splitPath splits a dot path; ".." starts a key with a dot (Dropbox's
// "error..tag" is error → ".tag").
func splitPath(path string) []string {
	parts := strings.Split(path, ".")
	out := make([]string, 0, len(parts))
	for i := 0; i < len(parts); i++ {
		if parts[i] == "" && i+1 < len(parts) {
			i++
			out = append(out, "."+parts[i])
			continue
		}
		out = append(out, parts[i])
	}
	return out
}

// lookup follows a dot path through nested objects; a number selects an
// array element.
func lookup(m any, path string) (any, bool) {
	cur := m
	for _, part := range splitPath(path) {
		switch obj := cur.(type) {
		case map[string]any:
			v, ok := obj[part]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(obj) {
				return nil, false
			}
			cur = obj[i]
		default:
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

// field reads a token field by quirks.paths (the first path present
// wins), else by the entry's single path, else by its RFC 6749 name.
func (p *Provider) field(a map[string]any, name, single string) string {
	paths := p.cfg.Config.Quirks.Paths[name]
	if len(paths) == 0 {
		paths = []string{orDefault(single, name)}
	}
	for _, path := range paths {
		if _, ok := lookup(a, path); ok {
			return str(a, path)
		}
	}
	return ""
}

// tokenSet extracts the token set, applying the default lifetime.
func (p *Provider) tokenSet(a map[string]any) *providers.TokenSet {
	q := p.cfg.Quirks
	ts := &providers.TokenSet{
		AccessToken:  p.field(a, "access_token", q.AccessTokenPath),
		RefreshToken: p.field(a, "refresh_token", q.RefreshTokenPath),
		TokenType:    p.field(a, "token_type", q.TokenTypePath),
		Scope:        p.field(a, "scope", q.ScopePath),
		IDToken:      p.field(a, "id_token", ""),
	}
	if ts.TokenType == "" || strings.EqualFold(ts.TokenType, "bearer") {
		ts.TokenType = "Bearer"
	}
	if exp, ok := p.expiry(p.field(a, "expires_in", q.ExpiresInPath)); ok {
		ts.Expiry = exp
	} else if p.lifetime > 0 {
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

// expiry reads an expiry as quirks.expiry says it is given: seconds from
// now (the default), milliseconds from now, an absolute Unix time or an
// RFC 3339 time. ok is false when v is absent or unusable.
func (p *Provider) expiry(v string) (time.Time, bool) {
	if v == "" {
		return time.Time{}, false
	}
	if p.cfg.Config.Quirks.Expiry == "rfc3339" {
		t, err := time.Parse(time.RFC3339, v)
		return t, err == nil
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil || n <= 0 {
		return time.Time{}, false
	}
	unit := time.Second
	switch p.cfg.Config.Quirks.Expiry {
	case "milliseconds":
		unit = time.Millisecond
	case "unix":
		return time.Unix(int64(min(n, maxUnix)), 0).UTC(), true
	}
	// A huge relative expiry would overflow time.Duration and land in the
	// past (a refresh on every request): cap it at maxLifetime.
	return p.now().Add(time.Duration(min(n*float64(unit), float64(maxLifetime)))), true
}

// maxLifetime caps a relative expiry an upstream answers; maxUnix caps an
// absolute one (year 9999).
const (
	maxLifetime = 100 * 365 * 24 * time.Hour
	maxUnix     = 253402300799
)

// parseJSON reads any JSON value (an object or an array), numbers kept
// as json.Number.
func parseJSON(body []byte) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil, false
	}
	return v, true
}
