package broker_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

var consoleSecret = regexp.MustCompile(`id="secret-value" readonly value="([^"]+)"`)

// The admin token's console makes an admin key (APIs, access, expiry),
// shows it once, lists it and revokes it; a key's console has no such
// page: the admin API's 403 is shown with who is signed in.
func TestConsoleAdminKeys(t *testing.T) {
	e := newEnv(t)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "a"})
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "b"})
	root := newConsoleUser(t, e)
	if home := root.signIn(adminToken); home.Status != 303 {
		t.Fatalf("sign in: %d", home.Status)
	}
	home := root.do("GET", "/admin/console/", nil)
	if !strings.Contains(home.Body, `href="/admin/console/admin-keys"`) || !strings.Contains(home.Body, "the admin token") {
		t.Fatalf("root's header: want the Admin keys link and who is signed in:\n%.1500s", home.Body)
	}
	root.do("GET", "/admin/console/admin-keys", nil)
	p := root.post("/admin/console/admin-keys", url.Values{"name": {"panel b"}, "apis": {"b"}, "access": {"read-write"}, "expires_days": {"7"}})
	m := consoleSecret.FindStringSubmatch(p.Body)
	if p.Status != 200 || m == nil || !strings.HasPrefix(m[1], "oak_") || !strings.Contains(p.Body, "will not be shown again") {
		t.Fatalf("create a key: got %d, want the key once in the dialog:\n%.2000s", p.Status, p.Body)
	}
	key := m[1]
	if a := e.adminAs(key, "POST", "/apis/b/clients", map[string]any{"client_id": "by-key"}); a.Status != 201 {
		t.Errorf("the new key writing to b: got %d %s", a.Status, a.Raw)
	}
	if a := e.adminAs(key, "GET", "/apis/a", nil); a.Status != 404 {
		t.Errorf("the new key reading a: got %d, want 404", a.Status)
	}
	list := e.mustAdmin(200, "GET", "/admin-keys", nil)
	exp, _ := time.Parse(time.RFC3339, regexp.MustCompile(`"expires_at":"([^"]+)"`).FindStringSubmatch(list.Raw)[1])
	if !strings.Contains(list.Raw, `"access":"read-write"`) || !strings.Contains(list.Raw, `"apis":["b"]`) ||
		exp.Sub(time.Now()) < 6*24*time.Hour || exp.Sub(time.Now()) > 7*24*time.Hour+time.Minute {
		t.Errorf("stored key: got %s, want b, read-write, expiring in 7 days", list.Raw)
	}
	page := root.do("GET", "/admin/console/admin-keys", nil)
	id := key[4:20]
	if strings.Contains(page.Body, key[21:]) || !strings.Contains(page.Body, id) || !strings.Contains(page.Body, "panel b") {
		t.Errorf("the list: want the key's id and name, never its secret")
	}
	if bad := root.post("/admin/console/admin-keys", url.Values{"name": {"none"}, "access": {"read-only"}}); bad.Status != 400 || !strings.Contains(bad.Body, "apis must name") {
		t.Errorf("a key without APIs: got %d, want 400 with the admin API's reason", bad.Status)
	}

	other := newConsoleUser(t, e)
	other.signIn(key)
	home = other.do("GET", "/admin/console/", nil)
	if strings.Contains(home.Body, `href="/admin/console/admin-keys"`) || !strings.Contains(home.Body, "admin key panel b (read-write)") {
		t.Errorf("a key's header: want no Admin keys link and the key named:\n%.1500s", home.Body)
	}
	refused := other.do("GET", "/admin/console/admin-keys", nil)
	if refused.Status != 403 || !strings.Contains(refused.Body, "Not allowed for admin key panel b (read-write): this call needs the admin token") {
		t.Errorf("a key on the admin keys page: got %d\n%.1500s", refused.Status, refused.Body)
	}

	if r := root.post("/admin/console/admin-keys/"+id+"/revoke", nil); r.Status != 200 || !strings.Contains(r.Body, "badge k-revoked") {
		t.Errorf("revoke: got %d\n%.1500s", r.Status, r.Body)
	}
	if a := e.adminAs(key, "GET", "/apis/b", nil); a.Status != 401 {
		t.Errorf("the revoked key: got %d, want 401", a.Status)
	}
}
