package broker_test

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// After five wrong passwords, the admin API and the users page say the
// username's logins are throttled, with the failures and the lock, and
// that this is one replica's knowledge; the lock ends with time, the
// failures stay; another address and another username are not throttled.
func TestUserLoginThrottleShown(t *testing.T) {
	clk := newClock()
	e := newEnvOpts(t, adminToken, clk.now)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "shop"})
	id, sec := e.client("shop", map[string]any{"grant_types": []string{"password"}})
	e.mustAdmin(201, "POST", "/apis/shop/users", map[string]any{"username": "alice", "password": "correct horse battery"})
	for i := range 5 {
		a := e.form("POST", "/shop/oauth2/token", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"wrong"}}, id, sec)
		if a.Status != 400 {
			t.Fatalf("wrong password %d: got %d %s", i, a.Status, a.Raw)
		}
	}
	th := e.mustAdmin(200, "GET", "/apis/shop/users/alice/throttle?address=127.0.0.1", nil)
	byUser, _ := th.Body["by_username"].(map[string]any)
	byAddr, _ := th.Body["by_address"].(map[string]any)
	if th.str("scope") != "replica" || !strings.Contains(th.str("note"), "replica") || byUser["throttled"] != true || byUser["failures"] != 5.0 ||
		byUser["retry_after"] != 1.0 || byAddr["throttled"] != true {
		t.Fatalf("throttle after 5 failures: got %s", th.Raw)
	}
	if other := e.mustAdmin(200, "GET", "/apis/shop/users/alice/throttle?address=10.0.0.1", nil); strings.Contains(other.Raw, `"by_address":{"failures":5`) {
		t.Errorf("another address: got %s, want no failures there", other.Raw)
	}
	if ghost := e.mustAdmin(200, "GET", "/apis/shop/users/ghost/throttle", nil); strings.Contains(ghost.Raw, `"throttled":true`) {
		t.Errorf("another username: got %s", ghost.Raw)
	}
	e.mustAdmin(400, "GET", "/apis/shop/users/alice/throttle?address=nowhere", nil)
	u := newConsoleUser(t, e)
	u.signIn(adminToken)
	page := u.do("GET", "/admin/console/apis/shop/users", nil)
	for _, want := range []string{"throttled</span> until", "(1 s, 5 failures)", "this is what the replica that served this page knows"} {
		if !strings.Contains(page.Body, want) {
			t.Fatalf("users page: want %q in\n%s", want, page.Body)
		}
	}
	check := u.do("GET", "/admin/console/apis/shop/users?check=alice&address=127.0.0.1", nil)
	if i := strings.Index(check.Body, `id="throttle-check"`); i < 0 || strings.Count(check.Body[i:], "throttled</span>") != 2 {
		t.Errorf("check alice from 127.0.0.1: want both layers throttled:\n%s", check.Body)
	}
	clk.add(2 * time.Second)
	page = u.do("GET", "/admin/console/apis/shop/users", nil)
	if strings.Contains(page.Body, "throttled</span> until") || !strings.Contains(page.Body, "5 failed") {
		t.Errorf("after the lock: want 5 failures, not throttled:\n%s", page.Body)
	}
}
