package broker_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/providers/providertest"
)

// clock is a settable time source, starting at the real time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock               { return &clock{t: time.Now()} }
func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

const returnURL = "https://app.example/back"

// noRedirect is an HTTP client that shows redirects instead of following
// them, like a test standing in for the browser.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// fedSetup makes API "fed" with a connection client, and returns its
// credentials.
func fedSetup(e *env, apiBody map[string]any) (string, string) {
	if apiBody == nil {
		apiBody = map[string]any{}
	}
	apiBody["name"] = "fed"
	e.mustAdmin(201, "POST", "/apis", apiBody)
	return e.client("fed", map[string]any{"grant_types": []string{"connection", "password"}, "return_urls": []string{returnURL}})
}

// connect runs authorize → browser at the provider → callback for
// identity and returns the Location the broker sent the browser to.
func (e *env) connect(id, sec, identity, provider string, browse func(string) *url.URL) string {
	e.t.Helper()
	a := e.form("POST", "/fed/oauth2/provider/authorize", url.Values{"client_user_identity": {identity}, "provider": {provider}, "return_url": {returnURL}}, id, sec)
	if a.Status != 200 || a.str("authorization_url") == "" || a.str("state") == "" || a.Body["expires_at"] == nil {
		e.t.Fatalf("authorize: got %d %s, want authorization_url, state, expires_at", a.Status, a.Raw)
	}
	cb := browse(a.str("authorization_url"))
	if !strings.HasPrefix(cb.String(), e.URL+"/fed/oauth2/provider/callback") {
		e.t.Fatalf("provider sent the browser to %s, want the broker's callback", cb)
	}
	resp, err := noRedirect.Get(cb.String())
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		e.t.Fatalf("callback: got %d, want 302 to the return url", resp.StatusCode)
	}
	loc := resp.Header.Get("Location")
	if back, err := url.Parse(loc); err != nil || back.Query().Get("state") != a.str("state") {
		e.t.Fatalf("return redirect %s: want the state authorize answered (%s), for the app to check", loc, a.str("state"))
	}
	return loc
}

func (e *env) connToken(id, sec string, v url.Values) answer {
	e.t.Helper()
	return e.form("POST", "/fed/oauth2/token", v, id, sec)
}

