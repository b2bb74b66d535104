package broker_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// verifyJWT checks a token against the API's published JWKS and returns
// its claims and header algorithm.
func (e *env) verifyJWT(api, token string) (map[string]any, string) {
	e.t.Helper()
	parsed, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		e.t.Fatalf("access token is not a signed JWT: %v", err)
	}
	jwks := e.do(mustReq("GET", e.URL+"/"+api+"/oauth2/jwks"))
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(jwks.Raw), &set); err != nil {
		e.t.Fatalf("jwks: %v", err)
	}
	keys := set.Key(parsed.Headers[0].KeyID)
	if len(keys) != 1 {
		e.t.Fatalf("jwks has no key %q", parsed.Headers[0].KeyID)
	}
	var claims map[string]any
	if err := parsed.Claims(keys[0].Key, &claims); err != nil {
		e.t.Fatalf("signature does not verify with the JWKS key: %v", err)
	}
	return claims, parsed.Headers[0].Algorithm
}

func mustReq(method, u string) *http.Request {
	r, _ := http.NewRequest(method, u, nil)
	return r
}

// MachPanel: POST <panel>/api/token with grant_type=password and the API
// login set by the admin, no client credentials at all.
func TestUseCaseMachPanelPasswordGrant(t *testing.T) {
	e := newEnv(t)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "machpanel", "token_paths": []string{"/api/token"}, "access_token_ttl": "30m"})
	id, _ := e.client("machpanel", map[string]any{"name": "panel", "grant_types": []string{"password", "refresh_token"}, "scopes": []string{"api"}})
	e.mustAdmin(201, "POST", "/apis/machpanel/users", map[string]any{"username": "reseller1", "password": "Sup3r-secret", "scopes": []string{"api"}})
	e.mustAdmin(200, "PATCH", "/apis/machpanel", map[string]any{"default_client": id})

	a := e.form("POST", "/api/token", url.Values{"grant_type": {"password"}, "username": {"reseller1"}, "password": {"Sup3r-secret"}}, "", "")
	if a.Status != 200 || a.str("token_type") != "Bearer" || a.Body["expires_in"] != float64(1800) || a.str("refresh_token") == "" {
		t.Fatalf("password grant at /api/token: got %d %s, want 200 Bearer, expires_in 1800, a refresh_token", a.Status, a.Raw)
	}
	if a.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control: got %q, want no-store", a.Header.Get("Cache-Control"))
	}
	claims, _ := e.verifyJWT("machpanel", a.str("access_token"))
	if claims["sub"] != "reseller1" || claims["client_id"] != id || claims["iss"] != e.URL+"/machpanel" || claims["scope"] != "api" {
		t.Errorf("claims: got %v, want sub reseller1, client_id %s, iss %s/machpanel, scope api", claims, id, e.URL)
	}
	bad := e.form("POST", "/api/token", url.Values{"grant_type": {"password"}, "username": {"reseller1"}, "password": {"wrong"}}, "", "")
	if bad.Status != 400 || bad.str("error") != "invalid_grant" {
		t.Errorf("wrong password: got %d %s, want 400 invalid_grant", bad.Status, bad.Raw)
	}

	// The refresh token rotates on every use; reuse revokes the family.
	r1 := a.str("refresh_token")
	b := e.form("POST", "/machpanel/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r1}}, "", "")
	if b.Status != 401 {
		t.Errorf("refresh without client credentials: got %d, want 401 (only the password grant falls back to the default client)", b.Status)
	}
}

