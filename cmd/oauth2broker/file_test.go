package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func fakeEnv(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

func TestExpandString(t *testing.T) {
	env := fakeEnv(map[string]string{"A": "alpha", "B": "b: #not yaml", "EMPTY": ""})
	tests := []struct{ in, want, wantErr string }{
		{in: "${A}", want: "alpha"},
		{in: "x-${A}-${B}", want: "x-alpha-b: #not yaml"},
		{in: "${EMPTY}", want: ""},
		{in: "$${A} costs $5", want: "${A} costs $5"},
		{in: "$A and ${ A }", want: "$A and ${ A }"},
		{in: "${MISSING}", wantErr: "environment variable MISSING is not set"},
	}
	for _, tt := range tests {
		got, err := expandString(tt.in, env)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("expandString(%q): got error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("expandString(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestReadFileConfigExpandsEnv(t *testing.T) {
	path := writeFile(t, "c.yaml", `
admin_token: ${TOKEN}
apis:
  - name: shop
    tenants: ["${TENANT}"]
    clients:
      - {client_id: c1, client_secret: "${SECRET}"}
    users:
      - {username: u, password: "${PASSWORD}"}
    providers:
      github:
        type: oauth2
        client_secret: ${SECRET}
        auth_params: {"${KEY_NOT_EXPANDED}": "${TENANT}"}
`)
	env := fakeEnv(map[string]string{"TOKEN": "tok", "TENANT": "acme", "SECRET": "s3cr3t: \"x\"", "PASSWORD": "pw"})
	fc, err := readFileConfig(path, env)
	if err != nil {
		t.Fatalf("readFileConfig: %v", err)
	}
	a := fc.APIs[0]
	got := []string{fc.AdminToken, a.Tenants[0], a.Clients[0].ClientSecret, a.Users[0].Password,
		a.Providers["github"].ClientSecret, a.Providers["github"].AuthParams["${KEY_NOT_EXPANDED}"]}
	want := []string{"tok", "acme", `s3cr3t: "x"`, "pw", `s3cr3t: "x"`, "acme"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("value %d: got %q, want %q", i, got[i], want[i])
		}
	}
}

func TestReadFileConfigErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"unknown top-level field", "adress: x\n", "field adress not found"},
		{"unknown api field", "apis:\n  - name: shop\n    colour: red\n", "field colour not found"},
		{"unknown client field", "apis:\n  - name: shop\n    clients: [{client_id: c, secret: x}]\n", "field secret not found"},
		{"unknown provider field", "apis:\n  - name: shop\n    providers: {gh: {type: oauth2, issuer_url: x}}\n", "field issuer_url not found"},
		{"unset variable", "admin_token: ${OAUTH2BROKER_TEST_UNSET}\n", "OAUTH2BROKER_TEST_UNSET is not set"},
		{"two documents", "addr: a\n---\naddr: b\n", "exactly one YAML document"},
		{"wrong type", "apis: {name: shop}\n", "cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readFileConfig(writeFile(t, "c.yaml", tt.yaml), fakeEnv(nil))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestReadFileConfigEmpty(t *testing.T) {
	fc, err := readFileConfig(writeFile(t, "c.yaml", "# nothing yet\n"), fakeEnv(nil))
	if err != nil {
		t.Fatalf("readFileConfig: %v", err)
	}
	if d, err := fc.declaration(); err != nil || len(d.APIs) != 0 {
		t.Errorf("got %d APIs, %v; want 0, nil", len(d.APIs), err)
	}
}

// exampleEnv sets the variables testdata/example.yaml refers to.
func exampleEnv(t *testing.T) map[string]string {
	vars := map[string]string{
		"EXAMPLE_ADMIN_TOKEN":          "example-admin-token-0123456789abcdefghijkl",
		"EXAMPLE_SHOP_BACKEND_SECRET":  "shop-backend-secret-0123456789abcdefghijkl",
		"EXAMPLE_SHOP_PANEL_SECRET":    "shop-panel-secret-0123456789abcdefghijkl",
		"EXAMPLE_PANEL_PASSWORD":       "panel-password-0123456789",
		"EXAMPLE_GITHUB_CLIENT_SECRET": "github-client-secret-0123456789abcdefghijkl",
		"EXAMPLE_GOOGLE_CLIENT_SECRET": "google-client-secret-0123456789abcdefghijkl",
		"EXAMPLE_CONFIG_SYNC_SECRET":   "config-sync-secret-0123456789abcdefghijkl",
	}
	for k, v := range vars {
		t.Setenv(k, v)
	}
	return vars
}

func TestExampleDeclaration(t *testing.T) {
	vars := exampleEnv(t)
	fc, err := readFileConfig(filepath.Join("testdata", "example.yaml"), os.LookupEnv)
	if err != nil {
		t.Fatalf("readFileConfig: %v", err)
	}
	d, err := fc.declaration()
	if err != nil {
		t.Fatalf("declaration: %v", err)
	}
	if len(d.APIs) != 2 {
		t.Fatalf("got %d APIs, want 2", len(d.APIs))
	}
	shop := d.APIs[0]
	if shop.Name != "shop" || shop.AccessTokenTTL != time.Hour || shop.DefaultClient != "shop-panel" {
		t.Errorf("got api %q ttl %v default_client %q, want shop 1h shop-panel", shop.Name, shop.AccessTokenTTL, shop.DefaultClient)
	}
	if shop.RefreshTokenMaxLifetime != 720*time.Hour {
		t.Errorf("got refresh_token_max_lifetime %v, want 720h", shop.RefreshTokenMaxLifetime)
	}
	if got := shop.Clients[0]; got.ID != "shop-backend" || got.Secret != vars["EXAMPLE_SHOP_BACKEND_SECRET"] || got.AccessTokenTTL != 15*time.Minute {
		t.Errorf("got client %q ttl %v (secret expanded: %t), want shop-backend 15m", got.ID, got.AccessTokenTTL, got.Secret == vars["EXAMPLE_SHOP_BACKEND_SECRET"])
	}
	if got := shop.Providers["google"].AuthParams["access_type"]; got != "offline" {
		t.Errorf("got google access_type %q, want offline", got)
	}
	if got := d.APIs[1].Tenants; len(got) != 2 || got[0] != "acme" {
		t.Errorf("got configapi tenants %v, want [acme globex]", got)
	}
}

func TestDeclarationErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"bad api ttl", "apis: [{name: a, access_token_ttl: soon}]", `access_token_ttl "soon"`},
		{"ttl without unit", "apis: [{name: a, access_token_ttl: 3600}]", `access_token_ttl "3600"`},
		{"ttl too long", "apis: [{name: a, clients: [{client_id: c, access_token_ttl: 1000h}]}]", "clients[0] (c)"},
		{"duplicate api", "apis: [{name: a}, {name: a}]", `api "a" is declared twice`},
		{"bad refresh lifetime", "apis: [{name: a, refresh_token_max_lifetime: forever}]", `refresh_token_max_lifetime "forever"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc, err := readFileConfig(writeFile(t, "c.yaml", tt.yaml), fakeEnv(nil))
			if err != nil {
				t.Fatalf("readFileConfig: %v", err)
			}
			_, err = fc.declaration()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
