package oauth_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/providers"
)

// {state} and {redirect_uri} are filled per call: the flow's state and
// callback in the exchange (Dropbox Sign's state), the exchange's
// callback, kept with the connection, in the refresh (Mollie); a
// connection that kept none refreshes without it.
func TestQuirkRequestVars(t *testing.T) {
	r := newRecorder(t)
	r.answer("/token", 200, `{"access_token":"a1","refresh_token":"r1","expires_in":3600}`)
	p := quirkProvider(t, r, providers.Quirks{
		TokenParams:   map[string]string{"state": "{state}", "shop": "{shop}"},
		RefreshParams: map[string]string{"redirect_uri": "{redirect_uri}"},
	})
	ts, err := p.Exchange(t.Context(), "c", authRequest())
	if err != nil {
		t.Fatal(err)
	}
	if f := form(t, r.last(t)); f.Get("state") != authRequest().State || f.Get("shop") != "acme" {
		t.Errorf("exchange form = %v, want state=%s and shop=acme", f, authRequest().State)
	}
	if ts.RedirectURI != redirectURL {
		t.Errorf("kept redirect URI %q, want %q (the refresh repeats it)", ts.RedirectURI, redirectURL)
	}
	r.answer("/token", 200, `{"access_token":"a2","expires_in":3600}`)
	out, err := p.Refresh(t.Context(), ts)
	if err != nil {
		t.Fatal(err)
	}
	if f := form(t, r.last(t)); f.Get("redirect_uri") != redirectURL || f.Has("state") {
		t.Errorf("refresh form = %v, want redirect_uri=%s and no state", f, redirectURL)
	}
	if out.RedirectURI != redirectURL {
		t.Errorf("refreshed token set lost the redirect URI: %+v", out)
	}
	// A connection made before the provider repeated the redirect URI
	// refreshes as it did then, without the parameter.
	if _, err := p.Refresh(t.Context(), &providers.TokenSet{AccessToken: "a", RefreshToken: "r"}); err != nil {
		t.Fatal(err)
	}
	if f := form(t, r.last(t)); f.Has("redirect_uri") || f.Get("refresh_token") != "r" {
		t.Errorf("refresh of a connection without a kept redirect URI sent %v, want refresh_token=r and no redirect_uri", f)
	}
	plain := quirkProvider(t, r, providers.Quirks{TokenParams: map[string]string{"state": "{state}"}})
	r.answer("/token", 200, `{"access_token":"a1","refresh_token":"r1","expires_in":3600}`)
	if ts, err := plain.Exchange(t.Context(), "c", authRequest()); err != nil || ts.RedirectURI != "" {
		t.Errorf("without {redirect_uri} in refresh_params: %+v, %v; want no redirect URI kept", ts, err)
	}
}

// Callback parameters listed in callback_params are copied into the code
// exchange (BigCommerce's context and scope); others are not.
func TestQuirkCallbackParams(t *testing.T) {
	r := newRecorder(t)
	r.answer("/token", 200, `{"access_token":"a1","scope":"store_v2_products","context":"stores/z4zn3wo"}`)
	p := quirkProvider(t, r, providers.Quirks{CallbackParams: []string{"context", "scope", "account_uuid"}})
	ar := authRequest()
	ar.Callback = url.Values{"code": {"c"}, "state": {ar.State}, "context": {"stores/z4zn3wo"}, "scope": {"store_v2_products"}, "other": {"x"}}
	if _, err := p.Exchange(t.Context(), "c", ar); err != nil {
		t.Fatal(err)
	}
	f := form(t, r.last(t))
	if f.Get("context") != "stores/z4zn3wo" || f.Get("scope") != "store_v2_products" || f.Has("other") || f.Has("account_uuid") || f.Has("state") {
		t.Errorf("exchange form = %v, want context and scope copied, nothing else", f)
	}
}

// request_body query: the token parameters go in the URL's query, after
// the query the URL has, with no body.
func TestQuirkQueryEncodedTokenRequest(t *testing.T) {
	r := newRecorder(t)
	r.answer("/token", 200, `{"access_token":"a1","refresh_token":"r1","expires_in":3600}`)
	p := quirkProvider(t, r, providers.Quirks{RequestBody: "query"}, func(c *providers.Config) { c.TokenURL = "http://{host}/token?v=2" })
	if _, err := p.Exchange(t.Context(), "c", authRequest()); err != nil {
		t.Fatal(err)
	}
	s := r.last(t)
	q, _ := url.ParseQuery(s.query)
	if s.method != http.MethodPost || s.body != "" || s.header.Get("Content-Type") != "" || !strings.HasPrefix(s.query, "v=2&") ||
		q.Get("grant_type") != "authorization_code" || q.Get("code") != "c" || q.Get("redirect_uri") != redirectURL || q.Get("code_verifier") != rfcVerifier {
		t.Errorf("exchange %s ?%s body %q Content-Type %q: want POST with the parameters after v=2 in the query and no body",
			s.method, s.query, s.body, s.header.Get("Content-Type"))
	}
	if s.header.Get("Authorization") == "" {
		t.Error("exchange: no Basic client authentication")
	}
}

