package broker_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/oauth2broker/oauth2broker/storage"
)

// passwordSetup creates an API with a password+refresh client and a user.
func passwordSetup(e *env) (id, sec string) {
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "app"})
	id, sec = e.client("app", map[string]any{"grant_types": []string{"password", "refresh_token"}, "scopes": []string{"read", "write"}})
	e.mustAdmin(201, "POST", "/apis/app/users", map[string]any{"username": "alice", "password": "wonderland", "scopes": []string{"read"}})
	return id, sec
}

func TestRefreshTokenRotationAndReuse(t *testing.T) {
	e := newEnv(t)
	id, sec := passwordSetup(e)
	login := e.json("POST", "/app/oauth2/token", map[string]any{"grant_type": "password", "username": "alice", "password": "wonderland", "client_id": id, "client_secret": sec})
	if login.Status != 200 || login.str("scope") != "read" {
		t.Fatalf("login: got %d %s, want 200 with scope read (the client's and user's shared scopes)", login.Status, login.Raw)
	}
	r1 := login.str("refresh_token")
	next := e.form("POST", "/app/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r1}}, id, sec)
	r2 := next.str("refresh_token")
	if next.Status != 200 || r2 == "" || r2 == r1 || next.str("access_token") == "" {
		t.Fatalf("refresh: got %d %s, want 200 with a new refresh token", next.Status, next.Raw)
	}
	claims, _ := e.verifyJWT("app", next.str("access_token"))
	if claims["sub"] != "alice" {
		t.Errorf("refreshed token sub: got %v, want alice", claims["sub"])
	}
	reuse := e.form("POST", "/app/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r1}}, id, sec)
	if reuse.Status != 400 || reuse.str("error") != "invalid_grant" {
		t.Fatalf("reuse: got %d %s, want 400 invalid_grant", reuse.Status, reuse.Raw)
	}
	after := e.form("POST", "/app/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r2}}, id, sec)
	if after.Status != 400 {
		t.Errorf("family member after reuse: got %d %s, want 400 (family revoked)", after.Status, after.Raw)
	}
	in := e.form("POST", "/app/oauth2/introspect", url.Values{"token": {next.str("access_token")}}, id, sec)
	if in.Body["active"] != false {
		t.Errorf("access token of a revoked family: got %s, want inactive", in.Raw)
	}
}

func TestPasswordGrantScopesAndThrottle(t *testing.T) {
	e := newEnv(t)
	id, sec := passwordSetup(e)
	try := func(pw, scope string) answer {
		v := url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {pw}}
		if scope != "" {
			v.Set("scope", scope)
		}
		return e.form("POST", "/app/oauth2/token", v, id, sec)
	}
	if a := try("wonderland", "write"); a.Status != 400 || a.str("error") != "invalid_scope" {
		t.Errorf("scope the user lacks: got %d %s, want 400 invalid_scope", a.Status, a.Raw)
	}
	for i := 0; i < 5; i++ {
		if a := try("guess", ""); a.Status != 400 {
			t.Fatalf("failure %d: got %d %s, want 400", i+1, a.Status, a.Raw)
		}
	}
	a := try("wonderland", "")
	if a.Status != 429 || a.str("error") != "invalid_grant" {
		t.Errorf("right password right after 5 failures: got %d %s, want 429 (throttled)", a.Status, a.Raw)
	}
}

func TestRevokeEndpoint(t *testing.T) {
	e := newEnv(t)
	id, sec := passwordSetup(e)
	other, otherSec := e.client("app", map[string]any{"grant_types": []string{"client_credentials"}})
	tok := e.form("POST", "/app/oauth2/token", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"wonderland"}}, id, sec)
	at, rt := tok.str("access_token"), tok.str("refresh_token")
	if a := e.form("POST", "/app/oauth2/revoke", url.Values{"token": {at}}, other, otherSec); a.Status != 400 || a.str("error") != "unauthorized_client" {
		t.Errorf("revoking another client's token: got %d %s, want 400 unauthorized_client", a.Status, a.Raw)
	}
	for i := 0; i < 2; i++ {
		// An unknown hint is ignored (RFC 7009 §2.1).
		if a := e.form("POST", "/app/oauth2/revoke", url.Values{"token": {at}, "token_type_hint": {[]string{"access_token", "id_token"}[i]}}, id, sec); a.Status != 200 {
			t.Errorf("revoke #%d: got %d %s, want 200", i+1, a.Status, a.Raw)
		}
	}
	if in := e.form("POST", "/app/oauth2/introspect", url.Values{"token": {at}}, other, otherSec); in.Body["active"] != false {
		t.Errorf("revoked access token: got %s, want inactive", in.Raw)
	}
	// token_type is the access token's type (RFC 7662 §2.2 → RFC 6749
	// §5.1); a refresh token has none, and says what it is in token_use.
	if in := e.form("POST", "/app/oauth2/introspect", url.Values{"token": {rt}}, other, otherSec); in.Body["active"] != true || in.Body["token_type"] != nil || in.str("token_use") != "refresh_token" {
		t.Errorf("refresh token introspected by another client of the API: got %s, want active, token_use refresh_token and no token_type", in.Raw)
	}
	fresh := e.form("POST", "/app/oauth2/token", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"wonderland"}}, id, sec)
	if in := e.form("POST", "/app/oauth2/introspect", url.Values{"token": {fresh.str("access_token")}}, other, otherSec); in.str("token_type") != "Bearer" || in.str("token_use") != "access_token" {
		t.Errorf("access token introspected: got %s, want token_type Bearer, token_use access_token", in.Raw)
	}
	e.form("POST", "/app/oauth2/revoke", url.Values{"token": {rt}}, id, sec)
	if a := e.form("POST", "/app/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, id, sec); a.Status != 400 {
		t.Errorf("revoked refresh token: got %d, want 400", a.Status)
	}
	if a := e.form("POST", "/app/oauth2/revoke", url.Values{"token": {"garbage"}}, id, sec); a.Status != 200 {
		t.Errorf("unknown token: got %d, want 200 (RFC 7009 §2.2)", a.Status)
	}
}

