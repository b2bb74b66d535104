package broker_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/broker"
	"github.com/oauth2broker/oauth2broker/broker/secret"
	"github.com/oauth2broker/oauth2broker/storage/bbolt"
)

func TestAdminAuth(t *testing.T) {
	off := newEnvWith(t, "")
	if a := off.admin("GET", "/apis", nil); a.Status != 403 || !strings.Contains(a.str("error_description"), "OAUTH2BROKER_ADMIN_TOKEN") {
		t.Errorf("admin API without a configured token: got %d %s, want 403 saying how to enable it", a.Status, a.Raw)
	}
	e := newEnv(t)
	for name, auth := range map[string]string{"none": "", "wrong": "Bearer nope", "basic": "Basic " + adminToken, "prefix": "Bearer " + adminToken[:10]} {
		req, _ := http.NewRequest("GET", e.URL+"/admin/v1/apis", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if a := e.do(req); a.Status != 401 {
			t.Errorf("%s: got %d, want 401", name, a.Status)
		}
	}
	e.mustAdmin(200, "GET", "/apis", nil)
}

func TestAdminAPIs(t *testing.T) {
	e := newEnv(t)
	created := e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "one", "tenants": []string{"t"}, "access_token_ttl": "15m", "token_paths": []string{"/api/token"}, "signing_alg": "RS256"})
	if created.str("access_token_ttl") != "15m0s" || created.str("signing_alg") != "RS256" || created.str("issuer") != e.URL+"/one" {
		t.Errorf("created: got %s", created.Raw)
	}
	cases := []struct {
		name   string
		body   string
		status int
	}{
		{"duplicate", `{"name":"one"}`, 409},
		{"token path taken", `{"name":"two","token_paths":["/api/token"]}`, 409},
		{"token path under an api", `{"name":"three","token_paths":["/one/token"]}`, 409},
		{"unknown field", `{"name":"four","colour":"blue"}`, 400},
		{"reserved name", `{"name":"admin"}`, 400},
		{"bad name", `{"name":"Has Caps"}`, 400},
		{"bad ttl", `{"name":"five","access_token_ttl":"forever"}`, 400},
		{"ttl as number", `{"name":"five","access_token_ttl":60}`, 400},
		{"bad alg", `{"name":"five","signing_alg":"none"}`, 400},
		{"bad path", `{"name":"five","token_paths":["relative"]}`, 400},
		{"trailing data", `{"name":"five"} {}`, 400},
		{"no name", `{}`, 400},
		{"not json", `name=x`, 400},
	}
	for _, tc := range cases {
		if a := e.admin("POST", "/apis", tc.body); a.Status != tc.status || a.str("error") == "" {
			t.Errorf("%s: got %d %s, want %d with an RFC-style error", tc.name, a.Status, a.Raw, tc.status)
		}
	}
	list := e.mustAdmin(200, "GET", "/apis", nil)
	if apis, _ := list.Body["apis"].([]any); len(apis) != 1 {
		t.Errorf("list: got %s, want one API", list.Raw)
	}
	if a := e.admin("PATCH", "/apis/one", map[string]any{"default_client": "ghost"}); a.Status != 400 {
		t.Errorf("default_client that does not exist: got %d, want 400", a.Status)
	}
	e.mustAdmin(404, "GET", "/apis/none", nil)
	e.mustAdmin(404, "GET", "/apis/none/clients", nil)
}

func TestAdminSigningAlgChangeRetiresOldKeys(t *testing.T) {
	e := newEnv(t)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "a"})
	e.do(mustReq("GET", e.URL+"/a/oauth2/jwks")) // first key, ES256
	e.mustAdmin(200, "PATCH", "/apis/a", map[string]any{"signing_alg": "RS256"})
	keys := e.mustAdmin(200, "GET", "/apis/a/keys", nil)
	list, _ := keys.Body["keys"].([]any)
	active := 0
	for _, k := range list {
		if m := k.(map[string]any); m["retired_at"] == nil {
			active++
			if m["alg"] != "RS256" {
				t.Errorf("active key alg: got %v, want RS256", m["alg"])
			}
		}
	}
	if active != 1 {
		t.Errorf("got %d active keys (%s), want exactly 1", active, keys.Raw)
	}
}

