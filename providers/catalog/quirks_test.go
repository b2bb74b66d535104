package catalog

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/providers"
)

// upstream answers token and revocation requests with a canned answer
// (as a provider's documentation shows it) and records what it got.
type upstream struct {
	mu       sync.Mutex
	status   int
	ctype    string
	body     string
	requests []*http.Request
	forms    []url.Values
	bodies   []string
	srv      *httptest.Server
}

func newUpstream(t *testing.T, status int, ctype, body string) *upstream {
	u := &upstream{status: status, ctype: ctype, body: body}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(raw))
		u.mu.Lock()
		u.requests, u.forms, u.bodies = append(u.requests, r), append(u.forms, form), append(u.bodies, string(raw))
		status, ctype, body := u.status, u.ctype, u.body
		u.mu.Unlock()
		if ctype != "" {
			w.Header().Set("Content-Type", ctype)
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *upstream) last() (*http.Request, url.Values, string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := len(u.requests) - 1
	return u.requests[n], u.forms[n], u.bodies[n]
}

var fixedNow = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

// openEntry opens entry name of the real catalog with its endpoints
// pointed at the fake (the configuration's URLs win over the template's).
func openEntry(t *testing.T, name string, up *upstream, vars map[string]string) providers.Provider {
	t.Helper()
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	cfg := providers.Config{Name: "p", Template: name, ClientID: "cid", ClientSecret: "csecret", Vars: vars,
		AuthURL: up.srv.URL + "/auth", TokenURL: up.srv.URL + "/token", RevocationURL: up.srv.URL + "/revoke"}
	p, err := c.Open(context.Background(), cfg, up.srv.Client(), func() time.Time { return fixedNow })
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func exchange(t *testing.T, p providers.Provider) (*providers.TokenSet, error) {
	t.Helper()
	return p.Exchange(context.Background(), "the-code", providers.AuthRequest{Verifier: "v", RedirectURL: "https://broker.example/cb"})
}

// Slack: nested user token, comma-separated user_scope, errors with 200,
// kept team fields.
func TestQuirkSlackNestedTokenAndErrorsWith200(t *testing.T) {
	up := newUpstream(t, 200, "application/json", `{"ok":true,"access_token":"xoxb-bot","token_type":"bot","scope":"commands",
		"team":{"name":"Acme","id":"T123"},"authed_user":{"id":"U1","scope":"users:read,chat:write","access_token":"xoxp-user","token_type":"user"}}`)
	p := openEntry(t, "slack", up, nil)
	u, _ := url.Parse(p.AuthCodeURL(providers.AuthRequest{State: "s", Verifier: "v", Scopes: []string{"users:read", "chat:write"}}))
	if got := u.Query().Get("user_scope"); got != "users:read,chat:write" || u.Query().Has("scope") {
		t.Errorf("authorize: user_scope %q (scope present: %v), want comma-joined user_scope only", got, u.Query().Has("scope"))
	}
	ts, err := exchange(t, p)
	if err != nil {
		t.Fatal(err)
	}
	if ts.AccessToken != "xoxp-user" || ts.Scope != "users:read,chat:write" || ts.Extra["team.id"] != "T123" || !ts.Expiry.IsZero() {
		t.Errorf("got %+v, want the nested user token, its scope, team.id kept and no expiry (Slack tokens without rotation do not expire)", ts)
	}
	if _, form, _ := up.last(); form.Get("client_secret") != "csecret" {
		t.Errorf("client auth: got form %v, want client_secret in the body", form)
	}
	up.body = `{"ok":false,"error":"invalid_code"}`
	if _, err := exchange(t, p); !errors.Is(err, providers.ErrInvalidGrant) {
		t.Errorf("ok:false invalid_code with 200: got %v, want ErrInvalidGrant (quirks.error_codes)", err)
	}
	up.body = `{"ok":false,"error":"invalid_grant"}`
	if _, err := exchange(t, p); !errors.Is(err, providers.ErrInvalidGrant) {
		t.Errorf("ok:false invalid_grant with 200: got %v, want ErrInvalidGrant", err)
	}
}

// GitHub: form-encoded answers, secret in the body, errors with 200,
// non-expiring tokens, grant deletion for revocation.
func TestQuirkGitHubFormAnswersAndGrantRevocation(t *testing.T) {
	up := newUpstream(t, 200, "application/x-www-form-urlencoded", "access_token=gho_abc&scope=repo%2Cgist&token_type=bearer")
	p := openEntry(t, "github", up, nil)
	ts, err := exchange(t, p)
	if err != nil || ts.AccessToken != "gho_abc" || ts.Scope != "repo,gist" || !ts.Expiry.IsZero() || ts.TokenType != "Bearer" {
		t.Fatalf("got %+v, %v; want gho_abc, scope, no expiry", ts, err)
	}
	req, form, _ := up.last()
	if form.Get("client_id") != "cid" || form.Get("code_verifier") != "v" || req.Header.Get("Accept") != "application/json" {
		t.Errorf("token request: form %v Accept %q, want client_id, code_verifier and Accept: application/json", form, req.Header.Get("Accept"))
	}
	up.ctype, up.body = "application/json", `{"error":"bad_verification_code","error_description":"The code passed is incorrect or expired."}`
	if _, err := exchange(t, p); !errors.Is(err, providers.ErrInvalidGrant) || strings.Contains(err.Error(), "incorrect") {
		t.Errorf("error with 200: got %v, want ErrInvalidGrant (quirks.error_codes) without the upstream's text", err)
	}
	// Revocation: DELETE /applications/{client_id}/grant with Basic.
	up.status, up.body = 204, ""
	c, _ := Load()
	cfg := providers.Config{Name: "p", Template: "github", ClientID: "cid", ClientSecret: "csecret",
		AuthURL: up.srv.URL + "/auth", TokenURL: up.srv.URL + "/token"}
	e, _ := c.Get("github")
	oc, _ := e.config(cfg)
	if oc.RevocationURL != "https://api.github.com/applications/cid/grant" {
		t.Errorf("revocation url: got %s, want the client id filled in", oc.RevocationURL)
	}
	rv := p.(providers.Revoker)
	if err := rv.Revoke(context.Background(), &providers.TokenSet{AccessToken: "gho_abc"}); err != nil {
		t.Fatal(err)
	}
	req, _, body := up.last()
	id, secret, _ := req.BasicAuth()
	if req.Method != "DELETE" || id != "cid" || secret != "csecret" || body != `{"access_token":"gho_abc"}` {
		t.Errorf("revoke: %s basic %s:%s body %s, want DELETE with Basic and the token in JSON", req.Method, id, secret, body)
	}
}

// Google: OIDC template (not opened here: discovery) — its authorize
// params and default scopes resolve; Microsoft-style tenant templates fill.
func TestQuirkTemplatesAndAuthParams(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	g, _ := c.Get("google")
	oc, err := g.config(providers.Config{Name: "g", Template: "google", ClientID: "cid"})
	if err != nil || oc.Issuer != "https://accounts.google.com" || oc.AuthParams["access_type"] != "offline" || oc.AuthParams["prompt"] != "consent" {
		t.Fatalf("google: got %+v, %v", oc.Config, err)
	}
	e := &Entry{Name: "t", DisplayName: "T", Docs: []string{"https://t.example/docs"}, Type: "oauth2",
		AuthURL: "https://login.t.example/{tenant}/authorize", TokenURL: "https://{shop}.t.example/token",
		Vars: []Var{{Name: "tenant", Description: "tenant id", Default: "common"}, {Name: "shop", Description: "shop"}}}
	if err := e.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.config(providers.Config{ClientID: "c"}); !errors.Is(err, ErrMissingVar) {
		t.Errorf("missing required var: got %v, want ErrMissingVar", err)
	}
	oc, err = e.config(providers.Config{ClientID: "c", Vars: map[string]string{"shop": "acme"}})
	if err != nil || oc.AuthURL != "https://login.t.example/common/authorize" || oc.TokenURL != "https://acme.t.example/token" {
		t.Errorf("filled: got %s %s, %v; want the default tenant and the shop", oc.AuthURL, oc.TokenURL, err)
	}
	for _, bad := range []string{"evil.example/x", "a@b", "x:1"} {
		if _, err := e.config(providers.Config{ClientID: "c", Vars: map[string]string{"shop": bad}}); err == nil {
			t.Errorf("var %q accepted, want refused (it would change the host)", bad)
		}
	}
	if _, err := e.config(providers.Config{ClientID: "c", Vars: map[string]string{"shop": "a", "colour": "x"}}); err == nil {
		t.Errorf("unknown var accepted")
	}
}

// Plain OAuth2 answers: JSON with a wrong content type still parses, a
// missing expires_in takes the entry's documented lifetime, refresh keeps
// the old refresh token when none comes back, Basic client auth.
func TestQuirkMislabelledJSONAndLifetimes(t *testing.T) {
	up := newUpstream(t, 200, "text/plain", `{"access_token":"at1","refresh_token":"rt1","token_type":"Bearer"}`)
	e := &Entry{Name: "t", DisplayName: "T", Docs: []string{"https://t.example/docs"}, Type: "oauth2",
		AuthURL: "https://t.example/auth", TokenURL: "https://t.example/token", Token: Token{Lifetime: "2h"}}
	c := &Catalog{entries: map[string]*Entry{"t": e}}
	p, err := c.Open(context.Background(), providers.Config{Name: "p", Template: "t", ClientID: "cid", ClientSecret: "c s", TokenURL: up.srv.URL + "/token", AuthURL: up.srv.URL + "/auth"},
		up.srv.Client(), func() time.Time { return fixedNow })
	if err != nil {
		t.Fatal(err)
	}
	ts, err := exchange(t, p)
	if err != nil || ts.AccessToken != "at1" || !ts.Expiry.Equal(fixedNow.Add(2*time.Hour)) {
		t.Fatalf("got %+v, %v; want at1 expiring after the documented 2h", ts, err)
	}
	req, _, _ := up.last()
	if id, secret, ok := req.BasicAuth(); !ok || id != "cid" || secret != "c+s" {
		t.Errorf("client auth: got %q:%q (ok %v), want Basic with form-encoded credentials (RFC 6749 §2.3.1)", id, secret, ok)
	}
	up.body = `{"access_token":"at2","expires_in":"120"}`
	next, err := p.Refresh(context.Background(), ts)
	if err != nil || next.AccessToken != "at2" || next.RefreshToken != "rt1" || !next.Expiry.Equal(fixedNow.Add(2*time.Minute)) {
		t.Errorf("refresh: got %+v, %v; want at2, the old refresh token kept, expiry from the string expires_in", next, err)
	}
	up.status, up.ctype, up.body = 400, "application/json", `{"error":"invalid_grant","error_description":"token rt1 revoked"}`
	if _, err := p.Refresh(context.Background(), ts); !errors.Is(err, providers.ErrInvalidGrant) || strings.Contains(err.Error(), "rt1") {
		t.Errorf("refused refresh: got %v, want ErrInvalidGrant without the answer body", err)
	}
	up.status, up.body = 503, `<html>down</html>`
	if _, err := p.Refresh(context.Background(), ts); !errors.Is(err, providers.ErrUnavailable) {
		t.Errorf("503: got %v, want ErrUnavailable", err)
	}
}

// Revocation kinds: bearer (Slack, Dropbox), RFC 7009, none.
func TestQuirkRevocationKinds(t *testing.T) {
	up := newUpstream(t, 200, "application/json", `{"ok":true,"revoked":true}`)
	slack := openEntry(t, "slack", up, nil).(providers.Revoker)
	if err := slack.Revoke(context.Background(), &providers.TokenSet{AccessToken: "xoxp-user"}); err != nil {
		t.Fatal(err)
	}
	req, _, _ := up.last()
	if req.Method != "POST" || req.Header.Get("Authorization") != "Bearer xoxp-user" {
		t.Errorf("bearer revoke: got %s %q, want POST with the access token as Bearer", req.Method, req.Header.Get("Authorization"))
	}
	up.body = `{"ok":false,"error":"invalid_auth"}`
	if err := slack.Revoke(context.Background(), &providers.TokenSet{AccessToken: "x"}); err == nil {
		t.Errorf("ok:false revoke: got nil, want an error")
	}
	up.body = ``
	e := &Entry{Name: "t", DisplayName: "T", Docs: []string{"https://t.example/docs"}, Type: "oauth2", AuthURL: "https://t.example/a", TokenURL: "https://t.example/t",
		Revocation: Revocation{Revocation: providers.Revocation{Kind: "rfc7009"}, URL: "https://t.example/revoke"}}
	c := &Catalog{entries: map[string]*Entry{"t": e}}
	p, _ := c.Open(context.Background(), providers.Config{Name: "p", Template: "t", ClientID: "cid", ClientSecret: "cs", RevocationURL: up.srv.URL + "/revoke"}, up.srv.Client(), nil)
	if err := p.(providers.Revoker).Revoke(context.Background(), &providers.TokenSet{AccessToken: "at", RefreshToken: "rt"}); err != nil {
		t.Fatal(err)
	}
	_, form, _ := up.last()
	if form.Get("token") != "rt" || form.Get("token_type_hint") != "refresh_token" {
		t.Errorf("rfc7009: got %v, want the refresh token with its hint", form)
	}
	e.Revocation = Revocation{Revocation: providers.Revocation{Kind: "none"}}
	p, _ = c.Open(context.Background(), providers.Config{Name: "p", Template: "t", ClientID: "cid"}, up.srv.Client(), nil)
	if err := p.(providers.Revoker).Revoke(context.Background(), &providers.TokenSet{AccessToken: "at"}); !errors.Is(err, providers.ErrRevocationUnsupported) {
		t.Errorf("kind none: got %v, want ErrRevocationUnsupported", err)
	}
}

// An entry's refresh policy reaches the opened provider, and a configured
// field wins over the entry's, field by field.
func TestRefreshPolicyFromEntry(t *testing.T) {
	up := newUpstream(t, 200, "application/json", `{}`)
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		template   string
		configured providers.RefreshPolicy
		want       providers.RefreshPolicy
	}{
		{"microsoft", providers.RefreshPolicy{}, providers.RefreshPolicy{IdleAfter: 720 * time.Hour}},
		{"microsoft", providers.RefreshPolicy{Lead: 3 * time.Minute}, providers.RefreshPolicy{Lead: 3 * time.Minute, IdleAfter: 720 * time.Hour}},
		{"microsoft", providers.RefreshPolicy{IdleAfter: 48 * time.Hour}, providers.RefreshPolicy{IdleAfter: 48 * time.Hour}},
		{"github", providers.RefreshPolicy{}, providers.RefreshPolicy{}},
	}
	for _, tt := range tests {
		cfg := providers.Config{Name: "p", Template: tt.template, ClientID: "cid", ClientSecret: "s",
			AuthURL: up.srv.URL + "/auth", TokenURL: up.srv.URL + "/token",
			RefreshLead: providers.Duration(tt.configured.Lead), RefreshIdleAfter: providers.Duration(tt.configured.IdleAfter)}
		p, err := c.Open(context.Background(), cfg, up.srv.Client(), func() time.Time { return fixedNow })
		if err != nil {
			t.Fatal(err)
		}
		a, ok := p.(providers.RefreshAdvisor)
		if !ok {
			t.Fatalf("%s: the opened provider is no RefreshAdvisor", tt.template)
		}
		if got := a.RefreshPolicy(); got != tt.want {
			t.Errorf("%s configured %+v: got %+v, want %+v", tt.template, tt.configured, got, tt.want)
		}
	}
}