func TestKeyRotationOverHTTP(t *testing.T) {
	e := newEnv(t)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "k"})
	id, sec := e.client("k", map[string]any{})
	before := e.form("POST", "/k/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, id, sec).str("access_token")
	rot := e.mustAdmin(200, "POST", "/apis/k/keys/rotate", nil)
	jwks := e.do(mustReq("GET", e.URL+"/k/oauth2/jwks"))
	if !strings.Contains(jwks.Raw, rot.str("kid")) || strings.Count(jwks.Raw, `"kid"`) != 2 {
		t.Errorf("jwks after rotation: got %s, want the new key %s and the old one", jwks.Raw, rot.str("kid"))
	}
	if in := e.form("POST", "/k/oauth2/introspect", url.Values{"token": {before}}, id, sec); in.Body["active"] != true {
		t.Errorf("token from before the rotation: got %s, want active", in.Raw)
	}
	if strings.Contains(jwks.Raw, `"d"`) {
		t.Errorf("jwks leaks private key material: %s", jwks.Raw)
	}
}

// Every malformed request gets a 4xx RFC 6749 error, never a 5xx, and
// never echoes a secret.
func TestBadInput(t *testing.T) {
	e := newEnv(t)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "b"})
	id, sec := e.client("b", map[string]any{"grant_types": []string{"client_credentials"}})
	tok := "/b/oauth2/token"
	big := strings.Repeat("a", 2<<20)
	cases := []struct {
		name, method, path, ctype, body string
		basic                           bool
		status                          int
		code                            string
	}{
		{"bad json", "POST", tok, "application/json", `{"grant_type":`, true, 400, "invalid_request"},
		{"json array", "POST", tok, "application/json", `[1,2]`, true, 400, "invalid_request"},
		{"wrong content type", "POST", tok, "text/xml", `<x/>`, true, 400, "invalid_request"},
		{"multipart", "POST", tok, "multipart/form-data; boundary=x", "--x--", true, 400, "invalid_request"},
		{"too large", "POST", tok, "application/x-www-form-urlencoded", "grant_type=" + big, true, 413, "invalid_request"},
		{"duplicate param", "POST", tok, "application/x-www-form-urlencoded", "grant_type=client_credentials&grant_type=password", true, 400, "invalid_request"},
		{"unknown grant", "POST", tok, "application/x-www-form-urlencoded", "grant_type=urn:x:magic", true, 400, "unsupported_grant_type"},
		{"missing grant", "POST", tok, "application/x-www-form-urlencoded", "scope=a", true, 400, "invalid_request"},
		{"not allowed grant", "POST", tok, "application/x-www-form-urlencoded", "grant_type=password&username=u&password=p", true, 400, "unauthorized_client"},
		{"absurd identity", "POST", tok, "application/x-www-form-urlencoded", "client_user_identity=" + strings.Repeat("%00", 5000), true, 400, "unauthorized_client"},
		{"no client", "POST", tok, "application/x-www-form-urlencoded", "grant_type=client_credentials", false, 401, "invalid_client"},
		{"client id only", "POST", tok, "application/x-www-form-urlencoded", "grant_type=client_credentials&client_id=" + id, false, 401, "invalid_client"},
		{"wrong secret", "POST", tok, "application/x-www-form-urlencoded", "grant_type=client_credentials&client_id=" + id + "&client_secret=nope", false, 401, "invalid_client"},
		{"basic and body", "POST", tok, "application/x-www-form-urlencoded", "grant_type=client_credentials&client_secret=" + sec, true, 400, "invalid_request"},
		{"secret in query", "POST", tok + "?client_secret=" + sec, "", "", false, 400, "invalid_request"},
		{"unknown api", "POST", "/nope/oauth2/token", "application/x-www-form-urlencoded", "grant_type=client_credentials", true, 404, "not_found"},
		{"unknown route", "GET", "/nope", "", "", false, 404, "not_found"},
		{"nul in api name", "GET", "/%00/oauth2/jwks", "", "", false, 404, "not_found"},
		{"nul in client id", "POST", tok, "application/json", `{"grant_type":"client_credentials","client_id":"a\u0000","client_secret":"x"}`, false, 401, "invalid_client"},
		{"wrong method", "DELETE", tok, "", "", false, 405, "invalid_request"},
		{"introspect without token", "POST", "/b/oauth2/introspect", "application/x-www-form-urlencoded", "", true, 400, "invalid_request"},
		{"introspect unauthenticated", "POST", "/b/oauth2/introspect", "application/x-www-form-urlencoded", "token=x", false, 401, "invalid_client"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, e.URL+tc.path, strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			if tc.basic {
				req.SetBasicAuth(id, sec)
			}
			a := e.do(req)
			if a.Status != tc.status || a.str("error") != tc.code {
				t.Fatalf("got %d %.300s, want %d %s", a.Status, a.Raw, tc.status, tc.code)
			}
			if strings.Contains(a.Raw, sec) {
				t.Errorf("answer echoes the client secret")
			}
			if a.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control: got %q, want no-store", a.Header.Get("Cache-Control"))
			}
		})
	}
	// Nothing stored was harmed: the client still works.
	if a := e.form("POST", tok, url.Values{"grant_type": {"client_credentials"}}, id, sec); a.Status != 200 {
		t.Errorf("after the bad input: got %d %s, want 200", a.Status, a.Raw)
	}
	if strings.Contains(e.Logs.String(), sec) {
		t.Errorf("logs contain the client secret")
	}
}