// The whole round trip against a real OpenID provider.
func TestFederationRoundTripWithOpenIDProvider(t *testing.T) {
	clk := newClock()
	e := newEnvOpts(t, adminToken, clk.now)
	id, sec := fedSetup(e, nil)
	op := providertest.StartOP(t, providertest.OPConfig{RedirectURIs: []string{e.URL + "/fed/oauth2/provider/callback/corp"}})
	p := e.mustAdmin(200, "PUT", "/apis/fed/providers/corp", map[string]any{
		"type": "oidc", "issuer": op.Issuer, "client_id": op.ClientID, "client_secret": op.ClientSecret,
		"scopes": []string{"openid", "offline_access", "email"},
	})
	if strings.Contains(p.Raw, op.ClientSecret) {
		t.Fatalf("provider answer shows the upstream secret")
	}

	loc := e.connect(id, sec, "u1", "corp", func(u string) *url.URL { return op.Login(t, u) })
	back, _ := url.Parse(loc)
	if q := back.Query(); back.Scheme+"://"+back.Host+back.Path != returnURL || len(q) != 3 || q.Get("status") != "connected" || q.Get("provider") != "corp" {
		t.Fatalf("return redirect: got %s, want status=connected, provider and state, nothing else", loc)
	}
	tok := e.connToken(id, sec, url.Values{"client_user_identity": {"u1"}})
	if tok.Status != 200 || tok.str("access_token") == "" || tok.str("id_token") == "" || tok.str("provider") != "corp" ||
		tok.str("client_user_identity") != "u1" || tok.Body["expires_at"] == nil || tok.Body["refresh_token"] != nil {
		t.Fatalf("connection token: got %d %s, want access_token, id_token, expires_at, provider, identity and no refresh_token", tok.Status, tok.Raw)
	}
	if tok.Header.Get("Cache-Control") != "no-store" || op.RefreshCount() != 0 {
		t.Errorf("fresh token: Cache-Control %q, %d refreshes; want no-store and 0", tok.Header.Get("Cache-Control"), op.RefreshCount())
	}

	// Near expiry, 50 concurrent requests cause exactly one upstream refresh.
	clk.add(providertest.OPAccessTokenLifetime - 30*time.Second)
	var wg sync.WaitGroup
	tokens := make([]string, 50)
	for i := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := e.connToken(id, sec, url.Values{"client_user_identity": {"u1"}, "provider": {"corp"}})
			tokens[i] = a.str("access_token")
		}()
	}
	wg.Wait()
	if n := op.RefreshCount(); n != 1 {
		t.Fatalf("upstream refreshes for 50 concurrent requests: got %d, want exactly 1", n)
	}
	for i, at := range tokens {
		if at == "" || at == tok.str("access_token") || at != tokens[0] {
			t.Fatalf("request %d got %q, want the one refreshed token %q", i, at, tokens[0])
		}
	}
	// force_refresh as a string and as a JSON boolean.
	e.connToken(id, sec, url.Values{"client_user_identity": {"u1"}, "force_refresh": {"true"}})
	if f := e.json("POST", "/fed/oauth2/token", map[string]any{"client_user_identity": "u1", "force_refresh": true, "client_id": id, "client_secret": sec}); f.Status != 200 || op.RefreshCount() != 3 {
		t.Errorf("force_refresh: got %d and %d refreshes, want 200 and 3", f.Status, op.RefreshCount())
	}

	list := e.do(basicGet(e.URL+"/fed/oauth2/connections?client_user_identity=u1", id, sec))
	conns, _ := list.Body["connections"].([]any)
	if list.Status != 200 || len(conns) != 1 || conns[0].(map[string]any)["status"] != "active" || conns[0].(map[string]any)["refreshed_at"] == nil {
		t.Fatalf("connections: got %d %s, want one active refreshed connection", list.Status, list.Raw)
	}
	if strings.Contains(list.Raw, tokens[0]) {
		t.Errorf("connections list shows a token")
	}

	rv := e.form("POST", "/fed/oauth2/revoke", url.Values{"client_user_identity": {"u1"}}, id, sec)
	if rv.Status != 200 || rv.str("upstream_revocation") != "revoked" || op.RevokeCount() != 1 {
		t.Fatalf("revoke: got %d %s (%d upstream revocations), want 200 revoked", rv.Status, rv.Raw, op.RevokeCount())
	}
	if again := e.form("POST", "/fed/oauth2/revoke", url.Values{"client_user_identity": {"u1"}}, id, sec); again.Status != 200 {
		t.Errorf("revoke again: got %d %s, want 200", again.Status, again.Raw)
	}
	if gone := e.connToken(id, sec, url.Values{"client_user_identity": {"u1"}}); gone.Status != 400 || gone.str("error") != "invalid_grant" {
		t.Errorf("token after revoke: got %d %s, want 400 invalid_grant", gone.Status, gone.Raw)
	}
	for _, secret := range []string{tokens[0], op.ClientSecret, sec} {
		if strings.Contains(e.Logs.String(), secret) {
			t.Errorf("logs contain a token or secret")
		}
	}
}

func basicGet(u, id, sec string) *http.Request {
	r, _ := http.NewRequest("GET", u, nil)
	r.SetBasicAuth(id, sec)
	return r
}

// fakeProvider registers the fake upstream as provider "fake".
func (e *env) fakeProvider(f *providertest.Fake) {
	e.t.Helper()
	e.mustAdmin(200, "PUT", "/apis/fed/providers/fake", map[string]any{
		"type": "oauth2", "auth_url": f.AuthURL, "token_url": f.TokenURL, "revocation_url": f.RevocationURL,
		"client_id": f.ClientID, "client_secret": f.ClientSecret, "scopes": []string{"read"},
	})
}

