package providers

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	ok := []Config{
		{Name: "corp", Type: TypeOIDC, Issuer: "https://id.example.com", ClientID: "c"},
		{Name: "gh-2", Type: TypeOAuth2, AuthURL: "https://a.example/auth", TokenURL: "https://a.example/token", ClientID: "c", AuthStyle: AuthStyleBody},
		{Name: "ms", Template: "microsoft", ClientID: "c", RefreshLead: Duration(2 * time.Minute), RefreshIdleAfter: Duration(720 * time.Hour)},
		{Name: "mal", Type: TypeOAuth2, AuthURL: "https://a.example/auth", TokenURL: "https://a.example/token", ClientID: "c", Quirks: Quirks{PKCE: "plain"}},
	}
	for _, c := range ok {
		if err := c.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v, want nil", c, err)
		}
	}
	bad := map[string]Config{
		"no client id":      {Name: "a", Type: TypeOIDC, Issuer: "https://x"},
		"bad name":          {Name: "A B", Type: TypeOIDC, Issuer: "https://x", ClientID: "c"},
		"no type":           {Name: "a", ClientID: "c"},
		"odd type":          {Name: "a", Type: "saml", ClientID: "c"},
		"relative issuer":   {Name: "a", Type: TypeOIDC, Issuer: "/x", ClientID: "c"},
		"missing token url": {Name: "a", Type: TypeOAuth2, AuthURL: "https://x/a", ClientID: "c"},
		"bad revocation":    {Name: "a", Type: TypeOAuth2, AuthURL: "https://x/a", TokenURL: "https://x/t", RevocationURL: "ftp://x", ClientID: "c"},
		"reserved param":    {Name: "a", Type: TypeOIDC, Issuer: "https://x", ClientID: "c", AuthParams: map[string]string{"State": "x"}},
		"bad auth style":    {Name: "a", Type: TypeOIDC, Issuer: "https://x", ClientID: "c", AuthStyle: "both"},
		"lead too short":    {Name: "a", Template: "google", ClientID: "c", RefreshLead: Duration(time.Second)},
		"lead too long":     {Name: "a", Template: "google", ClientID: "c", RefreshLead: Duration(48 * time.Hour)},
		"negative idle":     {Name: "a", Template: "google", ClientID: "c", RefreshIdleAfter: Duration(-time.Hour)},
		"idle too short":    {Name: "a", Template: "google", ClientID: "c", RefreshIdleAfter: Duration(time.Minute)},
		"unknown pkce":      {Name: "a", Type: TypeOAuth2, AuthURL: "https://x/a", TokenURL: "https://x/t", ClientID: "c", Quirks: Quirks{PKCE: "S512"}},
	}
	for name, c := range bad {
		if err := c.Validate(); err == nil {
			t.Errorf("%s: Validate = nil, want an error", name)
		}
	}
	if err := (Config{Name: "g", Template: "google", ClientID: "c"}).Validate(); err != nil {
		t.Errorf("template: got %v, want nil (the catalog checks templates)", err)
	}
}

// The settings survive storage: Encode drops the name and the secret,
// Decode restores the name; the view never carries the secret.
func TestConfigEncodeDecode(t *testing.T) {
	in := Config{Name: "ms", Template: "microsoft", ClientID: "c", ClientSecret: "s", Scopes: []string{"openid"},
		Vars: map[string]string{"tenant": "t"}, RefreshLead: Duration(2 * time.Minute), AllowedScopes: []string{"mail"}, Callback: CallbackOwn}
	b, err := in.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), `"s"`) || strings.Contains(string(b), "ms") {
		t.Errorf("encoded %s: want neither the secret nor the name", b)
	}
	out, err := Decode("ms", b)
	want := in
	want.ClientSecret = ""
	if err != nil || !reflect.DeepEqual(out, want) {
		t.Errorf("decoded %+v (%v), want %+v", out, err, want)
	}
	if _, err := Decode("ms", []byte(`{"client_id":1}`)); err == nil || !strings.Contains(err.Error(), "ms") {
		t.Errorf("bad settings: got %v, want an error naming the provider", err)
	}
	if v := NewView(in, true, "https://cb"); v.ClientSecret != "" || v.Name != "ms" || !v.ClientSecretSet {
		t.Errorf("view %+v: want the name, no secret, secret set", v)
	}
}

// An MCP provider is its server URL (and optionally a pre-registered
// client); errors name the field.
func TestValidateMCP(t *testing.T) {
	for _, c := range []Config{
		{Name: "notes", Type: TypeMCP, ServerURL: "https://mcp.example.com/mcp"},
		{Name: "notes", Type: TypeMCP, ServerURL: "https://mcp.example.com/mcp", ClientID: "pre", ClientSecret: "s", Scopes: []string{"files:read"}},
		{Name: "notes", Type: TypeMCP, ServerURL: "https://mcp.example.com/mcp", Callback: CallbackOwn},
	} {
		if err := c.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v, want nil", c, err)
		}
	}
	for want, c := range map[string]Config{
		"server_url is required":   {Name: "a", Type: TypeMCP},
		"server_url must be":       {Name: "a", Type: TypeMCP, ServerURL: "mcp.example.com"},
		"server_url must have no":  {Name: "a", Type: TypeMCP, ServerURL: "https://u:p@mcp.example.com/mcp"},
		"token_url: type mcp":      {Name: "a", Type: TypeMCP, ServerURL: "https://m.example/mcp", TokenURL: "https://m.example/t"},
		"issuer: type mcp":         {Name: "a", Type: TypeMCP, ServerURL: "https://m.example/mcp", Issuer: "https://m.example"},
		"client_secret needs":      {Name: "a", Type: TypeMCP, ServerURL: "https://m.example/mcp", ClientSecret: "s"},
		"callback: type mcp":       {Name: "a", Type: TypeMCP, ServerURL: "https://m.example/mcp", Callback: CallbackShared},
		`server_url is only for`:   {Name: "a", Type: TypeOIDC, Issuer: "https://x", ClientID: "c", ServerURL: "https://m.example/mcp"},
		`server_url is only for t`: {Name: "a", Template: "google", ClientID: "c", ServerURL: "https://m.example/mcp"},
	} {
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate(%+v) = %v, want an error saying %q", c, err, want)
		}
	}
	// What the broker sets when it opens a provider is never stored.
	b, err := Config{Name: "a", Type: TypeMCP, ServerURL: "https://m.example/mcp", ClientMetadataURL: "https://b/doc",
		Registration: &Registration{ClientID: "dyn", ClientSecret: "s3cret"}}.Encode()
	if err != nil || strings.Contains(string(b), "s3cret") || strings.Contains(string(b), "https://b/doc") || strings.Contains(string(b), "dyn") {
		t.Errorf("encoded %s (%v): want no registration and no metadata URL", b, err)
	}
}
