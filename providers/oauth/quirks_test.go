package oauth_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/providers/oauth"
	"github.com/oauth2broker/oauth2broker/providers/providertest"
)

// recorder is an upstream answering each path with a canned answer and
// recording every request.
type recorder struct {
	srv     *httptest.Server
	mu      sync.Mutex
	answers map[string]canned
	got     []seen
}

type canned struct {
	status int
	ctype  string
	body   string
}

type seen struct {
	method, path string
	header       http.Header
	body         string
	query        string
	// escapedPath is the path as sent (Path is decoded).
	escapedPath string
}

func newRecorder(t *testing.T) *recorder {
	r := &recorder{answers: map[string]canned{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, seen{req.Method, req.URL.Path, req.Header.Clone(), string(b), req.URL.RawQuery, req.URL.EscapedPath()})
		a, ok := r.answers[req.URL.Path]
		r.mu.Unlock()
		if !ok {
			http.NotFound(w, req)
			return
		}
		if a.ctype == "" {
			a.ctype = "application/json"
		}
		w.Header().Set("Content-Type", a.ctype)
		w.WriteHeader(max(a.status, 200))
		io.WriteString(w, a.body)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *recorder) answer(path string, status int, body string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answers[path] = canned{status: status, body: body}
}

func (r *recorder) last(t *testing.T) seen {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.got) == 0 {
		t.Fatal("no upstream request")
	}
	return r.got[len(r.got)-1]
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

// quirkProvider opens a provider on r with quirks q; its URLs use the
// var {base} (the server's address) to prove vars fill URLs.
func quirkProvider(t *testing.T, r *recorder, q providers.Quirks, mutate ...func(*providers.Config)) *oauth.Provider {
	t.Helper()
	u, _ := url.Parse(r.srv.URL)
	cfg := providers.Config{
		Name: "custom", Type: providers.TypeOAuth2, ClientID: "cid", ClientSecret: "csecret",
		AuthURL: "http://{host}/auth", TokenURL: "http://{host}/token", RevocationURL: "http://{host}/revoke",
		Vars: map[string]string{"host": u.Host, "shop": "acme"}, Quirks: q,
	}
	for _, m := range mutate {
		m(&cfg)
	}
	return newProvider(t, oauth.Config{Config: cfg, HTTPClient: r.srv.Client(), Now: func() time.Time { return testNow }})
}

func form(t *testing.T, s seen) url.Values {
	t.Helper()
	v, err := url.ParseQuery(s.body)
	if err != nil {
		t.Fatalf("body %q is not a form", s.body)
	}
	return v
}

// Token parameters, separately for the exchange and the refresh, filled
// from vars; a refresh URL apart from the token URL.
func TestQuirkTokenParamsAndRefreshURL(t *testing.T) {
	r := newRecorder(t)
	r.answer("/token", 200, `{"access_token":"a1","refresh_token":"r1","expires_in":3600}`)
	r.answer("/refresh/acme", 200, `{"access_token":"a2","expires_in":3600}`)
	p := quirkProvider(t, r, providers.Quirks{
		TokenParams:   map[string]string{"expiring": "1", "shop": "{shop}"},
		RefreshParams: map[string]string{"mode": "renew"},
		RefreshURL:    "http://{host}/refresh/{shop}",
	})
	ts, err := p.Exchange(t.Context(), "c", authRequest())
	if err != nil {
		t.Fatal(err)
	}
	f := form(t, r.last(t))
	if f.Get("expiring") != "1" || f.Get("shop") != "acme" || f.Has("mode") {
		t.Errorf("exchange form = %v, want expiring=1, shop=acme and no refresh params", f)
	}
	out, err := p.Refresh(t.Context(), ts)
	if err != nil {
		t.Fatal(err)
	}
	s := r.last(t)
	if f := form(t, s); s.path != "/refresh/acme" || f.Get("mode") != "renew" || f.Has("expiring") || f.Get("refresh_token") != "r1" {
		t.Errorf("refresh went to %s with %v, want /refresh/acme with mode=renew, refresh_token=r1 and no token params", s.path, f)
	}
	if out.AccessToken != "a2" || out.RefreshToken != "r1" {
		t.Errorf("refresh got %+v, want a2 keeping r1 (reusable refresh tokens)", out)
	}
}

// JSON request bodies, client authentication and headers per call.
func TestQuirkJSONBodyPerCallAuthAndHeaders(t *testing.T) {
	r := newRecorder(t)
	r.answer("/token", 200, `{"access_token":"a1","refresh_token":"r1"}`)
	r.answer("/revoke", 200, `{}`)
	p := quirkProvider(t, r, providers.Quirks{
		RequestBody: "json", TokenAuth: "header", RefreshAuth: "body", RevocationAuth: "none",
		TokenHeaders:      map[string]string{"Notion-Version": "2022-06-28"},
		RefreshHeaders:    map[string]string{"X-Refresh": "yes"},
		RevocationHeaders: map[string]string{"X-Revoke": "yes"},
	})
	ts, err := p.Exchange(t.Context(), "c", authRequest())
	if err != nil {
		t.Fatal(err)
	}
	s := r.last(t)
	var body map[string]string
	if err := json.Unmarshal([]byte(s.body), &body); err != nil || body["code"] != "c" || body["grant_type"] != "authorization_code" {
		t.Fatalf("exchange body = %q, want a JSON object with code and grant_type", s.body)
	}
	if _, ok := body["client_secret"]; ok || s.header.Get("Content-Type") != "application/json" || s.header.Get("Notion-Version") != "2022-06-28" {
		t.Errorf("exchange: body %v, headers %v: want JSON, no secret in the body, Notion-Version", body, s.header)
	}
	if u, pw, ok := basicAuth(s.header); !ok || u != "cid" || pw != "csecret" {
		t.Errorf("exchange Authorization = %q, want Basic cid:csecret", s.header.Get("Authorization"))
	}
	if _, err := p.Refresh(t.Context(), ts); err != nil {
		t.Fatal(err)
	}
	s = r.last(t)
	_ = json.Unmarshal([]byte(s.body), &body)
	if s.header.Get("Authorization") != "" || body["client_secret"] != "csecret" || s.header.Get("X-Refresh") != "yes" || s.header.Get("Notion-Version") != "" {
		t.Errorf("refresh: Authorization %q, body %v, headers %v: want the secret in the body and only the refresh headers", s.header.Get("Authorization"), body, s.header)
	}
	if err := p.Revoke(t.Context(), ts); err != nil {
		t.Fatal(err)
	}
	s = r.last(t)
	if f := form(t, s); s.header.Get("Authorization") != "" || f.Has("client_secret") || s.header.Get("X-Revoke") != "yes" {
		t.Errorf("revoke: Authorization %q, form %v: want no client authentication and X-Revoke", s.header.Get("Authorization"), f)
	}
}

func basicAuth(h http.Header) (string, string, bool) {
	r := http.Request{Header: h}
	return r.BasicAuth()
}

// Answer paths with fallbacks: the exchange nests, the refresh does not.
func TestQuirkAnswerPathsWithFallbacks(t *testing.T) {
	r := newRecorder(t)
	r.answer("/token", 200, `{"ok":true,"access_token":"xoxb-bot","authed_user":{"access_token":"xoxp-user","refresh_token":"r1","expires_in":43200,"token_type":"user","scope":"users:read"}}`)
	p := quirkProvider(t, r, providers.Quirks{Paths: map[string][]string{
		"access_token":  {"authed_user.access_token", "access_token"},
		"refresh_token": {"authed_user.refresh_token", "refresh_token"},
		"expires_in":    {"authed_user.expires_in", "expires_in"},
		"token_type":    {"authed_user.token_type", "token_type"},
		"scope":         {"authed_user.scope", "scope"},
	}})
	ts, err := p.Exchange(t.Context(), "c", authRequest())
	if err != nil || ts.AccessToken != "xoxp-user" || ts.RefreshToken != "r1" || ts.TokenType != "user" || !ts.Expiry.Equal(testNow.Add(12*time.Hour)) {
		t.Fatalf("exchange got %+v, %v; want the nested user token", ts, err)
	}
	r.answer("/token", 200, `{"ok":true,"access_token":"xoxp-2","refresh_token":"r2","expires_in":43200,"token_type":"user"}`)
	out, err := p.Refresh(t.Context(), ts)
	if err != nil || out.AccessToken != "xoxp-2" || out.RefreshToken != "r2" || out.Scope != "users:read" {
		t.Fatalf("refresh got %+v, %v; want the top-level token, scope kept", out, err)
	}
}

// Authorize and token parameters renamed, authorize ones dropped; PKCE unsupported sends
// neither challenge nor verifier.
func TestQuirkAuthorizeRenameDropAndNoPKCE(t *testing.T) {
	r := newRecorder(t)
	r.answer("/token", 200, `{"access_token":"a"}`)
	p := quirkProvider(t, r, providers.Quirks{
		TokenRename:     map[string]string{"client_id": "client_key"},
		TokenAuth:       "body",
		AuthorizeRename: map[string]string{"client_id": "client_key"},
		AuthorizeDrop:   []string{"response_type"},
		PKCE:            "unsupported",
	})
	u, _ := url.Parse(p.AuthCodeURL(authRequest()))
	q := u.Query()
	if q.Get("client_key") != "cid" || q.Has("client_id") || q.Has("response_type") || q.Has("code_challenge") || q.Get("state") == "" {
		t.Errorf("authorize query = %v, want client_key, no client_id, response_type or code_challenge", q)
	}
	if _, err := p.Exchange(t.Context(), "c", authRequest()); err != nil {
		t.Fatal(err)
	}
	if f := form(t, r.last(t)); f.Has("code_verifier") || f.Get("client_key") != "cid" || f.Has("client_id") {
		t.Errorf("exchange form = %v, want client_key and no code_verifier", f)
	}
}

// Expiry in seconds (number or string), milliseconds, Unix time, RFC 3339.
func TestQuirkExpiryFormats(t *testing.T) {
	for _, tc := range []struct {
		format, value string
		want          time.Time
	}{
		{"", `3600`, testNow.Add(time.Hour)},
		{"seconds", `"3600"`, testNow.Add(time.Hour)},
		{"milliseconds", `5400000`, testNow.Add(90 * time.Minute)},
		{"unix", `1999999999`, time.Unix(1999999999, 0).UTC()},
		{"rfc3339", `"2031-05-06T09:08:09Z"`, testNow.Add(2 * time.Hour)},
	} {
		t.Run(tc.format, func(t *testing.T) {
			r := newRecorder(t)
			r.answer("/token", 200, `{"access_token":"a","expires_in":`+tc.value+`}`)
			p := quirkProvider(t, r, providers.Quirks{Expiry: tc.format})
			ts, err := p.Exchange(t.Context(), "c", authRequest())
			if err != nil || !ts.Expiry.Equal(tc.want) {
				t.Errorf("got expiry %v, %v; want %v", ts.Expiry, err, tc.want)
			}
		})
	}
}

// Errors answered with 200 are parsed and classified like RFC 6749
// errors, with the provider's codes mapped.
func TestQuirkErrorsWith200(t *testing.T) {
	for _, tc := range []struct {
		body string
		want error
	}{
		{`{"ok":false,"error":"invalid_refresh_token"}`, providers.ErrInvalidGrant},
		{`{"ok":false,"error":"bad_client_secret"}`, providers.ErrInvalidClient},
		{`{"ok":false,"error":"ratelimited"}`, providers.ErrUpstream},
		{`{"error":"invalid_grant"}`, providers.ErrInvalidGrant},
		{`{"ok":false,"access_token":"looks-fine"}`, providers.ErrUpstream},
	} {
		r := newRecorder(t)
		r.answer("/token", 200, tc.body)
		p := quirkProvider(t, r, providers.Quirks{ErrorCodes: map[string]string{"invalid_refresh_token": "invalid_grant", "bad_client_secret": "invalid_client"}})
		_, err := p.Refresh(t.Context(), &providers.TokenSet{AccessToken: "a", RefreshToken: "r"})
		checkSentinel(t, err, tc.want)
	}
}

// Answers no fixture foresaw give a typed error, never a token set that
// would replace the stored one.
func TestQuirkUnforeseenAnswers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		ctype  string
		body   string
		want   error
	}{
		{"HTML error page", 502, "text/html", "<html><body>Bad gateway</body></html>", providers.ErrUnavailable},
		{"HTML with 200", 200, "text/html", "<html>login</html>", providers.ErrUpstream},
		{"empty body", 200, "application/json", "", providers.ErrUpstream},
		{"token path missing", 200, "application/json", `{"data":{"token":"x"}}`, providers.ErrUpstream},
		{"JSON array", 200, "application/json", `[1,2]`, providers.ErrUpstream},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRecorder(t)
			r.mu.Lock()
			r.answers["/token"] = canned{tc.status, tc.ctype, tc.body}
			r.mu.Unlock()
			p := quirkProvider(t, r, providers.Quirks{Paths: map[string][]string{"access_token": {"data.access_token"}}})
			out, err := p.Refresh(t.Context(), &providers.TokenSet{AccessToken: "a", RefreshToken: "keep-me"})
			if out != nil {
				t.Errorf("got token set %+v, want none (the stored refresh token must stay)", out)
			}
			checkSentinel(t, err, tc.want)
		})
	}
}

