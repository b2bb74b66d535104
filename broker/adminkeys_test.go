package broker_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/storage"
)

// keyEnv is a broker with APIs "a" and "b" and one admin key of each
// kind the table test needs.
type keyEnv struct {
	*env
	clk                               *clock
	rw, ro, outside, expired, revoked string // the keys
	rwID                              string
}

func newKeyEnv(t *testing.T) *keyEnv {
	t.Helper()
	clk := newClock()
	k := &keyEnv{env: newEnvOpts(t, adminToken, clk.now), clk: clk}
	k.mustAdmin(201, "POST", "/apis", map[string]any{"name": "a"})
	k.mustAdmin(201, "POST", "/apis", map[string]any{"name": "b"})
	var rw map[string]any
	k.rw, rw = k.newKey(map[string]any{"name": "panel a", "apis": []string{"a"}, "access": "read-write"})
	k.rwID, _ = rw["id"].(string)
	k.ro, _ = k.newKey(map[string]any{"apis": []string{"a", "b"}, "access": "read-only"})
	k.outside, _ = k.newKey(map[string]any{"apis": []string{"b"}, "access": "read-write"})
	k.expired, _ = k.newKey(map[string]any{"apis": []string{"a"}, "access": "read-write",
		"expires_at": clk.now().Add(time.Hour).Format(time.RFC3339)})
	var rev map[string]any
	k.revoked, rev = k.newKey(map[string]any{"apis": []string{"a"}, "access": "read-write"})
	k.mustAdmin(204, "DELETE", "/admin-keys/"+rev["id"].(string), nil)
	clk.add(2 * time.Hour)
	return k
}

// newKey creates an admin key with the admin token and returns the key
// and the answer.
func (k *keyEnv) newKey(body map[string]any) (string, map[string]any) {
	k.t.Helper()
	a := k.mustAdmin(201, "POST", "/admin-keys", body)
	if !regexp.MustCompile(`^oak_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$`).MatchString(a.str("key")) {
		k.t.Fatalf("created key: got %q, want oak_<16 hex>_<43 base64url>", a.str("key"))
	}
	return a.str("key"), a.Body
}

// reset puts back what the table's calls may have deleted or changed.
func (k *keyEnv) reset() {
	k.t.Helper()
	ctx := context.Background()
	k.mustAdmin(200, "PUT", "/apis/a/providers/p1", map[string]any{"template": "github", "client_id": "id"})
	err := errors.Join(
		k.Store.CreateClient(ctx, storage.Client{API: "a", ID: "c1", SecretHash: []byte("x"), GrantTypes: []string{"client_credentials"},
			WebhookURL: "https://hooks.example/a"}),
		k.Store.CreateUser(ctx, storage.User{API: "a", Username: "u1", PasswordHash: "$argon2id$x"}),
		k.Store.CreateConnection(ctx, storage.Connection{API: "a", ID: "conn1", ClientID: "c1", Identity: "id1", Provider: "p1", Status: storage.StatusActive}),
		k.Store.CreateAdminKey(ctx, storage.AdminKey{ID: "00000000000000ff", SecretHash: []byte("x"), APIs: []string{"a"}}),
		k.Store.DeleteWebhookEvent(ctx, "a", "ev1"),
	)
	if errors.Is(err, storage.ErrNotFound) {
		err = nil
	}
	err = errors.Join(err, k.Store.CreateWebhookEvent(ctx, storage.WebhookEvent{API: "a", ID: "ev1", ClientID: "c1", Type: "connection.created",
		Payload: []byte("{}"), Attempts: 12, Status: "failed", CreatedAt: k.clk.now(), NextAt: k.clk.now(), FinishedAt: k.clk.now()}))
	for _, e := range []error{err} {
		if e != nil && !strings.Contains(e.Error(), storage.ErrAlreadyExists.Error()) {
			k.t.Fatalf("reset: %v", e)
		}
	}
}

// adminRoute is one admin call of the table, and who may make it.
type adminRoute struct {
	method, path string // path with :api = a
	body         func(n int) any
	root         int // the status of the call with the admin token
	// scope: "api" (a route of API a), "any" (any credential), "root"
	// (the admin token only).
	scope string
}