func TestFederationCallbackSecurity(t *testing.T) {
	e := newEnv(t)
	id, sec := fedSetup(e, nil)
	f := providertest.NewFake(t)
	e.fakeProvider(f)
	a := e.form("POST", "/fed/oauth2/provider/authorize", url.Values{"client_user_identity": {"u1"}}, id, sec)
	q := mustURL(t, a.str("authorization_url")).Query()
	if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 || q.Get("state") != a.str("state") ||
		q.Get("redirect_uri") != e.URL+"/fed/oauth2/provider/callback/fake" || q.Get("scope") != "read" {
		t.Fatalf("authorization url: got %s, want PKCE S256, the state, the callback and the scope", a.str("authorization_url"))
	}
	cb := f.Authorize(t, a.str("authorization_url"))
	first, _ := noRedirect.Get(cb.String())
	first.Body.Close()
	if first.StatusCode != 200 || !strings.HasPrefix(first.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("callback without return_url: got %d %s, want the HTML page", first.StatusCode, first.Header.Get("Content-Type"))
	}
	replay, _ := noRedirect.Get(cb.String())
	replay.Body.Close()
	if replay.StatusCode != 400 {
		t.Errorf("replayed callback: got %d, want 400", replay.StatusCode)
	}
	if n := f.ExchangeCount(); n != 1 {
		t.Errorf("upstream code exchanges: got %d, want 1 (a replay must not exchange)", n)
	}
	for _, r := range f.Requests() {
		if r.Endpoint == providertest.EndpointToken && r.Form.Get("code_verifier") == "" {
			t.Errorf("code exchange without a PKCE verifier")
		}
	}
	// Errors from the provider reach the return url, never a token.
	f.Update(func(b *providertest.Behavior) { b.AuthorizeError = "access_denied" })
	loc := e.connect(id, sec, "u2", "", func(u string) *url.URL { return f.Authorize(t, u) })
	if back, _ := url.Parse(loc); !strings.HasPrefix(loc, returnURL+"?") || back.Query().Get("status") != "error" ||
		back.Query().Get("error") != "access_denied" || back.Query().Get("provider") != "fake" || len(back.Query()) != 4 {
		t.Errorf("denied: got %s, want status=error&error=access_denied, provider and state", loc)
	}
	if a := e.form("POST", "/fed/oauth2/provider/authorize", url.Values{"client_user_identity": {"u1"}, "return_url": {"https://evil.example/"}}, id, sec); a.Status != 400 {
		t.Errorf("unregistered return_url: got %d, want 400", a.Status)
	}
	for name, identity := range map[string]string{"nul": "a\x00b", "huge": strings.Repeat("x", 5000), "control": "a\nb"} {
		if a := e.connToken(id, sec, url.Values{"client_user_identity": {identity}}); a.Status != 400 || a.str("error") != "invalid_request" {
			t.Errorf("%s identity: got %d %s, want 400 invalid_request", name, a.Status, a.Raw)
		}
	}
	other, otherSec := e.client("fed", map[string]any{"grant_types": []string{"client_credentials"}})
	if a := e.form("POST", "/fed/oauth2/provider/authorize", url.Values{"client_user_identity": {"u1"}}, other, otherSec); a.Status != 400 || a.str("error") != "unauthorized_client" {
		t.Errorf("client without the connection grant: got %d %s, want 400 unauthorized_client", a.Status, a.Raw)
	}
}

func TestFederationNeedsReauthAndUnavailable(t *testing.T) {
	clk := newClock()
	e := newEnvOpts(t, adminToken, clk.now)
	id, sec := fedSetup(e, map[string]any{"expose_refresh_token": true})
	f := providertest.NewFake(t)
	e.fakeProvider(f)
	e.connect(id, sec, "u1", "fake", func(u string) *url.URL { return f.Authorize(t, u) })
	first := e.connToken(id, sec, url.Values{"client_user_identity": {"u1"}})
	if first.str("refresh_token") == "" {
		t.Errorf("API with expose_refresh_token: got %s, want the upstream refresh_token", first.Raw)
	}

	f.Update(func(b *providertest.Behavior) { b.RefreshFail = providertest.FailUnavailable })
	clk.add(2 * time.Hour)
	down := e.connToken(id, sec, url.Values{"client_user_identity": {"u1"}})
	if down.Status != 503 || down.str("error") != "temporarily_unavailable" || down.Header.Get("Retry-After") != "1" {
		t.Errorf("upstream 503 on an expired token: got %d %s (Retry-After %q), want 503 temporarily_unavailable with the upstream's Retry-After: 1",
			down.Status, down.Raw, down.Header.Get("Retry-After"))
	}
	clk.add(time.Second) // the upstream's Retry-After: no refresh is sent before it
	f.Update(func(b *providertest.Behavior) { b.RefreshFail = providertest.FailInvalidGrant })
	dead := e.connToken(id, sec, url.Values{"client_user_identity": {"u1"}})
	if dead.Status != 400 || dead.str("error") != "invalid_grant" || dead.str("connection_status") != "needs_reauth" {
		t.Fatalf("refused refresh: got %d %s, want 400 invalid_grant with connection_status needs_reauth", dead.Status, dead.Raw)
	}
	for _, line := range strings.Split(e.Logs.String(), "\n") {
		if strings.Contains(line, "connection refresh failed") && !strings.Contains(line, "request_id=") {
			t.Errorf("a log line below the HTTP layer lacks the request id: %s", line)
		}
	}
	refreshes := f.RefreshCount()
	if again := e.connToken(id, sec, url.Values{"client_user_identity": {"u1"}}); again.str("connection_status") != "needs_reauth" || f.RefreshCount() != refreshes {
		t.Errorf("needs_reauth again: got %s and %d more upstream calls, want needs_reauth and none", again.Raw, f.RefreshCount()-refreshes)
	}
	list := e.mustAdmin(200, "GET", "/apis/fed/connections?client_user_identity=u1", nil)
	if !strings.Contains(list.Raw, `"status":"needs_reauth"`) || !strings.Contains(list.Raw, `"last_error":"invalid_grant"`) {
		t.Errorf("admin connections: got %s, want needs_reauth with last_error", list.Raw)
	}
	// Reconnecting replaces the token set and makes it active again.
	f.Update(func(b *providertest.Behavior) { b.RefreshFail = providertest.FailNone })
	e.connect(id, sec, "u1", "fake", func(u string) *url.URL { return f.Authorize(t, u) })
	if ok := e.connToken(id, sec, url.Values{"client_user_identity": {"u1"}}); ok.Status != 200 {
		t.Errorf("after reconnecting: got %d %s, want 200", ok.Status, ok.Raw)
	}
}