// Shopify: the callback's hmac, keyed with the client secret, is checked.
func TestQuirkShopifyCallbackHMAC(t *testing.T) {
	up := newUpstream(t, 200, "application/json", `{"access_token":"at","scope":"read_products"}`)
	p := openEntry(t, "shopify", up, map[string]string{"shop": "example-store"})
	checker, ok := p.(providers.CallbackChecker)
	if !ok {
		t.Fatalf("the shopify provider is no CallbackChecker")
	}
	q := url.Values{"code": {"c0de"}, "shop": {"example-store.myshopify.com"}, "state": {"s"}, "timestamp": {"1337178173"}, "host": {"YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvZXhhbXBsZQ=="}}
	mac := hmac.New(sha256.New, []byte("csecret"))
	io.WriteString(mac, "code=c0de&host=YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvZXhhbXBsZQ==&shop=example-store.myshopify.com&state=s&timestamp=1337178173")
	q.Set("hmac", hex.EncodeToString(mac.Sum(nil)))
	if err := checker.CheckCallback(q); err != nil {
		t.Errorf("a callback with the computed hmac: got %v, want nil", err)
	}
	q.Set("code", "swapped")
	if err := checker.CheckCallback(q); !errors.Is(err, providers.ErrUpstream) {
		t.Errorf("a callback whose code was swapped: got %v, want %v", err, providers.ErrUpstream)
	}
	if err := openEntry(t, "github", up, nil).(providers.CallbackChecker).CheckCallback(url.Values{"code": {"c"}}); err != nil {
		t.Errorf("github (no callback signature): got %v, want nil", err)
	}
}