// Refresh tokens none: a refresh makes no call and needs the user.
func TestQuirkRefreshTokensNone(t *testing.T) {
	r := newRecorder(t)
	r.answer("/token", 200, `{"access_token":"a2"}`)
	p := quirkProvider(t, r, providers.Quirks{RefreshTokens: "none"})
	_, err := p.Refresh(t.Context(), &providers.TokenSet{AccessToken: "a", RefreshToken: "r"})
	checkSentinel(t, err, providers.ErrInvalidGrant)
	if r.count() != 0 {
		t.Errorf("refresh_tokens none made %d calls, want 0", r.count())
	}
}

// The post-connection metadata call keeps chosen fields for the app; a
// failed one after a refresh does not lose the refreshed tokens.
func TestQuirkMetadataCall(t *testing.T) {
	r := newRecorder(t)
	r.answer("/token", 200, `{"access_token":"a1","refresh_token":"r1","expires_in":3600}`)
	r.answer("/oauth/token/accessible-resources", 200, `[{"id":"1324a887-45db-1bf4-1e99-ef0ff456d421","name":"Site name","url":"https://your-domain.atlassian.net"}]`)
	p := quirkProvider(t, r, providers.Quirks{Metadata: &providers.Metadata{
		URL:       "http://{host}/oauth/token/accessible-resources",
		Headers:   map[string]string{"X-Site": "{shop}"},
		Keep:      map[string]string{"cloud_id": "0.id", "site_url": "0.url"},
		OnRefresh: true,
	}})
	ts, err := p.Exchange(t.Context(), "c", authRequest())
	if err != nil {
		t.Fatal(err)
	}
	s := r.last(t)
	if s.method != http.MethodGet || s.header.Get("Authorization") != "Bearer a1" || s.header.Get("X-Site") != "acme" {
		t.Errorf("metadata call %s with %v, want GET with Bearer a1 and X-Site: acme", s.method, s.header)
	}
	if ts.Extra["cloud_id"] != "1324a887-45db-1bf4-1e99-ef0ff456d421" || ts.Extra["site_url"] != "https://your-domain.atlassian.net" {
		t.Errorf("extra = %v, want cloud_id and site_url", ts.Extra)
	}
	r.answer("/token", 200, `{"access_token":"a2","refresh_token":"r2","expires_in":3600}`)
	r.answer("/oauth/token/accessible-resources", 500, `oops`)
	out, err := p.Refresh(t.Context(), ts)
	if err != nil || out.RefreshToken != "r2" || out.Extra["cloud_id"] != ts.Extra["cloud_id"] {
		t.Errorf("refresh with a failing metadata call: got %+v, %v; want r2 and the kept cloud_id", out, err)
	}
}

