package broker_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/oauth2broker/oauth2broker/broker"
	"github.com/oauth2broker/oauth2broker/providers/providertest"
)

// The account-linking CSRF of a connect-page flow (RFC 9700 §4.7): an
// attacker starts Connect for their own identity, stops before the
// provider and has a victim finish the provider's URL. The flow is bound
// to the attacker's browser, so the victim's callback links nothing.
func TestConnectPageFlowIsBoundToTheBrowser(t *testing.T) {
	e := newEnv(t)
	id, sec := fedSetup(e, nil)
	f := providertest.NewFake(t)
	e.fakeProvider(f)
	attacker := newBrowser(t)
	start := func(b *browser) string { return b.connect(e, f, b.openSession(e, id, sec, "mallory")) }
	authURL := start(attacker)
	cb := f.Authorize(t, authURL) // the victim, logged in at the provider
	status, back, _ := newBrowser(t).get(cb.String())
	if q := mustURL(t, back).Query(); status != 302 || q.Get("status") != "error" || q.Get("error") != "access_denied" {
		t.Errorf("the victim's callback: got %d → %s, want back to the page with error=access_denied", status, back)
	}
	if n := f.ExchangeCount(); n != 0 {
		t.Errorf("code exchanges: got %d, want 0", n)
	}
	if tok := e.connToken(id, sec, url.Values{"client_user_identity": {"mallory"}}); tok.Status == 200 {
		t.Errorf("the attacker's identity got a connection: %s", tok.Raw)
	}
	// The cookie that binds the flow: HttpOnly, SameSite=Lax, scoped to
	// the callbacks.
	u, _ := url.Parse(e.URL + "/fed/oauth2/provider/callback/fake")
	if cks := attacker.c.Jar.Cookies(u); len(cks) != 1 || cks[0].Name != "oauth2broker_flow" {
		t.Errorf("flow cookie at the callback: got %v", cks)
	}
	if cks := attacker.c.Jar.Cookies(mustURL(t, e.URL+"/fed/oauth2/connect")); len(cks) != 1 {
		t.Errorf("cookies at the connect page: got %v, want only the session", cks)
	}
	// The browser that started the flow completes it.
	cb = f.Authorize(t, start(attacker))
	status, back, _ = attacker.get(cb.String())
	if status != 302 || mustURL(t, back).Query().Get("status") != "connected" {
		t.Errorf("the starting browser's callback: got %d → %s, want connected", status, back)
	}
}