func adminRoutes(rwID string) []adminRoute {
	none := func(int) any { return nil }
	body := func(v any) func(int) any { return func(int) any { return v } }
	return []adminRoute{
		{"GET", "/whoami", none, 200, "any"},
		{"GET", "/apis", none, 200, "any"},
		{"POST", "/admin-keys", body(map[string]any{"apis": []string{"a"}}), 201, "root"},
		{"GET", "/admin-keys", none, 200, "root"},
		{"GET", "/admin-keys/" + rwID, none, 200, "root"},
		{"DELETE", "/admin-keys/00000000000000ff", none, 204, "root"},
		{"GET", "/backup", none, 200, "root"},
		{"POST", "/apis", func(n int) any { return map[string]any{"name": fmt.Sprintf("new%d", n)} }, 201, "root"},
		{"GET", "/apis/a", none, 200, "api"},
		{"PATCH", "/apis/a", body(map[string]any{"audience": "https://a.example"}), 200, "api"},
		{"GET", "/apis/a/clients", none, 200, "api"},
		{"POST", "/apis/a/clients", body(map[string]any{}), 201, "api"},
		{"GET", "/apis/a/clients/c1", none, 200, "api"},
		{"DELETE", "/apis/a/clients/c1", none, 204, "api"},
		{"POST", "/apis/a/clients/c1/secret", none, 200, "api"},
		{"POST", "/apis/a/clients/c1/webhook-secret", none, 200, "api"},
		{"GET", "/apis/a/clients/c1/webhook-events", none, 200, "api"},
		{"POST", "/apis/a/clients/c1/webhook-events/ev1/retry", none, 200, "api"},
		{"GET", "/apis/a/users", none, 200, "api"},
		{"POST", "/apis/a/users", func(n int) any {
			return map[string]any{"username": fmt.Sprintf("user%d", n), "password": "correct horse battery"}
		}, 201, "api"},
		{"GET", "/apis/a/users/u1", none, 200, "api"},
		{"DELETE", "/apis/a/users/u1", none, 204, "api"},
		{"PUT", "/apis/a/users/u1/password", body(map[string]any{"password": "another long password"}), 200, "api"},
		{"GET", "/apis/a/users/u1/throttle", none, 200, "api"},
		{"GET", "/apis/a/providers", none, 200, "api"},
		{"PUT", "/apis/a/providers/p2", body(map[string]any{"template": "github", "client_id": "id"}), 200, "api"},
		{"GET", "/apis/a/providers/p1", none, 200, "api"},
		{"DELETE", "/apis/a/providers/p1", none, 204, "api"},
		{"GET", "/apis/a/connections", none, 200, "api"},
		{"DELETE", "/apis/a/connections/conn1", none, 204, "api"},
		{"POST", "/apis/a/connections/import", body(""), 200, "api"},
		{"POST", "/apis/a/connections/conn1/refresh", none, 400, "api"}, // conn1 holds no tokens
		{"GET", "/apis/a/keys", none, 200, "api"},
		{"POST", "/apis/a/keys/rotate", none, 200, "api"},
		{"GET", "/apis/a/audit", none, 200, "api"},
	}
}

// want is the status the principal who gets for r.
func (r adminRoute) want(who string) int {
	write := r.method != "GET"
	switch {
	case who == "expired" || who == "revoked":
		return http.StatusUnauthorized
	case who == "root" || r.scope == "any":
		return r.root
	case r.scope == "root":
		return http.StatusForbidden
	case who == "outside":
		return http.StatusNotFound
	case who == "ro" && write:
		return http.StatusForbidden
	}
	return r.root
}

// Every admin route × every kind of credential: the admin token, a
// read-write and a read-only key of the API, a key of another API, an
// expired and a revoked key.
func TestAdminKeysRouteTable(t *testing.T) {
	k := newKeyEnv(t)
	routes := adminRoutes(k.rwID)
	covered := map[string]bool{}
	for _, r := range routes {
		covered[r.method+" "+regexp.MustCompile(`/(a|c1|u1|p1|p2|conn1|ev1|[0-9a-f]{16})(/|$)`).ReplaceAllString(r.path, "/*$2")] = true
	}
	for _, r := range k.Srv.Routes() {
		p, ok := strings.CutPrefix(r.Path, "/admin/v1")
		if !ok {
			continue
		}
		if p = regexp.MustCompile(`:[a-z]+`).ReplaceAllString(p, "*"); !covered[r.Method+" "+p] {
			t.Errorf("admin route %s %s is not in the table", r.Method, r.Path)
		}
	}
	creds := map[string]string{"root": adminToken, "rw": k.rw, "ro": k.ro, "outside": k.outside, "expired": k.expired, "revoked": k.revoked}
	n := 0
	for _, r := range routes {
		for _, who := range []string{"expired", "revoked", "outside", "ro", "rw", "root"} {
			k.reset()
			n++
			a := k.adminAs(creds[who], r.method, r.path, r.body(n))
			if want := r.want(who); a.Status != want {
				t.Errorf("%s %s as %s: got %d %s, want %d", r.method, r.path, who, a.Status, a.Raw, want)
			}
		}
	}
}