func TestAdminClientsUsersProviders(t *testing.T) {
	e := newEnv(t)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "x"})
	for name, body := range map[string]string{
		"bad grant":      `{"grant_types":["implicit"]}`,
		"bad return url": `{"return_urls":["javascript:alert(1)"]}`,
		"bad scope":      `{"scopes":["a b"]}`,
		"bad id":         `{"client_id":"has space"}`,
		"bad ttl":        `{"access_token_ttl":"-5m"}`,
		"unknown field":  `{"secret":"mine"}`,
	} {
		if a := e.admin("POST", "/apis/x/clients", body); a.Status != 400 {
			t.Errorf("client %s: got %d %s, want 400", name, a.Status, a.Raw)
		}
	}
	id, _ := e.client("x", map[string]any{"client_id": "c1"})
	e.mustAdmin(409, "POST", "/apis/x/clients", map[string]any{"client_id": "c1"})
	e.mustAdmin(200, "GET", "/apis/x/clients/"+id, nil)

	u := e.mustAdmin(201, "POST", "/apis/x/users", map[string]any{"username": "bob", "password": "hunter22"})
	if strings.Contains(u.Raw, "hunter22") || strings.Contains(u.Raw, "argon2") {
		t.Errorf("user answer shows password material: %s", u.Raw)
	}
	e.mustAdmin(409, "POST", "/apis/x/users", map[string]any{"username": "bob", "password": "other"})
	e.mustAdmin(400, "POST", "/apis/x/users", map[string]any{"username": "carol"})

	prov := map[string]any{"type": "oauth2", "auth_url": "https://up.example/auth", "token_url": "https://up.example/token", "client_id": "up-id", "client_secret": "up-secret-123", "scopes": []string{"repo"}}
	for i := 0; i < 2; i++ {
		p := e.mustAdmin(200, "PUT", "/apis/x/providers/up", prov)
		if strings.Contains(p.Raw, "up-secret-123") || p.Body["client_secret_set"] != true {
			t.Errorf("provider answer: got %s, want no secret and client_secret_set true", p.Raw)
		}
	}
	stored, err := e.Store.GetProvider(context.Background(), "x", "up")
	if err != nil || bytes.Contains(stored.SealedClientSecret, []byte("up-secret-123")) || len(stored.SealedClientSecret) == 0 {
		t.Errorf("provider secret at rest: got %q, %v; want sealed", stored.SealedClientSecret, err)
	}
	e.mustAdmin(400, "PUT", "/apis/x/providers/bad", map[string]any{"type": "oidc", "client_id": "c"})
	e.mustAdmin(400, "PUT", "/apis/x/providers/tpl", map[string]any{"template": "no-such-template", "client_id": "c"})

	if c := e.mustAdmin(200, "GET", "/apis/x/connections?client_user_identity=u1", nil); c.Raw == "" || c.Body["connections"] == nil {
		t.Errorf("connections list: got %s, want {\"connections\":[]}", c.Raw)
	}
	for _, path := range []string{"/apis/x/clients/c1", "/apis/x/users/bob", "/apis/x/providers/up"} {
		e.mustAdmin(204, "DELETE", path, nil)
		e.mustAdmin(404, "DELETE", path, nil)
	}
	e.mustAdmin(404, "DELETE", "/apis/x/connections/none", nil)
}