// Contradicting or unknown quirks are refused, naming the field.
func TestQuirkValidation(t *testing.T) {
	base := providers.Config{Name: "c", Type: providers.TypeOAuth2, ClientID: "cid", AuthURL: "https://a.example/auth", TokenURL: "https://a.example/token"}
	for _, tc := range []struct {
		field  string
		mutate func(*providers.Config)
	}{
		{"quirks.refresh_tokens", func(c *providers.Config) {
			c.Quirks = providers.Quirks{RefreshTokens: "none", RefreshURL: "https://a.example/refresh"}
		}},
		{"{tenant}", func(c *providers.Config) { c.TokenURL = "https://{tenant}.example/token" }},
		{"quirks.token_params", func(c *providers.Config) { c.Quirks.TokenParams = map[string]string{"x": "{undeclared}"} }},
		{"quirks.request_body", func(c *providers.Config) { c.Quirks.RequestBody = "xml" }},
		{"quirks.paths.access", func(c *providers.Config) { c.Quirks.Paths = map[string][]string{"access": {"a"}} }},
		{"quirks.error_codes", func(c *providers.Config) { c.Quirks.ErrorCodes = map[string]string{"x": "fine"} }},
		{"quirks.token_headers", func(c *providers.Config) { c.Quirks.TokenHeaders = map[string]string{"Authorization": "x"} }},
		{"quirks.metadata.keep", func(c *providers.Config) { c.Quirks.Metadata = &providers.Metadata{URL: "https://a.example/me"} }},
		{"quirks.expiry", func(c *providers.Config) { c.Quirks.Expiry = "hours" }},
		{"quirks.error_path", func(c *providers.Config) { c.Quirks.ErrorPath = []string{"errors[0].code"} }},
		{"quirks.revocation_body", func(c *providers.Config) { c.Quirks.RevocationBody = "xml" }},
	} {
		c := base
		tc.mutate(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: Validate = %v, want an error naming %s", tc.field, err, tc.field)
		}
	}
	ok := base
	ok.Vars = map[string]string{"tenant": "acme"}
	ok.TokenURL = "https://{tenant}.example:8443/oauth/token"
	if err := ok.Validate(); err != nil {
		t.Errorf("declared var with a port: Validate = %v, want nil", err)
	}
}