// d.vinci: per API user, client_credentials at /plt/oauth2/token with
// client_id (the user name) and client_secret in the form, 7-minute TTL.
func TestUseCaseDVinciClientCredentials(t *testing.T) {
	e := newEnv(t)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "plt", "token_paths": []string{"/plt/oauth2/token"}})
	id, sec := e.client("plt", map[string]any{"client_id": "erp-sync", "grant_types": []string{"client_credentials"}, "scopes": []string{"orders:read"}, "access_token_ttl": "7m"})
	if id != "erp-sync" || len(sec) < 43 {
		t.Fatalf("client: got id %q and a %d-char secret, want erp-sync and ≥43 chars", id, len(sec))
	}
	a := e.form("POST", "/plt/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {sec}}, "", "")
	if a.Status != 200 || a.Body["expires_in"] != float64(420) || a.str("scope") != "orders:read" {
		t.Fatalf("got %d %s, want 200 with expires_in 420 and scope orders:read", a.Status, a.Raw)
	}
	claims, alg := e.verifyJWT("plt", a.str("access_token"))
	if alg != "ES256" || claims["sub"] != "erp-sync" {
		t.Errorf("got alg %s sub %v, want ES256 and erp-sync", alg, claims["sub"])
	}
	// The secret is shown once: listing never shows it.
	list := e.mustAdmin(200, "GET", "/apis/plt/clients", nil)
	if strings.Contains(list.Raw, sec) || strings.Contains(list.Raw, "secret") {
		t.Errorf("client list shows secret material: %s", list.Raw)
	}
	// Rotating the secret stops the old one at once.
	rot := e.mustAdmin(200, "POST", "/apis/plt/clients/erp-sync/secret", nil)
	old := e.form("POST", "/plt/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, id, sec)
	if old.Status != 401 || old.str("error") != "invalid_client" || !strings.HasPrefix(old.Header.Get("WWW-Authenticate"), "Basic") {
		t.Errorf("old secret after rotation: got %d %s (WWW-Authenticate %q), want 401 invalid_client with Basic challenge", old.Status, old.Raw, old.Header.Get("WWW-Authenticate"))
	}
	if n := e.form("POST", "/plt/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, id, rot.str("client_secret")); n.Status != 200 {
		t.Errorf("new secret: got %d %s, want 200", n.Status, n.Raw)
	}
	wide := e.form("POST", "/plt/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"orders:write"}}, id, rot.str("client_secret"))
	if wide.Status != 400 || wide.str("error") != "invalid_scope" {
		t.Errorf("scope beyond the client's: got %d %s, want 400 invalid_scope", wide.Status, wide.Raw)
	}
}

// configapi: client_credentials with a required tenant, RS256 JWTs.
func TestUseCaseConfigAPITenantRS256(t *testing.T) {
	e := newEnv(t)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "configapi", "tenants": []string{"acme", "globex"}, "token_paths": []string{"/configapi/v2/oauth/token"}, "signing_alg": "RS256"})
	id, sec := e.client("configapi", map[string]any{"grant_types": []string{"client_credentials"}})
	path := "/configapi/v2/oauth/token"
	a := e.form("POST", path, url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {sec}, "tenant": {"acme"}}, "", "")
	if a.Status != 200 || a.str("token_type") != "Bearer" || a.Body["expires_in"] != float64(3600) {
		t.Fatalf("got %d %s, want 200 Bearer with the default 3600 s", a.Status, a.Raw)
	}
	claims, alg := e.verifyJWT("configapi", a.str("access_token"))
	if alg != "RS256" || claims["tenant"] != "acme" {
		t.Errorf("got alg %s tenant %v, want RS256 and acme", alg, claims["tenant"])
	}
	for name, tenant := range map[string]string{"missing": "", "unknown": "initech"} {
		v := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {sec}}
		if tenant != "" {
			v.Set("tenant", tenant)
		}
		b := e.form("POST", path, v, "", "")
		if b.Status != 400 || b.str("error") != "invalid_request" {
			t.Errorf("%s tenant: got %d %s, want 400 invalid_request", name, b.Status, b.Raw)
		}
	}
	md := e.do(mustReq("GET", e.URL+"/.well-known/oauth-authorization-server/configapi"))
	if md.Status != 200 || md.str("issuer") != e.URL+"/configapi" || md.str("jwks_uri") != e.URL+"/configapi/oauth2/jwks" {
		t.Errorf("RFC 8414 metadata: got %d %s", md.Status, md.Raw)
	}
	md2 := e.do(mustReq("GET", e.URL+"/configapi/.well-known/oauth-authorization-server"))
	if md2.Raw != md.Raw {
		t.Errorf("metadata differs between its two locations: %s vs %s", md2.Raw, md.Raw)
	}
}

// golang.org/x/oauth2's clientcredentials package gets a token, and a
// client introspects it.
func TestXOAuth2ClientCredentials(t *testing.T) {
	e := newEnv(t)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "shop"})
	id, sec := e.client("shop", map[string]any{"grant_types": []string{"client_credentials"}, "scopes": []string{"read", "write"}})
	for _, style := range []struct {
		name  string
		style oauth2.AuthStyle
	}{{"basic", oauth2.AuthStyleInHeader}, {"post", oauth2.AuthStyleInParams}} {
		cfg := clientcredentials.Config{ClientID: id, ClientSecret: sec, TokenURL: e.URL + "/shop/oauth2/token", Scopes: []string{"read"}, AuthStyle: style.style}
		tok, err := cfg.Token(context.Background())
		if err != nil {
			t.Fatalf("%s: x/oauth2 clientcredentials: %v", style.name, err)
		}
		if tok.TokenType != "Bearer" || tok.Expiry.IsZero() || tok.Extra("scope") != "read" {
			t.Errorf("%s: got %+v scope %v, want Bearer with expiry and scope read", style.name, tok, tok.Extra("scope"))
		}
		in := e.form("POST", "/shop/oauth2/introspect", url.Values{"token": {tok.AccessToken}}, id, sec)
		if in.Status != 200 || in.Body["active"] != true || in.str("client_id") != id || in.str("scope") != "read" {
			t.Errorf("%s: introspect: got %d %s, want active", style.name, in.Status, in.Raw)
		}
	}
}

// An API with token_format hmac issues tokens that only introspection can
// check, and publishes no key.
func TestHMACTokenFormat(t *testing.T) {
	e := newEnv(t)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "h", "token_format": "hmac"})
	e.mustAdmin(400, "POST", "/apis", map[string]any{"name": "h2", "token_format": "paseto"})
	id, sec := e.client("h", map[string]any{})
	tok := e.form("POST", "/h/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, id, sec)
	if tok.Status != 200 {
		t.Fatalf("token: got %d %s", tok.Status, tok.Raw)
	}
	if in := e.form("POST", "/h/oauth2/introspect", url.Values{"token": {tok.str("access_token")}}, id, sec); in.Body["active"] != true {
		t.Errorf("introspect: got %s, want active", in.Raw)
	}
	if jwks := e.do(mustReq("GET", e.URL+"/h/oauth2/jwks")); strings.Contains(jwks.Raw, `"kid"`) {
		t.Errorf("jwks of an hmac API: got %s, want no keys", jwks.Raw)
	}
}