// The backup is a bbolt file holding everything, taken while serving.
func TestAdminBackup(t *testing.T) {
	e := newEnv(t)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "b"})
	id, sec := e.client("b", map[string]any{})
	req, _ := http.NewRequest("GET", e.URL+"/admin/v1/backup", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "backup.db")
	f, _ := os.Create(path)
	n, err := io.Copy(f, resp.Body)
	resp.Body.Close()
	f.Close()
	if resp.StatusCode != 200 || err != nil {
		t.Fatalf("backup: got %d, %v", resp.StatusCode, err)
	}
	if resp.ContentLength <= 0 || n != resp.ContentLength {
		t.Errorf("backup: Content-Length %d, read %d bytes; want them equal, so a cut copy shows", resp.ContentLength, n)
	}
	restored, err := bbolt.Open(bbolt.Config{Path: path})
	if err != nil {
		t.Fatalf("the backup does not open as a bbolt store: %v", err)
	}
	defer restored.Close()
	c, err := restored.GetClient(context.Background(), "b", id)
	if err != nil || !secret.CheckClientSecret(e.Ring, c.SecretHash, sec) {
		t.Errorf("the backup lacks the client: %v", err)
	}
	if a := e.admin("GET", "/backup", nil); a.Status != 200 {
		t.Errorf("second backup: got %d", a.Status)
	}
}

func TestAdminAudit(t *testing.T) {
	e := newEnv(t)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "x"})
	_, sec := e.client("x", map[string]any{"client_id": "c1"})
	e.mustAdmin(200, "POST", "/apis/x/clients/c1/secret", nil)
	e.mustAdmin(201, "POST", "/apis/x/users", map[string]any{"username": "bob", "password": "hunter22"})
	e.mustAdmin(200, "POST", "/apis/x/keys/rotate", nil)
	e.mustAdmin(204, "DELETE", "/apis/x/clients/c1", nil)
	a := e.mustAdmin(200, "GET", "/apis/x/audit", nil)
	var got []string
	for _, ev := range a.Body["events"].([]any) {
		m := ev.(map[string]any)
		got = append(got, m["action"].(string)+":"+m["actor"].(string))
	}
	want := "api.created:admin client.created:admin client.secret_rotated:admin user.created:admin keys.rotated:admin client.deleted:admin"
	if strings.Join(got, " ") != want {
		t.Errorf("audit: got %v, want %s", got, want)
	}
	if strings.Contains(a.Raw, sec) || strings.Contains(a.Raw, "hunter22") {
		t.Errorf("the audit trail holds a secret")
	}

	// Pages: two, two, then the rest with no next.
	var paged []string
	after := ""
	for page := 0; ; page++ {
		p := e.mustAdmin(200, "GET", "/apis/x/audit?limit=2&after="+after, nil)
		for _, ev := range p.Body["events"].([]any) {
			paged = append(paged, ev.(map[string]any)["action"].(string))
		}
		next, _ := p.Body["next"].(string)
		if next == "" {
			break
		}
		if page > 5 {
			t.Fatal("the pages do not end")
		}
		after = next
	}
	if len(paged) != len(got) {
		t.Errorf("audit in pages of two: got %v, want the %d events once each", paged, len(got))
	}
	for _, bad := range []string{"0", "10001", "x"} {
		if a := e.admin("GET", "/apis/x/audit?limit="+bad, nil); a.Status != 400 {
			t.Errorf("audit limit %s: got %d, want 400", bad, a.Status)
		}
	}

	// Events carry their expiry (90 days by default), and GC honours it.
	first := a.Body["events"].([]any)[0].(map[string]any)
	created, _ := time.Parse(time.RFC3339Nano, first["created_at"].(string))
	expires, _ := time.Parse(time.RFC3339Nano, first["expires_at"].(string))
	if expires.Sub(created) != broker.DefaultAuditRetention {
		t.Errorf("audit event expiry: created %v, expires %v; want 90 days later", created, expires)
	}
	if n, err := e.Store.GarbageCollect(t.Context(), expires.Add(time.Second)); err != nil || n.AuditEvents != int64(len(got)) {
		t.Errorf("GC after the retention: %+v, %v; want every audit event gone", n, err)
	}
}
