package broker_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/broker/admin"
)

// refreshSetup makes API "app" with a password+refresh client allowed
// scopes a and b, and user alice with a and b.
func refreshSetup(e *env) (id, sec string) {
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "app"})
	id, sec = e.client("app", map[string]any{"grant_types": []string{"password", "refresh_token"}, "scopes": []string{"a", "b"}})
	e.mustAdmin(201, "POST", "/apis/app/users", map[string]any{"username": "alice", "password": "wonderland", "scopes": []string{"a", "b"}})
	return id, sec
}

func (e *env) login(id, sec, password, scope string) answer {
	e.t.Helper()
	v := url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {password}}
	if scope != "" {
		v.Set("scope", scope)
	}
	return e.form("POST", "/app/oauth2/token", v, id, sec)
}

func (e *env) refresh(id, sec, rt, scope string) answer {
	e.t.Helper()
	v := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	if scope != "" {
		v.Set("scope", scope)
	}
	return e.form("POST", "/app/oauth2/token", v, id, sec)
}

func (e *env) active(id, sec, token string) bool {
	e.t.Helper()
	return e.form("POST", "/app/oauth2/introspect", url.Values{"token": {token}}, id, sec).Body["active"] == true
}

// RFC 6749 §6: a refresh may narrow the access token, but the new refresh
// token keeps the original grant's scope.
func TestRefreshKeepsTheGrantsScope(t *testing.T) {
	e := newEnv(t)
	id, sec := refreshSetup(e)
	login := e.login(id, sec, "wonderland", "a b")
	if login.Status != 200 || login.str("scope") != "a b" {
		t.Fatalf("login: got %d %s, want scope \"a b\"", login.Status, login.Raw)
	}
	narrow := e.refresh(id, sec, login.str("refresh_token"), "a")
	if narrow.Status != 200 || narrow.str("scope") != "a" {
		t.Fatalf("refresh with scope a: got %d %s, want scope a", narrow.Status, narrow.Raw)
	}
	if in := e.form("POST", "/app/oauth2/introspect", url.Values{"token": {narrow.str("refresh_token")}}, id, sec); in.str("scope") != "a b" {
		t.Errorf("rotated refresh token: got scope %q, want the grant's \"a b\"", in.str("scope"))
	}
	for _, scope := range []string{"", "a b"} {
		full := e.refresh(id, sec, narrow.str("refresh_token"), scope)
		if full.Status != 200 || full.str("scope") != "a b" {
			t.Fatalf("refresh with scope %q after a narrower one: got %d %s, want scope \"a b\"", scope, full.Status, full.Raw)
		}
		narrow = full
	}
}

