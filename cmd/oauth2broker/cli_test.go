package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oauth2broker/oauth2broker/broker"
	"github.com/oauth2broker/oauth2broker/broker/seal"
	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/providers/catalog"
	boltstore "github.com/oauth2broker/oauth2broker/storage/bbolt"
)

const testAdminToken = "test-admin-token-0123456789"

// newTestBroker runs the real broker on a bbolt file and returns its URL.
func newTestBroker(t *testing.T) string {
	t.Helper()
	store, err := boltstore.Open(boltstore.Config{Path: filepath.Join(t.TempDir(), "broker.db")})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := seal.GenerateKey()
	kr, err := seal.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(nil)
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := broker.New(context.Background(), broker.Config{
		Catalog: cat, Store: store, Keyring: kr, PublicURL: "http://" + ts.Listener.Addr().String(),
		AdminToken: testAdminToken, GCInterval: -1, Logger: slog.New(slog.DiscardHandler), Outbound: broker.DevOutbound(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv
	ts.Start()
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
		_ = store.Close()
	})
	return ts.URL
}

// cli runs the CLI and returns its exit code, stdout and stderr.
func cli(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// cliStdin runs one command with stdin, as run does with os.Stdin.
func cliStdin(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd, rest, err := findCommand(args)
	if err != nil {
		t.Fatal(err)
	}
	code := exitCode(&errb, cmd.path, cmd.run(newApp(&out, &errb, strings.NewReader(stdin)), rest))
	return code, out.String(), errb.String()
}

// mustCLI runs the CLI and fails the test unless it exits 0.
func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := cli(args...)
	if code != 0 {
		t.Fatalf("oauth2broker %s: exit %d, stderr %q", strings.Join(args, " "), code, errOut)
	}
	return out
}

func decode[T any](t *testing.T, raw string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, raw)
	}
	return v
}

func wantContains(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s: got %q, want it to contain %q", what, got, w)
		}
	}
}

func TestCLIEndToEnd(t *testing.T) {
	base := newTestBroker(t)
	clearEnv(t)
	t.Setenv(envURL, base)
	t.Setenv(envAdminToken, testAdminToken)

	out := mustCLI(t, "api", "create", "shop", "--access-token-ttl", "30m", "--token-path", "/api/token")
	wantContains(t, "api create", out, "created api shop", "30m0s", "/api/token", "ES256")
	code, _, errOut := cli("api", "create", "shop")
	if code != exitError || !strings.Contains(errOut, "409") || !strings.Contains(errOut, "conflict") {
		t.Errorf("duplicate api create: got exit %d, stderr %q; want 1 and a 409 conflict", code, errOut)
	}
	wantContains(t, "api list", mustCLI(t, "api", "list"), "NAME", "shop", base+"/shop")
	if apis := decode[apisOut](t, mustCLI(t, "api", "list", "--json")); len(apis.APIs) != 1 || apis.APIs[0].Name != "shop" {
		t.Errorf("api list --json: got %+v, want one api shop", apis)
	}

	created := decode[clientOut](t, mustCLI(t, "client", "create", "--api", "shop", "--client-id", "backend", "--grant", "client_credentials", "--grant", "password", "--scope", "read", "--json"))
	if created.ClientID != "backend" || len(created.ClientSecret) < 16 {
		t.Fatalf("client create --json: got id %q and a %d-byte secret, want backend and a secret", created.ClientID, len(created.ClientSecret))
	}
	tokenURL := base + "/shop/oauth2/token"
	cc := url.Values{"grant_type": {"client_credentials"}}
	if code, _ := postToken(t, tokenURL, cc, "backend", created.ClientSecret); code != 200 {
		t.Errorf("token with the created secret: got %d, want 200", code)
	}
	out = mustCLI(t, "client", "create", "--api", "shop", "--name", "Second")
	wantContains(t, "client create", out, "created client", "client_secret:", "will not be shown again")

	out = mustCLI(t, "client", "rotate-secret", "--api", "shop", "backend")
	wantContains(t, "client rotate-secret", out, "new secret for client backend", "client_secret:", "will not be shown again")
	if strings.Contains(out, created.ClientSecret) {
		t.Errorf("rotate-secret printed the old secret")
	}
	rotated := decode[clientOut](t, mustCLI(t, "client", "rotate-secret", "backend", "--api", "shop", "--json"))
	if code, _ := postToken(t, tokenURL, cc, "backend", created.ClientSecret); code != 401 {
		t.Errorf("token with the old secret after rotation: got %d, want 401", code)
	}
	if code, _ := postToken(t, tokenURL, cc, "backend", rotated.ClientSecret); code != 200 {
		t.Errorf("token with the rotated secret: got %d, want 200", code)
	}
	wantContains(t, "client list", mustCLI(t, "client", "list", "--api", "shop"), "CLIENT_ID", "backend", "Second", "client_credentials,password")
	wantContains(t, "client get", mustCLI(t, "client", "get", "--api", "shop", "backend"), "client_id:", "backend", "scopes:", "read")

	testCLIUsers(t, tokenURL, rotated.ClientSecret)
	testCLIKeysAndSettings(t)
	testCLIProvidersAndConnections(t)
}