func TestTokenExchangeForUpstreamToken(t *testing.T) {
	e := newEnv(t)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "fed"})
	id, sec := e.client("fed", map[string]any{"grant_types": []string{"connection", "password", "token_exchange"}, "return_urls": []string{returnURL}})
	e.mustAdmin(201, "POST", "/apis/fed/users", map[string]any{"username": "alice", "password": "wonderland"})
	f := providertest.NewFake(t)
	e.fakeProvider(f)
	e.connect(id, sec, "alice", "fake", func(u string) *url.URL { return f.Authorize(t, u) })
	login := e.form("POST", "/fed/oauth2/token", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"wonderland"}}, id, sec)
	exchange := func(subject, clientID, clientSecret string) answer {
		return e.form("POST", "/fed/oauth2/token", url.Values{
			"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "subject_token": {subject},
			"subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"}, "resource": {"fake"},
		}, clientID, clientSecret)
	}
	x := exchange(login.str("access_token"), id, sec)
	if x.Status != 200 || !strings.HasPrefix(x.str("access_token"), "at-") || x.str("issued_token_type") != "urn:ietf:params:oauth:token-type:access_token" || x.Body["refresh_token"] != nil {
		t.Fatalf("token exchange: got %d %s, want the upstream access token", x.Status, x.Raw)
	}
	// An invalid or unacceptable subject_token is invalid_request
	// (RFC 8693 §2.2.2).
	if bad := exchange("forged", id, sec); bad.Status != 400 || bad.str("error") != "invalid_request" {
		t.Errorf("forged subject token: got %d %s, want 400 invalid_request", bad.Status, bad.Raw)
	}
	// Another client holding the user's token never reaches this client's
	// connections.
	other, otherSec := e.client("fed", map[string]any{"grant_types": []string{"token_exchange", "client_credentials"}})
	if cross := exchange(login.str("access_token"), other, otherSec); cross.Status != 400 || cross.str("error") != "invalid_request" {
		t.Errorf("exchange by another client: got %d %s, want 400 invalid_request", cross.Status, cross.Raw)
	}
	machine := e.form("POST", "/fed/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, other, otherSec).str("access_token")
	if notUser := exchange(machine, other, otherSec); notUser.Status != 400 || notUser.str("error") != "invalid_request" {
		t.Errorf("subject token of no end user: got %d %s, want 400 invalid_request", notUser.Status, notUser.Raw)
	}
	e.form("POST", "/fed/oauth2/revoke", url.Values{"token": {login.str("access_token")}}, id, sec)
	if revoked := exchange(login.str("access_token"), id, sec); revoked.Status != 400 || revoked.str("error") != "invalid_request" {
		t.Errorf("revoked subject token: got %d %s, want 400 invalid_request", revoked.Status, revoked.Raw)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// Deleting a client revokes and deletes its connections, so a new client
// with the same id inherits nothing.
func TestDeletingAClientRevokesItsConnections(t *testing.T) {
	e := newEnv(t)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "fed"})
	id, sec := e.client("fed", map[string]any{"client_id": "app", "grant_types": []string{"connection"}})
	f := providertest.NewFake(t)
	e.fakeProvider(f)
	e.connect2(id, sec, "u1", f)
	e.mustAdmin(204, "DELETE", "/apis/fed/clients/app", nil)
	if f.RevokeCount() != 1 {
		t.Errorf("upstream revocations: got %d, want 1", f.RevokeCount())
	}
	id2, sec2 := e.client("fed", map[string]any{"client_id": "app", "grant_types": []string{"connection"}})
	if a := e.connToken(id2, sec2, url.Values{"client_user_identity": {"u1"}}); a.Status != 400 || a.str("connection_status") != "none" {
		t.Errorf("new client with the old id: got %d %s, want no connection", a.Status, a.Raw)
	}
}

// connect2 connects without a return url (the page is shown).
func (e *env) connect2(id, sec, identity string, f *providertest.Fake) {
	e.t.Helper()
	a := e.form("POST", "/fed/oauth2/provider/authorize", url.Values{"client_user_identity": {identity}}, id, sec)
	resp, err := noRedirect.Get(f.Authorize(e.t, a.str("authorization_url")).String())
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		e.t.Fatalf("callback: got %d, want 200", resp.StatusCode)
	}
}