// GET with a JSON body, as the EKIKA samples send it.
func TestGETWithJSONBody(t *testing.T) {
	e := newEnv(t)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "ek"})
	id, sec := e.client("ek", map[string]any{})
	a := e.json("GET", "/ek/oauth2/token", map[string]any{"grant_type": "client_credentials", "client_id": id, "client_secret": sec})
	if a.Status != 200 || a.str("access_token") == "" {
		t.Fatalf("GET with JSON body: got %d %s, want 200", a.Status, a.Raw)
	}
}

// No token, secret or password reaches the log.
func TestLogsHoldNoSecrets(t *testing.T) {
	e := newEnv(t)
	id, sec := passwordSetup(e)
	tok := e.form("POST", "/app/oauth2/token?trace=1", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"wonderland"}}, id, sec)
	e.form("POST", "/app/oauth2/introspect", url.Values{"token": {tok.str("access_token")}}, id, sec)
	e.form("POST", "/app/oauth2/revoke", url.Values{"token": {tok.str("refresh_token")}}, id, sec)
	logs := e.Logs.String()
	for name, secret := range map[string]string{"client secret": sec, "password": "wonderland", "access token": tok.str("access_token"), "refresh token": tok.str("refresh_token"), "admin token": adminToken, "query": "trace=1"} {
		if secret != "" && strings.Contains(logs, secret) {
			t.Errorf("logs contain the %s", name)
		}
	}
	if !strings.Contains(logs, "path=/app/oauth2/token") {
		t.Errorf("access log lacks the request line; got:\n%s", logs)
	}
}