// An rfc7009 revocation sent as the provider documents it: DELETE with a
// form body (Mollie), GET with the renamed token in the query and no
// hint (Oura), client_id renamed in the body (TikTok).
func TestQuirkRevocationShapes(t *testing.T) {
	ts := &providers.TokenSet{AccessToken: "at", RefreshToken: "rt"}
	for _, tc := range []struct {
		name             string
		q                providers.Quirks
		method, body, rq string
		basic            bool
	}{
		{"delete with a form", providers.Quirks{Revocation: &providers.Revocation{Kind: "rfc7009", Method: http.MethodDelete}},
			http.MethodDelete, "token=rt&token_type_hint=refresh_token", "", true},
		{"get with the token in the query", providers.Quirks{RevocationBody: "query", RevocationAuth: "none",
			Revocation: &providers.Revocation{Kind: "rfc7009", Method: http.MethodGet, Token: "access_token", Rename: map[string]string{"token": "access_token"}, Drop: []string{"token_type_hint"}}},
			http.MethodGet, "", "access_token=at", false},
		{"client_id renamed", providers.Quirks{RevocationAuth: "body",
			Revocation: &providers.Revocation{Kind: "rfc7009", Token: "access_token", Rename: map[string]string{"client_id": "client_key"}, Drop: []string{"token_type_hint"}}},
			http.MethodPost, "client_key=cid&client_secret=csecret&token=at", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRecorder(t)
			r.answer("/revoke", 200, `{}`)
			if err := quirkProvider(t, r, tc.q).Revoke(t.Context(), ts); err != nil {
				t.Fatal(err)
			}
			s := r.last(t)
			if s.method != tc.method || s.body != tc.body || s.query != tc.rq || (s.header.Get("Authorization") != "") != tc.basic {
				t.Errorf("revoke %s ?%s body %q Authorization %q: want %s ?%s body %q, Basic %v",
					s.method, s.query, s.body, s.header.Get("Authorization"), tc.method, tc.rq, tc.body, tc.basic)
			}
		})
	}
}

// Contradicting or misplaced per-call quirks are refused, naming the
// field.
func TestQuirkValidationPerCall(t *testing.T) {
	base := providers.Config{Name: "c", Type: providers.TypeOAuth2, ClientID: "cid", AuthURL: "https://a.example/auth", TokenURL: "https://a.example/token"}
	rfc := func(r providers.Revocation) *providers.Revocation { r.Kind = "rfc7009"; return &r }
	for _, tc := range []struct {
		field  string
		mutate func(*providers.Config)
	}{
		{"quirks.refresh_params.x", func(c *providers.Config) { c.Quirks.RefreshParams = map[string]string{"x": "{state}"} }},
		{"quirks.token_headers", func(c *providers.Config) { c.Quirks.TokenHeaders = map[string]string{"X-State": "{state}"} }},
		{"token_url", func(c *providers.Config) { c.TokenURL = "https://a.example/token/{redirect_uri}" }},
		{"vars.state", func(c *providers.Config) { c.Vars = map[string]string{"state": "x"} }},
		{"quirks.callback_params", func(c *providers.Config) { c.Quirks.CallbackParams = []string{"code_verifier"} }},
		{"quirks.revocation.drop", func(c *providers.Config) { c.Quirks.Revocation = rfc(providers.Revocation{Drop: []string{"token"}}) }},
		{"quirks.revocation.rename", func(c *providers.Config) {
			c.Quirks.Revocation = &providers.Revocation{Kind: "bearer", Rename: map[string]string{"token": "t"}}
		}},
		{"quirks.revocation.method", func(c *providers.Config) { c.Quirks.Revocation = rfc(providers.Revocation{Method: http.MethodGet}) }},
		{"quirks.metadata.headers", func(c *providers.Config) {
			c.Quirks.Metadata = &providers.Metadata{URL: "https://a.example/me", Keep: map[string]string{"id": "id"}, Headers: map[string]string{"Authorization": "x"}}
		}},
		{"quirks.request_body", func(c *providers.Config) { c.Quirks.RequestBody = "multipart" }},
	} {
		c := base
		tc.mutate(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: Validate = %v, want an error naming %s", tc.field, err, tc.field)
		}
	}
	ok := base
	ok.Quirks = providers.Quirks{TokenParams: map[string]string{"state": "{state}", "r": "{redirect_uri}"}, RefreshParams: map[string]string{"redirect_uri": "{redirect_uri}"},
		CallbackParams: []string{"context"}, RequestBody: "query", RevocationBody: "query",
		Revocation: rfc(providers.Revocation{Method: http.MethodGet, Rename: map[string]string{"token": "access_token"}, Drop: []string{"token_type_hint"}}),
		Metadata:   &providers.Metadata{URL: "https://a.example/me", Keep: map[string]string{"id": "id"}, Headers: map[string]string{"User-Agent": "app (ops@example.com)"}}}
	if err := ok.Validate(); err != nil {
		t.Errorf("every per-call quirk in its place: Validate = %v, want nil", err)
	}
}

