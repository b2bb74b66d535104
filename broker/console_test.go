package broker_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// consoleUser is a person in the console without a browser: a cookie
// jar and the CSRF token of the last page.
type consoleUser struct {
	t    *testing.T
	e    *env
	hc   *http.Client
	csrf string
}

var consoleCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func newConsoleUser(t *testing.T, e *env) *consoleUser {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &consoleUser{t: t, e: e, hc: hc}
}

// consolePage is a console answer.
type consolePage struct {
	Status int
	Header http.Header
	Body   string
}

func (u *consoleUser) do(method, path string, form url.Values) consolePage {
	u.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u.e.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := u.hc.Do(req)
	if err != nil {
		u.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if m := consoleCSRF.FindStringSubmatch(string(b)); m != nil {
		u.csrf = m[1]
	}
	return consolePage{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

// post sends a console form with the current CSRF token.
func (u *consoleUser) post(path string, form url.Values) consolePage {
	u.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", u.csrf)
	return u.do("POST", path, form)
}

func (u *consoleUser) signIn(credential string) consolePage {
	u.t.Helper()
	u.do("GET", "/admin/console/signin", nil)
	return u.post("/admin/console/signin", url.Values{"credential": {credential}})
}

// Every console page answers with its security headers and, signed in,
// renders what the admin API holds; the sign-in takes only what the
// admin API takes; a form without the session's CSRF token is refused.
func TestConsolePagesOverHTTP(t *testing.T) {
	e := newEnv(t)
	u := newConsoleUser(t, e)
	if p := u.do("GET", "/admin/console/", nil); p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/admin/console/signin" {
		t.Fatalf("signed out: got %d to %q, want 303 to the sign-in form", p.Status, p.Header.Get("Location"))
	}
	if p := u.signIn("wrong-token"); p.Status != http.StatusUnauthorized {
		t.Fatalf("sign-in with a wrong token: got %d, want 401", p.Status)
	}
	if p := u.signIn(adminToken); p.Status != http.StatusSeeOther {
		t.Fatalf("sign-in: got %d %s, want 303", p.Status, p.Body)
	}
	u.do("GET", "/admin/console/", nil) // the session's CSRF token
	if p := u.post("/admin/console/apis", url.Values{"name": {"shop"}, "ttl_minutes": {"5"}, "token_paths": {"/api/token"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("create API: got %d %s", p.Status, p.Body)
	}
	pages := map[string]string{
		"/admin/console/":                                        "shop",
		"/admin/console/apis":                                    "/api/token",
		"/admin/console/apis/shop":                               e.URL + "/.well-known/oauth-authorization-server/shop",
		"/admin/console/apis/shop/clients":                       "Create a client",
		"/admin/console/apis/shop/users":                         "Create a user",
		"/admin/console/apis/shop/providers":                     "Google",
		"/admin/console/apis/shop/connections":                   "No connections match",
		"/admin/console/apis/shop/audit":                         "api.created",
		"/admin/console/apis/shop/webhooks":                      "Failed deliveries are retried",
		"/admin/console/apis/shop/providers/new?template=github": "/shop/oauth2/provider/callback/github",
	}
	for path, want := range pages {
		p := u.do("GET", path, nil)
		if p.Status != 200 || !strings.Contains(p.Body, want) {
			t.Errorf("GET %s: got %d, want 200 with %q:\n%.400s", path, p.Status, want, p.Body)
		}
		checkConsoleHeaders(t, path, p.Header)
	}
	bare := u.do("POST", "/admin/console/apis", url.Values{"name": {"other"}})
	if bare.Status != http.StatusForbidden || !strings.Contains(bare.Body, "CSRF") {
		t.Errorf("POST without a CSRF token: got %d, want 403", bare.Status)
	}
	if a := e.admin("GET", "/apis/other", nil); a.Status != 404 {
		t.Errorf("the refused POST created the API: %d", a.Status)
	}
}

func checkConsoleHeaders(t *testing.T, path string, h http.Header) {
	t.Helper()
	for k, want := range map[string]string{
		"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
	} {
		if h.Get(k) != want {
			t.Errorf("GET %s: %s is %q, want %q", path, k, h.Get(k), want)
		}
	}
	csp := h.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("GET %s: CSP %q, want frame-ancestors 'none' and scripts from the console only", path, csp)
	}
}

// Try it makes a connect link as the app would, with a client's
// credentials, and the link opens the connect page.
func TestConsoleTryItMakesAConnectLink(t *testing.T) {
	e := newEnv(t)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "shop"})
	id, sec := e.client("shop", map[string]any{"grant_types": []string{"connection"}})
	e.mustAdmin(200, "PUT", "/apis/shop/providers/github", map[string]any{"template": "github", "client_id": "gh"})
	u := newConsoleUser(t, e)
	u.signIn(adminToken)
	u.do("GET", "/admin/console/apis/shop/providers", nil)
	wrong := u.post("/admin/console/apis/shop/providers/github/try", url.Values{"client_id": {id}, "client_secret": {"nope"}, "identity": {"alice"}})
	if wrong.Status != http.StatusUnauthorized {
		t.Errorf("Try it with a wrong client secret: got %d, want 401", wrong.Status)
	}
	p := u.post("/admin/console/apis/shop/providers/github/try", url.Values{"client_id": {id}, "client_secret": {sec}, "identity": {"alice"}})
	link := regexp.MustCompile(`id="connect-link" readonly value="([^"]+)"`).FindStringSubmatch(p.Body)
	if p.Status != 200 || link == nil || !strings.HasPrefix(link[1], e.URL+"/shop/oauth2/connect?link=") {
		t.Fatalf("Try it: got %d, want the page with a connect link:\n%.600s", p.Status, p.Body)
	}
	target := strings.ReplaceAll(link[1], "&amp;", "&")
	if status, _, body := newBrowser(t).get(target); status != 200 || !strings.Contains(body, "Continue") {
		t.Errorf("the connect link: got %d, want the connect page", status)
	}
}

// Without the admin API there is no console.
func TestConsoleOffWithoutAdminAPI(t *testing.T) {
	e := newEnvWith(t, "")
	if p := newConsoleUser(t, e).do("GET", "/admin/console/signin", nil); p.Status != http.StatusNotFound {
		t.Errorf("GET /admin/console/signin without an admin token: got %d, want 404", p.Status)
	}
}

// The connections page filters by status (in the console) and identity
// (in the admin API); the audit page by action, actor and time; the
// overview counts connections by provider and status.
func TestConsoleFilters(t *testing.T) {
	e := shopWithConnections(t)
	u := newConsoleUser(t, e)
	u.signIn(adminToken)
	for query, want := range map[string][]bool{ // alice, bob, carol shown
		"":                                {true, true, true},
		"?status=needs_reauth":            {false, false, true},
		"?status=active":                  {true, true, false},
		"?identity=alice%40example.com":   {true, false, false},
		"?provider=github&status=revoked": {false, false, false},
	} {
		p := u.do("GET", "/admin/console/apis/shop/connections"+query, nil)
		for i, who := range []string{"alice@example.com", "bob@example.com", "carol@example.com"} {
			if strings.Contains(p.Body, "<strong>"+who+"</strong>") != want[i] {
				t.Errorf("connections%s: %s shown %t, want %t", query, who, !want[i], want[i])
			}
		}
	}
	for query, want := range map[string]string{
		"?action=provider.":       "1 of 3 events match",
		"?actor=admin":            "3 of 3 events match",
		"?actor=crm":              "0 of 3 events match",
		"?since=2999-01-01T00:00": "0 of 3 events match",
		"?until=2999-01-01T00:00": "3 of 3 events match",
	} {
		if p := u.do("GET", "/admin/console/apis/shop/audit"+query, nil); !strings.Contains(p.Body, want) {
			t.Errorf("audit%s: want %q:\n%.300s", query, want, p.Body)
		}
	}
	home := u.do("GET", "/admin/console/", nil).Body
	for _, want := range []string{`s-active">active</span></td><td class="num">2`, `s-needs_reauth">needs_reauth</span></td><td class="num">1`} {
		if !strings.Contains(home, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
}

// The webhooks page lists the clients with a webhook URL and rotates a
// webhook secret, showing the new one once; the old one signs on for the
// grace period typed.
func TestConsoleRotatesAWebhookSecret(t *testing.T) {
	e := newEnv(t)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "shop"})
	e.client("shop", map[string]any{"client_id": "crm", "webhook_url": "https://hooks.example.com/broker"})
	e.client("shop", map[string]any{"client_id": "quiet"})
	u := newConsoleUser(t, e)
	u.signIn(adminToken)
	list := u.do("GET", "/admin/console/apis/shop/webhooks", nil)
	if !strings.Contains(list.Body, "https://hooks.example.com/broker") || strings.Contains(list.Body, "<strong>quiet</strong>") {
		t.Fatalf("webhooks page: want crm's URL and not the client without one:\n%.500s", list.Body)
	}
	p := u.post("/admin/console/apis/shop/webhooks/crm/rotate", url.Values{"grace_hours": {"2"}})
	secret := regexp.MustCompile(`id="secret-value" readonly value="([^"]+)"`).FindStringSubmatch(p.Body)
	if p.Status != 200 || secret == nil || len(secret[1]) < 20 {
		t.Fatalf("rotate: got %d, want the new secret in the dialog:\n%.500s", p.Status, p.Body)
	}
	cl := e.mustAdmin(200, "GET", "/apis/shop/clients/crm", nil)
	until, err := time.Parse(time.RFC3339, cl.str("previous_webhook_secret_until"))
	if err != nil || until.Before(time.Now().Add(time.Hour)) || until.After(time.Now().Add(3*time.Hour)) {
		t.Errorf("previous_webhook_secret_until %q, want about two hours from now", cl.str("previous_webhook_secret_until"))
	}
}

// The console's other actions reach the admin API: rotate the signing
// keys, reset a password, revoke a connection, delete a user, a provider
// and a client.
func TestConsoleActions(t *testing.T) {
	e := newEnv(t)
	id, sec, f, connID := fedConnected(t, e)
	e.mustAdmin(201, "POST", "/apis/fed/users", map[string]any{"username": "bob", "password": "first password"})
	u := newConsoleUser(t, e)
	u.signIn(adminToken)
	u.do("GET", "/admin/console/apis/fed", nil)
	login := func(password string) int {
		return e.form("POST", "/fed/oauth2/token", url.Values{"grant_type": {"password"}, "username": {"bob"}, "password": {password}}, id, sec).Status
	}
	steps := []struct {
		path string
		form url.Values
		want string
	}{
		{"/admin/console/apis/fed/rotate-keys", nil, "New signing key"},
		{"/admin/console/apis/fed/users/bob/password", url.Values{"password": {"second password"}}, "Password of bob changed"},
		{"/admin/console/apis/fed/connections/" + connID + "/revoke", nil, "revoked at the provider"},
		{"/admin/console/apis/fed/users/bob/delete", nil, "User bob deleted."},
		{"/admin/console/apis/fed/providers/fake/delete", nil, "Provider fake deleted"},
		{"/admin/console/apis/fed/clients/" + id + "/delete", nil, "Client " + id + " deleted"},
	}
	for i, s := range steps {
		if i == 2 && (login("first password") != 400 || login("second password") != 200) {
			t.Errorf("after the reset: the old password gives %d, the new one %d; want 400 and 200", login("first password"), login("second password"))
		}
		if p := u.post(s.path, s.form); p.Status != 200 || !strings.Contains(p.Body, s.want) {
			t.Errorf("POST %s: got %d, want 200 and %q:\n%.400s", s.path, p.Status, s.want, p.Body)
		}
	}
	if keys := e.mustAdmin(200, "GET", "/apis/fed/keys", nil); !strings.Contains(keys.Raw, `"kid"`) {
		t.Errorf("keys after the rotation: %s", keys.Raw)
	}
	if f.RevokeCount() != 1 {
		t.Errorf("upstream revocations: got %d, want 1", f.RevokeCount())
	}
	if left := e.mustAdmin(200, "GET", "/apis/fed/connections", nil); strings.Contains(left.Raw, connID) {
		t.Errorf("the revoked connection is still listed: %s", left.Raw)
	}
	for _, gone := range []string{"/apis/fed/users/bob", "/apis/fed/providers/fake", "/apis/fed/clients/" + id} {
		if a := e.admin("GET", gone, nil); a.Status != 404 {
			t.Errorf("GET %s after deleting it: got %d, want 404", gone, a.Status)
		}
	}
}