// Wrong guesses sent all at once still reach the password check at most
// five times; the others are refused, by the throttle (429) or because
// too many logins wait for a hasher (503).
func TestPasswordThrottleUnderConcurrentGuesses(t *testing.T) {
	e := newEnv(t)
	id, sec := passwordSetup(e)
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := e.form("POST", "/app/oauth2/token", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"guess"}}, id, sec)
			mu.Lock()
			statuses[a.Status]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if statuses[400] > 5 || statuses[400]+statuses[429]+statuses[503] != 40 {
		t.Fatalf("40 concurrent wrong guesses: got %v, want at most 5 checked (400) and the rest 429 or 503", statuses)
	}
	long := e.form("POST", "/app/oauth2/token", url.Values{"grant_type": {"password"}, "username": {strings.Repeat("u", 300)}, "password": {"p"}}, id, sec)
	if long.Status != 400 || long.str("error") != "invalid_grant" {
		t.Errorf("300-byte username: got %d %s, want 400 invalid_grant", long.Status, long.Raw)
	}
}

// A refresh carries only the scopes the client and user still have.
func TestRefreshNarrowsToCurrentScopes(t *testing.T) {
	e := newEnv(t)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "app"})
	id, sec := e.client("app", map[string]any{"grant_types": []string{"password", "refresh_token"}, "scopes": []string{"read", "write"}})
	e.mustAdmin(201, "POST", "/apis/app/users", map[string]any{"username": "bob", "password": "builder1", "scopes": []string{"read", "write"}})
	login := e.form("POST", "/app/oauth2/token", url.Values{"grant_type": {"password"}, "username": {"bob"}, "password": {"builder1"}}, id, sec)
	if login.str("scope") != "read write" {
		t.Fatalf("login scope: got %q, want \"read write\"", login.str("scope"))
	}
	if _, err := e.Store.UpdateUser(context.Background(), "app", "bob", func(u storage.User) (storage.User, error) {
		u.Scopes = []string{"read"}
		return u, nil
	}); err != nil {
		t.Fatal(err)
	}
	next := e.form("POST", "/app/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {login.str("refresh_token")}}, id, sec)
	if next.Status != 200 || next.str("scope") != "read" {
		t.Errorf("refresh after the user lost write: got %d %s, want scope read", next.Status, next.Raw)
	}
}