// The catalog-style quirks a custom provider sets too: scope separator
// and parameter, kept fields, default lifetime, revocation kind.
func TestQuirkCatalogClassesForCustomProviders(t *testing.T) {
	r := newRecorder(t)
	r.answer("/token", 200, `{"access_token":"a1","instance_url":"https://na1.example.com","team":{"id":"T1"}}`)
	r.answer("/revoke", 200, `{"ok":true}`)
	p := quirkProvider(t, r, providers.Quirks{
		ScopeSeparator: "comma", ScopeParam: "user_scope",
		Keep: []string{"instance_url", "team.id"}, CallbackKeep: []string{"realmId"},
		Lifetime:   "never",
		Revocation: &providers.Revocation{Kind: "bearer", Method: http.MethodDelete},
	}, func(c *providers.Config) { c.Scopes = []string{"a", "b"} })
	u, _ := url.Parse(p.AuthCodeURL(authRequest()))
	if got := u.Query().Get("user_scope"); got != "a,b" || u.Query().Has("scope") {
		t.Errorf("authorize query %v, want user_scope=a,b", u.Query())
	}
	ts, err := p.Exchange(t.Context(), "c", authRequest())
	if err != nil {
		t.Fatal(err)
	}
	if !ts.Expiry.IsZero() || ts.Extra["instance_url"] != "https://na1.example.com" || ts.Extra["team.id"] != "T1" {
		t.Errorf("got %+v, want no expiry and the kept fields", ts)
	}
	if got := p.CallbackKeep(); len(got) != 1 || got[0] != "realmId" {
		t.Errorf("CallbackKeep = %v, want [realmId]", got)
	}
	if err := p.Revoke(t.Context(), ts); err != nil {
		t.Fatal(err)
	}
	if s := r.last(t); s.method != http.MethodDelete || s.header.Get("Authorization") != "Bearer a1" {
		t.Errorf("revoke: %s with %q, want DELETE with Bearer a1", s.method, s.header.Get("Authorization"))
	}
	bad := providers.Config{Name: "c", Type: providers.TypeOAuth2, ClientID: "cid", AuthURL: "https://a.example/a", TokenURL: "https://a.example/t",
		Quirks: providers.Quirks{Revocation: &providers.Revocation{Kind: "carrier-pigeon"}}}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "quirks.revocation.kind") {
		t.Errorf("Validate = %v, want an error naming quirks.revocation.kind", err)
	}
}

// PKCE plain (RFC 7636 §4.2): the challenge is the verifier itself, method
// plain, and the exchange sends the verifier; the Fake checks the pair.
func TestQuirkPKCEPlain(t *testing.T) {
	f := providertest.NewFake(t)
	cfg := fakeConfig(f, providers.AuthStyleHeader)
	cfg.Config.Quirks.PKCE = "plain"
	p := newProvider(t, cfg)
	u, _ := url.Parse(p.AuthCodeURL(authRequest()))
	if q := u.Query(); q.Get("code_challenge") != rfcVerifier || q.Get("code_challenge_method") != "plain" {
		t.Errorf("authorize query = %v, want the verifier as a plain challenge", q)
	}
	exchange(t, f, p)
	if got := lastRequest(t, f, providertest.EndpointToken).Form.Get("code_verifier"); got != rfcVerifier {
		t.Errorf("exchange code_verifier = %q, want %q", got, rfcVerifier)
	}
}