// A new password ends every earlier login: refresh tokens are refused and
// access tokens introspect inactive; a new login works.
func TestPasswordChangeEndsEarlierLogins(t *testing.T) {
	clk := newClock()
	e := newEnvOpts(t, adminToken, clk.now)
	id, sec := refreshSetup(e)
	before := e.login(id, sec, "wonderland", "")
	rt := e.refresh(id, sec, before.str("refresh_token"), "")
	if rt.Status != 200 {
		t.Fatalf("refresh: got %d %s", rt.Status, rt.Raw)
	}
	clk.add(time.Second) // iat has whole seconds
	changed := e.mustAdmin(200, "PUT", "/apis/app/users/alice/password", map[string]any{"password": "looking-glass"})
	if changed.str("username") != "alice" || changed.str("password_changed_at") == "" || strings.Contains(changed.Raw, "looking-glass") {
		t.Errorf("password change answer: got %s, want the user with password_changed_at and no password", changed.Raw)
	}
	// At once, before any refresh attempt revokes the family.
	for _, at := range []string{before.str("access_token"), rt.str("access_token")} {
		if e.active(id, sec, at) {
			t.Errorf("access token of a login before the password change: introspects active, want inactive")
		}
	}
	if a := e.refresh(id, sec, rt.str("refresh_token"), ""); a.Status != 400 || a.str("error") != "invalid_grant" {
		t.Errorf("refresh token of a login before the password change: got %d %s, want 400 invalid_grant", a.Status, a.Raw)
	}
	if a := e.login(id, sec, "wonderland", ""); a.Status != 400 {
		t.Errorf("old password: got %d %s, want 400", a.Status, a.Raw)
	}
	after := e.login(id, sec, "looking-glass", "")
	if after.Status != 200 || !e.active(id, sec, after.str("access_token")) {
		t.Fatalf("login with the new password: got %d %s, want an active token", after.Status, after.Raw)
	}
	if a := e.refresh(id, sec, after.str("refresh_token"), ""); a.Status != 200 {
		t.Errorf("refresh of the new login: got %d %s, want 200", a.Status, a.Raw)
	}
	for _, bad := range []struct {
		path string
		body any
		want int
	}{
		{"/apis/app/users/nobody/password", map[string]any{"password": "x"}, 404},
		{"/apis/app/users/alice/password", map[string]any{"password": ""}, 400},
		{"/apis/app/users/alice/password", map[string]any{"password": "x", "scopes": []string{}}, 400},
	} {
		if a := e.admin("PUT", bad.path, bad.body); a.Status != bad.want {
			t.Errorf("PUT %s %v: got %d %s, want %d", bad.path, bad.body, a.Status, a.Raw, bad.want)
		}
	}
	audit := e.mustAdmin(200, "GET", "/apis/app/audit", nil)
	if !strings.Contains(audit.Raw, `"user.password_changed"`) || strings.Contains(audit.Raw, "looking-glass") {
		t.Errorf("audit: got %s, want a user.password_changed event without the password", audit.Raw)
	}
}

// A deleted and re-created user (same name, same password) does not
// inherit the old user's logins.
func TestRecreatedUserEndsEarlierLogins(t *testing.T) {
	clk := newClock()
	e := newEnvOpts(t, adminToken, clk.now)
	id, sec := refreshSetup(e)
	login := e.login(id, sec, "wonderland", "")
	clk.add(time.Second)
	e.mustAdmin(204, "DELETE", "/apis/app/users/alice", nil)
	if e.active(id, sec, login.str("access_token")) {
		t.Errorf("access token of a deleted user: introspects active, want inactive")
	}
	e.mustAdmin(201, "POST", "/apis/app/users", map[string]any{"username": "alice", "password": "wonderland", "scopes": []string{"a", "b"}})
	if a := e.refresh(id, sec, login.str("refresh_token"), ""); a.Status != 400 || a.str("error") != "invalid_grant" {
		t.Errorf("refresh token of the deleted user, after re-creating it: got %d %s, want 400 invalid_grant", a.Status, a.Raw)
	}
}

// A refresh-token family ends at its absolute lifetime, however often it
// was rotated.
func TestRefreshFamilyAbsoluteLifetime(t *testing.T) {
	clk := newClock()
	e := newEnvOpts(t, adminToken, clk.now)
	id, sec := refreshSetup(e)
	if v := e.mustAdmin(200, "GET", "/apis/app", nil); v.str("refresh_token_max_lifetime") != "2160h0m0s" {
		t.Errorf("default refresh_token_max_lifetime: got %q, want 2160h0m0s (90 days)", v.str("refresh_token_max_lifetime"))
	}
	if a := e.admin("PATCH", "/apis/app", map[string]any{"refresh_token_max_lifetime": "1s"}); a.Status != 400 {
		t.Errorf("refresh_token_max_lifetime 1s: got %d, want 400", a.Status)
	}
	e.mustAdmin(200, "PATCH", "/apis/app", map[string]any{"refresh_token_max_lifetime": "72h"})
	rt := e.login(id, sec, "wonderland", "").str("refresh_token")
	for i := 0; i < 3; i++ {
		clk.add(20 * time.Hour)
		a := e.refresh(id, sec, rt, "")
		if a.Status != 200 {
			t.Fatalf("rotation %d, %d h after the login: got %d %s, want 200", i+1, 20*(i+1), a.Status, a.Raw)
		}
		rt = a.str("refresh_token")
	}
	in := e.form("POST", "/app/oauth2/introspect", url.Values{"token": {rt}}, id, sec)
	if exp := int64(in.Body["exp"].(float64)); exp > clk.now().Add(12*time.Hour).Unix() {
		t.Errorf("refresh token 60 h into a 72 h family: expires %v, want no later than the family's end (12 h on)", time.Unix(exp, 0).Sub(clk.now()))
	}
	clk.add(13 * time.Hour)
	if a := e.refresh(id, sec, rt, ""); a.Status != 400 || a.str("error") != "invalid_grant" {
		t.Errorf("refresh 73 h after the login: got %d %s, want 400 invalid_grant", a.Status, a.Raw)
	}
}