// The long-lived ladder (Instagram): the code exchange's short-lived
// token is traded by a GET carrying it and the client secret; the
// long-lived token replaces it, the first answer's other fields stay,
// and the token refreshes itself (it is kept as the refresh credential).
// A failed second call fails the exchange.
func TestQuirkLongLivedExchangeAndRefresh(t *testing.T) {
	r := newRecorder(t)
	r.answer("/token", 200, `{"access_token":"short","user_id":"17841405793187218","expires_in":3600}`)
	r.answer("/access_token", 200, `{"access_token":"long1","token_type":"bearer","expires_in":5183944}`)
	r.answer("/refresh_access_token", 200, `{"access_token":"long2","token_type":"bearer","expires_in":5183944}`)
	p := quirkProvider(t, r, providers.Quirks{Keep: []string{"user_id"}, LongLived: &providers.LongLived{
		Exchange: providers.TokenCall{URL: "http://{host}/access_token", Params: map[string]string{
			"grant_type": "ig_exchange_token", "client_secret": "{client_secret}", "access_token": "{access_token}"}},
		Refresh: &providers.TokenCall{URL: "http://{host}/refresh_access_token", Params: map[string]string{
			"grant_type": "ig_refresh_token", "access_token": "{access_token}"}},
	}})
	ts, err := p.Exchange(t.Context(), "c", authRequest())
	if err != nil {
		t.Fatal(err)
	}
	s := r.last(t)
	q, _ := url.ParseQuery(s.query)
	if s.method != http.MethodGet || s.path != "/access_token" || q.Get("access_token") != "short" || q.Get("client_secret") != "csecret" || q.Get("grant_type") != "ig_exchange_token" || s.body != "" {
		t.Errorf("long-lived exchange %s %s?%s body %q: want GET /access_token with the short token and the secret in the query", s.method, s.path, s.query, s.body)
	}
	if ts.AccessToken != "long1" || ts.RefreshToken != "long1" || !ts.Expiry.Equal(testNow.Add(5183944*time.Second)) || ts.Extra["user_id"] != "17841405793187218" {
		t.Errorf("got %+v, want the long-lived token (also the refresh credential), its expiry and the first answer's user_id", ts)
	}
	out, err := p.Refresh(t.Context(), ts)
	if err != nil {
		t.Fatal(err)
	}
	s = r.last(t)
	q, _ = url.ParseQuery(s.query)
	if s.method != http.MethodGet || s.path != "/refresh_access_token" || q.Get("access_token") != "long1" || q.Has("refresh_token") || s.header.Get("Authorization") != "" {
		t.Errorf("refresh %s %s?%s: want GET /refresh_access_token with the long-lived token, no refresh_token, no client auth", s.method, s.path, s.query)
	}
	if out.AccessToken != "long2" || out.RefreshToken != "long2" || out.Extra["user_id"] != "17841405793187218" {
		t.Errorf("refresh got %+v, want long2 as access and refresh credential, user_id kept", out)
	}
	r.answer("/access_token", 400, `{"error":{"message":"Invalid OAuth access token","type":"OAuthException","code":190}}`)
	if ts, err := p.Exchange(t.Context(), "c", authRequest()); err == nil {
		t.Errorf("a failed long-lived exchange gave %+v, want an error (a short-lived token would die within the hour)", ts)
	}
}