func testCLIUsers(t *testing.T, tokenURL, secret string) {
	out := mustCLI(t, "user", "create", "--api", "shop", "--username", "alice", "--password", "alice-password-1", "--scope", "read")
	wantContains(t, "user create", out, "created user alice in api shop", "read")
	code, out, errOut := cliStdin(t, "bob-password-2\n", "user", "create", "--api", "shop", "--username", "bob", "--password-stdin")
	if code != 0 || !strings.Contains(out, "created user bob") {
		t.Fatalf("user create --password-stdin: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	pw := url.Values{"grant_type": {"password"}, "username": {"bob"}, "password": {"bob-password-2"}}
	if code, _ := postToken(t, tokenURL, pw, "backend", secret); code != 200 {
		t.Errorf("password grant with the stdin password: got %d, want 200", code)
	}
	code, out, errOut = cliStdin(t, "bob-password-3\n", "user", "password", "--api", "shop", "bob", "--password-stdin")
	if code != 0 || !strings.Contains(out, "changed the password of user bob") || strings.Contains(out, "bob-password-3") {
		t.Fatalf("user password --password-stdin: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, _ := postToken(t, tokenURL, pw, "backend", secret); code != 400 {
		t.Errorf("password grant with the old password: got %d, want 400", code)
	}
	pw.Set("password", "bob-password-3")
	if code, _ := postToken(t, tokenURL, pw, "backend", secret); code != 200 {
		t.Errorf("password grant with the new password: got %d, want 200", code)
	}
	out = mustCLI(t, "user", "list", "--api", "shop")
	wantContains(t, "user list", out, "USERNAME", "alice", "bob")
	if strings.Contains(out, "password") {
		t.Errorf("user list shows a password: %q", out)
	}
	wantContains(t, "user delete", mustCLI(t, "user", "delete", "--api", "shop", "alice"), "deleted user alice")
	code, _, errOut = cli("user", "get", "--api", "shop", "alice")
	if code != exitError || !strings.Contains(errOut, "not_found") {
		t.Errorf("user get after delete: got exit %d, stderr %q; want 1 and not_found", code, errOut)
	}
}

func testCLIKeysAndSettings(t *testing.T) {
	out := mustCLI(t, "keys", "rotate", "--api", "shop")
	wantContains(t, "keys rotate", out, "new ES256 signing key", "for api shop")
	keys := decode[keysOut](t, mustCLI(t, "keys", "list", "--api", "shop", "--json"))
	if len(keys.Keys) < 2 {
		t.Errorf("keys list after rotation: got %d keys, want at least 2 (the old one stays)", len(keys.Keys))
	}
	wantContains(t, "keys list", mustCLI(t, "keys", "list", "--api", "shop"), "KID", "ES256")

	out = mustCLI(t, "api", "set", "shop", "--default-client", "backend", "--expose-refresh-token=true", "--tenant", "acme", "--refresh-token-max-lifetime", "720h")
	wantContains(t, "api set", out, "updated api shop", "default_client:", "backend", "acme", "refresh_token_max_lifetime:", "720h0m0s")
	got := decode[apiOut](t, mustCLI(t, "api", "get", "shop", "--json"))
	if got.DefaultClient != "backend" || !got.ExposeRefreshToken || got.AccessTokenTTL != "30m0s" || got.RefreshTokenMaxLifetime != "720h0m0s" {
		t.Errorf("api get after set: got %+v, want default_client backend, expose_refresh_token, refresh_token_max_lifetime 720h, ttl kept", got)
	}
	code, _, errOut := cli("client", "delete", "--api", "shop", "backend")
	if code != exitError || !strings.Contains(errOut, "default_client") {
		t.Errorf("deleting the default client: got exit %d, stderr %q; want 1 and a conflict", code, errOut)
	}
	mustCLI(t, "api", "set", "shop", "--default-client", "", "--clear-tenants")
	wantContains(t, "client delete", mustCLI(t, "client", "delete", "--api", "shop", "backend"), "deleted client backend")
	if code, _, _ := cli("api", "set", "shop"); code != exitUsage {
		t.Errorf("api set without settings: got exit %d, want %d", code, exitUsage)
	}
}

func testCLIProvidersAndConnections(t *testing.T) {
	code, out, errOut := cliStdin(t, "upstream-secret\n", "provider", "put", "--api", "shop", "up",
		"--type", "oauth2", "--auth-url", "https://up.example/authorize", "--token-url", "https://up.example/token",
		"--client-id", "broker", "--client-secret-stdin", "--scope", "profile", "--auth-param", "prompt=consent", "--allowed-scope", "email")
	if code != 0 || !strings.Contains(out, "saved provider up") || !strings.Contains(out, "client secret set: true") ||
		!strings.Contains(out, "/shop/oauth2/provider/callback/up\n") {
		t.Fatalf("provider put: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	out = mustCLI(t, "provider", "get", "--api", "shop", "up")
	wantContains(t, "provider get", out, "token_url:", "https://up.example/token", "prompt=consent", "allowed_scopes:", "email",
		"callback_url:", "/shop/oauth2/provider/callback/up")
	if strings.Contains(out, "upstream-secret") {
		t.Errorf("provider get shows the client secret")
	}
	mustCLI(t, "provider", "put", "--api", "shop", "up", "--type", "oauth2", "--auth-url", "https://up.example/authorize",
		"--token-url", "https://up.example/token", "--client-id", "broker", "--var", "tenant=contoso",
		"--set", "refresh_lead=3m", "--set", `allowed_scopes=["Mail.Read"]`)
	out = mustCLI(t, "provider", "get", "--api", "shop", "up")
	wantContains(t, "provider get of every setting", out, "vars:", "tenant=contoso", "refresh_lead:", "3m0s", "Mail.Read")
	wantContains(t, "provider list", mustCLI(t, "provider", "list", "--api", "shop"), "NAME", "up", "oauth2")
	wantContains(t, "connection list", mustCLI(t, "connection", "list", "--api", "shop", "--client-user-identity", "u1"), "ID", "STATUS")
	if conns := decode[connectionsOut](t, mustCLI(t, "connection", "list", "--api", "shop", "--json")); len(conns.Connections) != 0 {
		t.Errorf("connection list --json: got %d connections, want 0", len(conns.Connections))
	}
	code, _, errOut = cli("connection", "delete", "--api", "shop", "nope")
	if code != exitError || !strings.Contains(errOut, "not_found") {
		t.Errorf("connection delete of an unknown id: got exit %d, stderr %q; want 1 and not_found", code, errOut)
	}
	mustCLI(t, "provider", "put", "--api", "shop", "up", "--type", "oauth2", "--auth-url", "https://up.example/authorize",
		"--token-url", "https://up.example/token", "--client-id", "broker",
		"--api-base-url", "https://api.up.example", "--api-base-url", "https://uploads.up.example/v2")
	wantContains(t, "provider get of api_base_urls", mustCLI(t, "provider", "get", "--api", "shop", "up"), "api_base_urls:", "https://uploads.up.example/v2")
	if got := decode[providerOut](t, mustCLI(t, "provider", "get", "--api", "shop", "up", "--json")).APIBaseURLs; strings.Join(got, " ") != "https://api.up.example https://uploads.up.example/v2" {
		t.Errorf("provider put --api-base-url: got api_base_urls %q, want both in order", got)
	}
	if code, _, errOut := cli("provider", "put", "--api", "shop", "up", "--type", "oauth2", "--auth-url", "https://up.example/authorize",
		"--token-url", "https://up.example/token", "--client-id", "broker", "--api-base-url", "http://api.up.example"); code != exitError || !strings.Contains(errOut, "api_base_urls") {
		t.Errorf("provider put --api-base-url over plain http: exit %d, stderr %q; want 1 naming api_base_urls", code, errOut)
	}
	wantContains(t, "provider delete", mustCLI(t, "provider", "delete", "--api", "shop", "up"), "deleted provider up")
	out = mustCLI(t, "provider", "put", "--api", "shop", "notes", "--type", "mcp", "--server-url", "https://mcp.example.com/mcp")
	wantContains(t, "provider put of an MCP server", out, "saved provider notes", "/shop/oauth2/provider/callback/notes")
	wantContains(t, "provider get of an MCP server", mustCLI(t, "provider", "get", "--api", "shop", "notes"), "server_url:", "https://mcp.example.com/mcp")
	wantContains(t, "provider list of an MCP server", mustCLI(t, "provider", "list", "--api", "shop"), "notes", "mcp")
	if code, _, errOut := cli("provider", "put", "--api", "shop", "bad", "--type", "mcp"); code != exitError || !strings.Contains(errOut, "server_url is required") {
		t.Errorf("provider put of an MCP server without its URL: exit %d, stderr %q", code, errOut)
	}
	mustCLI(t, "provider", "delete", "--api", "shop", "notes")
}

// An MCP provider's list kind says how the broker is registered once it
// has discovered its server.
func TestProviderKind(t *testing.T) {
	for want, p := range map[string]providerOut{
		"template:github": {Config: providers.Config{Template: "github"}},
		"mcp":             {Config: providers.Config{Type: "mcp"}},
		"mcp:dynamic":     {Config: providers.Config{Type: "mcp"}, Discovered: &providers.Discovered{Registration: "dynamic"}},
	} {
		if got := providerKind(p); got != want {
			t.Errorf("providerKind = %q, want %q", got, want)
		}
	}
}

func TestCLIErrors(t *testing.T) {
	base := newTestBroker(t)
	clearEnv(t)
	t.Setenv(envAdminToken, "")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"wrong admin token", []string{"api", "list", "--url", base, "--admin-token", "wrong"}, exitError, "invalid_client"},
		{"token flag after args", []string{"api", "get", "nope", "--url", base, "--admin-token", testAdminToken}, exitError, "unknown api"},
		{"bad request", []string{"api", "create", "Bad Name", "--url", base, "--admin-token", testAdminToken}, exitError, "invalid_request"},
		{"unreachable", []string{"api", "list", "--url", "http://127.0.0.1:1"}, exitError, "cannot reach the broker"},
		{"missing --api", []string{"client", "list", "--url", base}, exitUsage, "--api is required"},
		{"missing id", []string{"client", "get", "--api", "shop"}, exitUsage, "CLIENT_ID"},
		{"extra argument", []string{"api", "list", "extra"}, exitUsage, `unexpected argument "extra"`},
		{"bad duration", []string{"api", "create", "x", "--access-token-ttl", "soon"}, exitUsage, "Go duration"},
		{"unknown flag", []string{"api", "list", "--colour"}, exitUsage, "flag provided but not defined"},
		{"unknown command", []string{"api", "frob"}, exitUsage, `unknown command "api frob"`},
		{"no password", []string{"user", "create", "--api", "a", "--username", "u"}, exitUsage, "--password or --password-stdin"},
		{"template and type", []string{"provider", "put", "--api", "a", "p", "--template", "github", "--type", "oidc"}, exitUsage, "not both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := cli(tt.args...)
			if code != tt.wantCode || !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("got exit %d, stderr %q; want %d and %q", code, errOut, tt.wantCode, tt.wantErr)
			}
		})
	}
}

func TestUsageListsEveryCommand(t *testing.T) {
	code, out, _ := cli("help")
	if code != exitOK {
		t.Errorf("help: got exit %d, want 0", code)
	}
	for _, c := range commands() {
		wantContains(t, "help", out, "oauth2broker "+c.path+" ")
	}
	wantContains(t, "help", out, "oauth2broker serve")
	if code, _, errOut := cli(); code != exitUsage || !strings.Contains(errOut, "oauth2broker api create") {
		t.Errorf("no arguments: got exit %d, want %d and the usage on stderr", code, exitUsage)
	}
	if code, _, errOut := cli("client", "create", "-h"); code != exitOK || !strings.Contains(errOut, "-return-url") {
		t.Errorf("client create -h: got exit %d, stderr %q; want 0 and the flags", code, errOut)
	}
}