// A declaration that changes a user's password ends the earlier logins;
// one that changes only the scopes does not.
func TestDeclaredPasswordChangeEndsEarlierLogins(t *testing.T) {
	e := newEnv(t)
	decl := func(password string, scopes ...string) admin.Declaration {
		return admin.Declaration{APIs: []admin.APISpec{{
			Name: "app",
			Clients: []admin.DeclaredClient{{
				ClientSpec: admin.ClientSpec{ID: "web", GrantTypes: []string{"password", "refresh_token"}, Scopes: []string{"a", "b"}},
				Secret:     strings.Repeat("s", 32),
			}},
			Users: []admin.UserSpec{{Username: "alice", Password: password, Scopes: scopes}},
		}}}
	}
	id, sec := "web", strings.Repeat("s", 32)
	if err := e.Srv.Apply(context.Background(), decl("wonderland", "a", "b")); err != nil {
		t.Fatal(err)
	}
	first := e.login(id, sec, "wonderland", "")
	if err := e.Srv.Apply(context.Background(), decl("wonderland", "a")); err != nil {
		t.Fatal(err)
	}
	kept := e.refresh(id, sec, first.str("refresh_token"), "")
	if kept.Status != 200 || kept.str("scope") != "a" {
		t.Fatalf("refresh after a scope-only declaration change: got %d %s, want 200 with scope a", kept.Status, kept.Raw)
	}
	if err := e.Srv.Apply(context.Background(), decl("looking-glass", "a")); err != nil {
		t.Fatal(err)
	}
	if a := e.refresh(id, sec, kept.str("refresh_token"), ""); a.Status != 400 || a.str("error") != "invalid_grant" {
		t.Errorf("refresh after the declared password changed: got %d %s, want 400 invalid_grant", a.Status, a.Raw)
	}
	if a := e.login(id, sec, "looking-glass", ""); a.Status != 200 {
		t.Errorf("login with the declared new password: got %d %s, want 200", a.Status, a.Raw)
	}
}

// A password change in the very second of a login still ends it: the
// login's tokens name the user's generation, so whole-second iat does not
// matter (nor does a replica's clock).
func TestPasswordChangeInTheSecondOfTheLogin(t *testing.T) {
	clk := newClock()
	e := newEnvOpts(t, adminToken, clk.now)
	id, sec := refreshSetup(e)
	login := e.login(id, sec, "wonderland", "")
	e.mustAdmin(200, "PUT", "/apis/app/users/alice/password", map[string]any{"password": "looking-glass"})
	if e.active(id, sec, login.str("access_token")) {
		t.Errorf("access token of a login in the second of the password change: introspects active, want inactive")
	}
	after := e.login(id, sec, "looking-glass", "")
	if !e.active(id, sec, after.str("access_token")) {
		t.Errorf("access token of the new password's login, same second: introspects inactive, want active")
	}
}