// A key learns nothing of the APIs outside its scope: their routes
// answer exactly as an API that does not exist, and GET /apis lists its
// own only.
func TestAdminKeyOutsideScopeIsNotFound(t *testing.T) {
	k := newKeyEnv(t)
	hidden := k.adminAs(k.outside, "GET", "/apis/a/clients", nil)
	missing := k.adminAs(k.outside, "GET", "/apis/zz/clients", nil)
	if hidden.Status != 404 || hidden.Raw != missing.Raw {
		t.Errorf("an existing API outside the scope: got %d %s, want the answer of a missing one: %d %s", hidden.Status, hidden.Raw, missing.Status, missing.Raw)
	}
	list := k.adminAs(k.outside, "GET", "/apis", nil)
	if list.Status != 200 || !strings.Contains(list.Raw, `"name":"b"`) || strings.Contains(list.Raw, `"name":"a"`) {
		t.Errorf("GET /apis with a key of b: got %d %s, want b alone", list.Status, list.Raw)
	}
	if a := k.adminAs(k.rw, "PATCH", "/apis/a", map[string]any{"token_paths": []string{"/api/token"}}); a.Status != 403 {
		t.Errorf("a key changing token_paths (one namespace for all APIs): got %d %s, want 403", a.Status, a.Raw)
	}
	who := k.adminAs(k.ro, "GET", "/whoami", nil)
	if who.Status != 200 || who.Body["root"] != false || !strings.Contains(who.Raw, `"access":"read-only"`) {
		t.Errorf("whoami with a read-only key: got %d %s", who.Status, who.Raw)
	}
}

// Keys are shown once and stored hashed; lists never show them; every
// audit event names the credential that acted.
func TestAdminKeysStoredHashedAndAudited(t *testing.T) {
	k := newKeyEnv(t)
	ctx := context.Background()
	list := k.mustAdmin(200, "GET", "/admin-keys", nil)
	for _, key := range []string{k.rw, k.ro, k.outside} {
		_, sec, _ := strings.Cut(strings.TrimPrefix(key, "oak_"), "_")
		if strings.Contains(list.Raw, sec) {
			t.Errorf("the key list shows a key's secret")
		}
	}
	if !strings.Contains(list.Raw, `"status":"revoked"`) || !strings.Contains(list.Raw, `"status":"expired"`) {
		t.Errorf("key list: got %s, want a revoked and an expired key listed as such", list.Raw)
	}
	stored, err := k.Store.GetAdminKey(ctx, k.rwID)
	if err != nil || len(stored.SecretHash) != 32 || strings.Contains(string(stored.SecretHash), k.rw[21:]) {
		t.Fatalf("stored key: %+v, %v; want a 32-byte hash", stored, err)
	}
	k.mustAdmin(201, "POST", "/apis/a/clients", map[string]any{"client_id": "by-root"})
	if a := k.adminAs(k.rw, "POST", "/apis/a/clients", map[string]any{"client_id": "by-key"}); a.Status != 201 {
		t.Fatalf("client by key: %d %s", a.Status, a.Raw)
	}
	audit := k.mustAdmin(200, "GET", "/apis/a/audit", nil)
	for target, actor := range map[string]string{"by-root": "admin", "by-key": "admin-key:" + k.rwID, k.rwID: "admin"} {
		if !strings.Contains(audit.Raw, fmt.Sprintf(`"actor":%q`, actor)) || !regexp.MustCompile(fmt.Sprintf(`"actor":%q,"action":"[a-z_.]+","target":%q`, actor, target)).MatchString(audit.Raw) {
			t.Errorf("audit: want %s done by %s; got %s", target, actor, audit.Raw)
		}
	}
}