// Long-lived calls are checked: a URL, GET or POST, named parameters, a
// refresh only with refresh tokens, and their {access_token} and
// {client_secret} only in their own params.
func TestQuirkLongLivedValidation(t *testing.T) {
	base := providers.Config{Name: "c", Type: providers.TypeOAuth2, ClientID: "cid", AuthURL: "https://a.example/auth", TokenURL: "https://a.example/token"}
	call := providers.TokenCall{URL: "https://a.example/long", Params: map[string]string{"access_token": "{access_token}", "client_secret": "{client_secret}"}}
	for _, tc := range []struct {
		field string
		q     providers.Quirks
	}{
		{"quirks.long_lived.exchange.url", providers.Quirks{LongLived: &providers.LongLived{Exchange: providers.TokenCall{Params: call.Params}}}},
		{"quirks.long_lived.exchange.method", providers.Quirks{LongLived: &providers.LongLived{Exchange: providers.TokenCall{URL: call.URL, Method: "PUT", Params: call.Params}}}},
		{"quirks.long_lived.refresh.params", providers.Quirks{LongLived: &providers.LongLived{Exchange: call, Refresh: &providers.TokenCall{URL: call.URL}}}},
		{"quirks.long_lived.refresh", providers.Quirks{RefreshTokens: "none", LongLived: &providers.LongLived{Exchange: call, Refresh: &call}}},
		{"quirks.token_params", providers.Quirks{TokenParams: map[string]string{"t": "{access_token}"}}},
		{"quirks.long_lived.exchange.params", providers.Quirks{LongLived: &providers.LongLived{Exchange: providers.TokenCall{URL: call.URL, Params: map[string]string{"s": "{state}"}}}}},
	} {
		c := base
		c.Quirks = tc.q
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: Validate = %v, want an error naming %s", tc.field, err, tc.field)
		}
	}
	ok := base
	ok.Quirks = providers.Quirks{LongLived: &providers.LongLived{Exchange: call, Refresh: &call}}
	if err := ok.Validate(); err != nil {
		t.Errorf("a long-lived exchange and refresh: Validate = %v, want nil", err)
	}
}

// A kept field fills a {name} of the revocation URL's path (Polar's
// DELETE /v3/users/{x_user_id}), path-escaped, whether kept as the
// answer's number or as the store's; a connection without it is not
// revoked. A kept field may not pick a host, and an unknown name is
// refused.
func TestQuirkKeptFieldInRevocationPath(t *testing.T) {
	r := newRecorder(t)
	r.answer("/v3/users/10000000", 204, ``)
	r.answer("/v3/users/a/b", 204, ``)
	p := quirkProvider(t, r, providers.Quirks{Keep: []string{"x_user_id"}, Revocation: &providers.Revocation{Kind: "bearer", Method: http.MethodDelete}},
		func(c *providers.Config) { c.RevocationURL = "http://{host}/v3/users/{x_user_id}" })
	for v, path := range map[any]string{json.Number("10000000"): "/v3/users/10000000", float64(10000000): "/v3/users/10000000", "a/b": "/v3/users/a%2Fb"} {
		if err := p.Revoke(t.Context(), &providers.TokenSet{AccessToken: "at", Extra: map[string]any{"x_user_id": v}}); err != nil {
			t.Fatalf("x_user_id %v: %v", v, err)
		}
		s := r.last(t)
		if s.method != http.MethodDelete || s.escapedPath != path || s.header.Get("Authorization") != "Bearer at" {
			t.Errorf("revoke %s %s with %q, want DELETE %s with the access token", s.method, s.escapedPath, s.header.Get("Authorization"), path)
		}
	}
	calls := r.count()
	err := p.Revoke(t.Context(), &providers.TokenSet{AccessToken: "at"})
	checkSentinel(t, err, providers.ErrRevocationUnsupported)
	if r.count() != calls {
		t.Error("a connection without the kept field was revoked at a URL with a hole")
	}
	base := providers.Config{Name: "c", Type: providers.TypeOAuth2, ClientID: "cid", AuthURL: "https://a.example/auth", TokenURL: "https://a.example/token",
		Quirks: providers.Quirks{Keep: []string{"x_user_id", "team.id"}}}
	for _, u := range []string{"https://{x_user_id}.a.example/revoke", "https://a.example/users/{user}", "https://a.example/users/{team_id}"} {
		c := base
		c.RevocationURL = u
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "revocation_url") {
			t.Errorf("revocation_url %s: Validate = %v, want an error naming revocation_url", u, err)
		}
	}
	base.RevocationURL = "https://a.example/v3/users/{x_user_id}"
	if err := base.Validate(); err != nil {
		t.Errorf("a kept field in the path: Validate = %v, want nil", err)
	}
}