// The flow cookie's attributes.
func TestConnectFlowCookieAttributes(t *testing.T) {
	e := newEnv(t)
	id, sec := fedSetup(e, nil)
	f := providertest.NewFake(t)
	e.fakeProvider(f)
	b := newBrowser(t)
	csrf := b.openSession(e, id, sec, "alice")
	req, _ := http.NewRequest("POST", e.URL+"/fed/oauth2/connect/action", strings.NewReader(url.Values{"csrf": {csrf}, "provider": {"fake"}, "action": {"connect"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	set := resp.Header.Get("Set-Cookie")
	for _, want := range []string{"oauth2broker_flow=", "Path=/fed/oauth2/provider/callback", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(set, want) {
			t.Errorf("flow cookie %q: want %s", set, want)
		}
	}
}

// Opening a connect link sets no session: only the page's own
// same-origin POST does (session fixation by a cross-site navigation).
func TestConnectLinkSetsNoSessionCrossSite(t *testing.T) {
	e := newEnv(t)
	id, sec := fedSetup(e, nil)
	link := e.form("POST", "/fed/oauth2/connect/link", url.Values{"client_user_identity": {"mallory"}}, id, sec).str("url")
	resp, err := noRedirect.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Set-Cookie") != "" {
		t.Errorf("GET of the link: got %d with Set-Cookie %q, want the page and no cookie", resp.StatusCode, resp.Header.Get("Set-Cookie"))
	}
	page := strings.Split(link, "?")[0]
	linkID := mustURL(t, link).Query().Get("link")
	b := newBrowser(t)
	if status, _ := b.postFrom(page, url.Values{"link": {linkID}}, "cross-site"); status != 403 {
		t.Errorf("cross-site POST: got %d, want 403", status)
	}
	req, _ := http.NewRequest("POST", page, strings.NewReader(url.Values{"link": {linkID}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://attacker.example")
	if r, err := noRedirect.Do(req); err != nil || r.StatusCode != 403 || r.Header.Get("Set-Cookie") != "" {
		t.Errorf("POST from another Origin: got %v %v, want 403 without a cookie", r.StatusCode, err)
	}
	if status, loc := b.enter(link); status != 303 || loc != page {
		t.Errorf("the page's own Continue: got %d → %s, want 303 to the page (the link still unused)", status, loc)
	}
}

// authorize's binding: the callback keeps the tokens pending; only the
// app's confirm with the same binding stores the connection.
func TestAuthorizeBindingNeedsConfirmation(t *testing.T) {
	e := newEnv(t)
	id, sec := fedSetup(e, nil)
	f := providertest.NewFake(t)
	e.fakeProvider(f)
	if a := e.form("POST", "/fed/oauth2/provider/authorize", url.Values{"client_user_identity": {"mallory"}, "binding": {"b"}}, id, sec); a.Status != 400 {
		t.Errorf("binding without return_url: got %d, want 400", a.Status)
	}
	flow := func(binding string) string {
		a := e.form("POST", "/fed/oauth2/provider/authorize", url.Values{"client_user_identity": {"mallory"}, "return_url": {returnURL}, "binding": {binding}}, id, sec)
		resp, err := noRedirect.Get(f.Authorize(t, a.str("authorization_url")).String())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		q := mustURL(t, resp.Header.Get("Location")).Query()
		if q.Get("status") != "pending" || q.Get("state") != a.str("state") {
			t.Fatalf("bound callback: got %s, want status=pending and the state", resp.Header.Get("Location"))
		}
		return a.str("state")
	}
	confirm := func(state, binding string) answer {
		return e.form("POST", "/fed/oauth2/provider/confirm", url.Values{"state": {state}, "binding": {binding}}, id, sec)
	}
	// The attacker's flow, finished in the victim's browser: the app
	// confirms with the victim's session binding, which does not match.
	st := flow("hash-of-mallory-session")
	if tok := e.connToken(id, sec, url.Values{"client_user_identity": {"mallory"}}); tok.Status == 200 {
		t.Fatalf("a pending flow is already connected")
	}
	if c := confirm(st, "hash-of-victim-session"); c.Status != 403 || c.str("error") != "access_denied" {
		t.Errorf("confirm with another binding: got %d %s, want 403 access_denied", c.Status, c.Raw)
	}
	if n := f.RevokeCount(); n != 1 {
		t.Errorf("upstream revocations of the dropped tokens: got %d, want 1", n)
	}
	if c := confirm(st, "hash-of-mallory-session"); c.Status != 400 || c.str("error") != "invalid_grant" {
		t.Errorf("confirm after a refused one: got %d %s, want 400 invalid_grant", c.Status, c.Raw)
	}
	if tok := e.connToken(id, sec, url.Values{"client_user_identity": {"mallory"}}); tok.Status == 200 {
		t.Errorf("a refused flow got connected")
	}
	// The honest flow.
	st = flow("hash-of-mallory-session")
	other, otherSec := e.client("fed", map[string]any{"grant_types": []string{"connection"}})
	if c := e.form("POST", "/fed/oauth2/provider/confirm", url.Values{"state": {st}, "binding": {"hash-of-mallory-session"}}, other, otherSec); c.Status != 400 {
		t.Errorf("another client's confirm: got %d %s, want 400", c.Status, c.Raw)
	}
	if c := confirm(st, "hash-of-mallory-session"); c.Status != 200 || c.str("status") != "connected" || c.str("provider") != "fake" {
		t.Fatalf("confirm: got %d %s, want connected", c.Status, c.Raw)
	}
	if tok := e.connToken(id, sec, url.Values{"client_user_identity": {"mallory"}}); tok.Status != 200 {
		t.Errorf("token after confirming: got %d %s", tok.Status, tok.Raw)
	}
}

// Each provider has its own callback; a provider configured with the
// shared one keeps it; the admin view shows what to register.
func TestProviderCallbackPaths(t *testing.T) {
	e := newEnv(t)
	id, sec := fedSetup(e, nil)
	f, g := providertest.NewFake(t), providertest.NewFake(t)
	e.fakeProvider(f)
	p := e.mustAdmin(200, "PUT", "/apis/fed/providers/legacy", map[string]any{
		"type": "oauth2", "auth_url": g.AuthURL, "token_url": g.TokenURL, "client_id": g.ClientID, "client_secret": g.ClientSecret, "callback": "shared",
	})
	if p.str("callback_url") != e.URL+"/fed/oauth2/provider/callback" || p.str("callback") != "shared" {
		t.Errorf("shared provider view: got %s", p.Raw)
	}
	// Saving it again without "callback" keeps what is registered.
	e.mustAdmin(200, "PUT", "/apis/fed/providers/legacy", map[string]any{"type": "oauth2", "auth_url": g.AuthURL, "token_url": g.TokenURL, "client_id": g.ClientID, "client_secret": g.ClientSecret})
	if v := e.mustAdmin(200, "GET", "/apis/fed/providers/fake", nil); v.str("callback_url") != e.URL+"/fed/oauth2/provider/callback/fake" || v.str("callback") != "provider" {
		t.Errorf("new provider view: got %s", v.Raw)
	}
	authorize := func(provider string) *url.URL {
		a := e.form("POST", "/fed/oauth2/provider/authorize", url.Values{"client_user_identity": {"u"}, "provider": {provider}}, id, sec)
		if a.Status != 200 {
			t.Fatalf("authorize %s: got %d %s", provider, a.Status, a.Raw)
		}
		return mustURL(t, a.str("authorization_url"))
	}
	if got := authorize("legacy").Query().Get("redirect_uri"); got != e.URL+"/fed/oauth2/provider/callback" {
		t.Errorf("legacy redirect_uri: got %s, want the shared callback", got)
	}
	// fake's code, brought to legacy's callback or to the shared one.
	for _, path := range []string{"/fed/oauth2/provider/callback/legacy", "/fed/oauth2/provider/callback"} {
		cb := f.Authorize(t, authorize("fake").String())
		cb.Path = path
		if status, _, _ := newBrowser(t).get(cb.String()); status != 400 {
			t.Errorf("fake's code at %s: got %d, want 400", path, status)
		}
	}
	cb := g.Authorize(t, authorize("legacy").String())
	cb.Path = "/fed/oauth2/provider/callback/legacy"
	if status, _, _ := newBrowser(t).get(cb.String()); status != 400 {
		t.Errorf("legacy's code at its own path: got %d, want 400", status)
	}
	if f.ExchangeCount()+g.ExchangeCount() != 0 {
		t.Fatalf("codes were exchanged at the wrong callback")
	}
	for name, fk := range map[string]*providertest.Fake{"fake": f, "legacy": g} {
		if status, _, body := newBrowser(t).get(fk.Authorize(t, authorize(name).String()).String()); status != 200 {
			t.Errorf("%s at its registered callback: got %d %s", name, status, body)
		}
	}
}

// An app asks only for the upstream scopes the provider allows.
func TestAuthorizeScopeLimitedToProvider(t *testing.T) {
	e := newEnv(t)
	id, sec := fedSetup(e, nil)
	gh := map[string]any{"template": "github", "client_id": "gh-id", "client_secret": "gh-secret", "scopes": []string{"read:user"}}
	e.mustAdmin(200, "PUT", "/apis/fed/providers/github", gh)
	ask := func(scope string) answer {
		return e.form("POST", "/fed/oauth2/provider/authorize", url.Values{"client_user_identity": {"u"}, "scope": {scope}}, id, sec)
	}
	if a := ask("read:user delete_repo"); a.Status != 400 || a.str("error") != "invalid_scope" {
		t.Errorf("delete_repo: got %d %s, want 400 invalid_scope", a.Status, a.Raw)
	}
	if a := ask("read:user"); a.Status != 200 {
		t.Errorf("a configured scope: got %d %s", a.Status, a.Raw)
	}
	gh["allowed_scopes"] = []string{"delete_repo"}
	if v := e.mustAdmin(200, "PUT", "/apis/fed/providers/github", gh); !strings.Contains(v.Raw, `"allowed_scopes":["delete_repo"]`) {
		t.Errorf("provider view: got %s, want allowed_scopes", v.Raw)
	}
	if a := ask("delete_repo"); a.Status != 200 || mustURL(t, a.str("authorization_url")).Query().Get("scope") != "delete_repo" {
		t.Errorf("an allowed scope: got %d %s", a.Status, a.Raw)
	}
}

// Shopify's callback hmac is verified with the client secret.
func TestShopifyCallbackHMACVerified(t *testing.T) {
	e := newEnv(t)
	id, sec := fedSetup(e, nil)
	f := providertest.NewFake(t)
	e.mustAdmin(200, "PUT", "/apis/fed/providers/shop", map[string]any{
		"template": "shopify", "vars": map[string]string{"shop": "example-store"}, "auth_url": f.AuthURL, "token_url": f.TokenURL,
		"client_id": f.ClientID, "client_secret": f.ClientSecret,
	})
	callback := func(sign func(q url.Values)) int {
		a := e.form("POST", "/fed/oauth2/provider/authorize", url.Values{"client_user_identity": {"u"}}, id, sec)
		cb := f.Authorize(t, a.str("authorization_url"))
		q := cb.Query()
		q.Set("shop", "example-store.myshopify.com")
		q.Set("timestamp", "1337178173")
		sign(q)
		cb.RawQuery = q.Encode()
		status, _, _ := newBrowser(t).get(cb.String())
		return status
	}
	signed := func(q url.Values) {
		msg := "code=" + q.Get("code") + "&shop=" + q.Get("shop") + "&state=" + q.Get("state") + "&timestamp=" + q.Get("timestamp")
		mac := hmac.New(sha256.New, []byte(f.ClientSecret))
		mac.Write([]byte(msg))
		q.Set("hmac", hex.EncodeToString(mac.Sum(nil)))
	}
	if status := callback(func(q url.Values) { signed(q); q.Set("timestamp", "1337178174") }); status != 400 {
		t.Errorf("a changed parameter: got %d, want 400", status)
	}
	if status := callback(func(url.Values) {}); status != 400 {
		t.Errorf("no hmac: got %d, want 400", status)
	}
	if n := f.ExchangeCount(); n != 0 {
		t.Fatalf("code exchanges after bad hmacs: got %d, want 0", n)
	}
	if status := callback(signed); status != 200 || f.ExchangeCount() != 1 {
		t.Errorf("the computed hmac: got %d, %d exchanges, want 200 and 1", status, f.ExchangeCount())
	}
}

// Behind https, the flow cookie is Secure, and a SameSite=None copy
// serves providers that post their callback cross-site (Apple's
// form_post), where a Lax cookie is not sent.
func TestConnectFlowCookiesOverHTTPS(t *testing.T) {
	const public = "https://broker.example"
	e := newEnvConfig(t, func(c *broker.Config) { c.PublicURL = public })
	id, sec := fedSetup(e, nil)
	f := providertest.NewFake(t)
	e.fakeProvider(f)
	link := mustURL(t, e.form("POST", "/fed/oauth2/connect/link", url.Values{"client_user_identity": {"alice"}}, id, sec).str("url"))
	post := func(path string, form url.Values, cookie string) *http.Response {
		req, _ := http.NewRequest("POST", e.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	enter := post("/fed/oauth2/connect", url.Values{"link": {link.Query().Get("link")}}, "")
	session := enter.Cookies()
	if enter.StatusCode != 303 || len(session) != 1 || !session[0].Secure {
		t.Fatalf("entering: got %d with cookies %v, want 303 and a Secure session", enter.StatusCode, session)
	}
	req, _ := http.NewRequest("GET", e.URL+"/fed/oauth2/connect", nil)
	req.AddCookie(session[0])
	page := e.do(req)
	csrf := csrfRE.FindStringSubmatch(page.Raw)[1]
	resp := post("/fed/oauth2/connect/action", url.Values{"csrf": {csrf}, "provider": {"fake"}, "action": {"connect"}}, session[0].Name+"="+session[0].Value)
	got := map[string]*http.Cookie{}
	for _, ck := range resp.Cookies() {
		got[ck.Name] = ck
	}
	lax, none := got["oauth2broker_flow"], got["oauth2broker_flow_post"]
	if resp.StatusCode != 303 || lax == nil || none == nil {
		t.Fatalf("Connect: got %d with cookies %v, want both flow cookies", resp.StatusCode, resp.Cookies())
	}
	if !lax.Secure || !lax.HttpOnly || lax.SameSite != http.SameSiteLaxMode || lax.Path != "/fed/oauth2/provider/callback" {
		t.Errorf("Lax flow cookie: got %+v", lax)
	}
	if !none.Secure || !none.HttpOnly || none.SameSite != http.SameSiteNoneMode || none.Value != lax.Value || none.Path != lax.Path {
		t.Errorf("form_post flow cookie: got %+v", none)
	}
	// A cross-site POST back carries only the SameSite=None copy.
	cb := f.Authorize(t, resp.Header.Get("Location"))
	back := post("/fed/oauth2/provider/callback/fake", cb.Query(), none.Name+"="+none.Value)
	if q := mustURL(t, back.Header.Get("Location")).Query(); back.StatusCode != 302 || q.Get("status") != "connected" {
		t.Errorf("form_post callback with the None cookie: got %d → %s, want connected", back.StatusCode, back.Header.Get("Location"))
	}
}

// Two Connects started in one browser (two tabs) both complete: the
// second does not replace the secret the first flow is bound to.
func TestConnectPageFlowsInTwoTabs(t *testing.T) {
	e := newEnv(t)
	id, sec := fedSetup(e, nil)
	f := providertest.NewFake(t)
	e.fakeProvider(f)
	b := newBrowser(t)
	csrf := b.openSession(e, id, sec, "alice")
	first, second := b.connect(e, f, csrf), b.connect(e, f, csrf)
	for name, authURL := range map[string]string{"first tab": first, "second tab": second} {
		status, back, _ := b.get(f.Authorize(t, authURL).String())
		if status != 302 || mustURL(t, back).Query().Get("status") != "connected" {
			t.Errorf("%s's callback: got %d → %s, want connected", name, status, back)
		}
	}
}

// openSession opens a new connect link for identity in b (the page's
// Continue) and returns the page's CSRF token.
func (b *browser) openSession(e *env, id, sec, identity string) string {
	b.t.Helper()
	link := e.form("POST", "/fed/oauth2/connect/link", url.Values{"client_user_identity": {identity}}, id, sec)
	if status, _ := b.enter(link.str("url")); status != 303 {
		b.t.Fatalf("opening the link: got %d", status)
	}
	_, _, page := b.get(e.URL + "/fed/oauth2/connect")
	return csrfRE.FindStringSubmatch(page)[1]
}

// connect presses Connect for f on the page and returns the provider's
// authorization URL.
func (b *browser) connect(e *env, f *providertest.Fake, csrf string) string {
	b.t.Helper()
	status, authURL, _ := b.post(e.URL+"/fed/oauth2/connect/action", url.Values{"csrf": {csrf}, "provider": {"fake"}, "action": {"connect"}})
	if status != 303 || !strings.HasPrefix(authURL, f.AuthURL) {
		b.t.Fatalf("Connect: got %d → %s", status, authURL)
	}
	return authURL
}
