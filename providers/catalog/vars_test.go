package catalog

import (
	"strings"
	"testing"

	"github.com/oauth2broker/oauth2broker/providers"
)

// Variables go into URLs as their kind allows: a host keeps its port, a
// URL its path; anything that would change a URL's shape is refused.
func TestVarKinds(t *testing.T) {
	e := &Entry{Name: "self", DisplayName: "Self-hosted", Docs: []string{"https://example.com/docs"}, Type: "oauth2",
		AuthURL: "https://{host}/oauth/authorize", TokenURL: "{instance}/oauth/token",
		Vars:       []Var{{Name: "host", Description: "host", Kind: "host"}, {Name: "instance", Description: "instance URL", Kind: "url"}, {Name: "tenant", Description: "tenant", Default: "common"}},
		AuthParams: map[string]string{"tenant": "{tenant}"},
	}
	if err := e.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	cfg := providers.Config{Name: "p", Template: "self", ClientID: "cid", Vars: map[string]string{"host": "git.example.com:8443", "instance": "https://example.my.site.com/sandbox/"}}
	oc, err := e.config(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if oc.AuthURL != "https://git.example.com:8443/oauth/authorize" || oc.TokenURL != "https://example.my.site.com/sandbox/oauth/token" || oc.AuthParams["tenant"] != "common" {
		t.Errorf("got auth_url %q, token_url %q, params %v; want the port, the path and the default", oc.AuthURL, oc.TokenURL, oc.AuthParams)
	}
	for _, tc := range []struct{ name, value string }{
		{"host", "evil.com/x"}, {"host", "a@b.com"}, {"host", "b.com?x=1"},
		{"instance", "http://example.com"}, {"instance", "https://example.com/?next=1"}, {"instance", "https://u:p@example.com"},
		{"tenant", "a/b"}, {"tenant", "a:1"},
	} {
		bad := cfg
		bad.Vars = map[string]string{"host": "h.example.com", "instance": "https://i.example.com"}
		bad.Vars[tc.name] = tc.value
		if _, err := e.config(bad); err == nil || !strings.Contains(err.Error(), "vars."+tc.name) {
			t.Errorf("vars.%s = %q: got %v, want an error naming vars.%s", tc.name, tc.value, err, tc.name)
		}
	}
}

// Contradicting settings of a template provider are refused by Check,
// naming the field.
func TestCheckContradictions(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		field string
		cfg   providers.Config
	}{
		{"quirks.refresh_tokens", providers.Config{Template: "github", Quirks: providers.Quirks{RefreshURL: "https://github.com/refresh"}}},
		{"quirks.token_params", providers.Config{Template: "github", Quirks: providers.Quirks{TokenParams: map[string]string{"t": "{tenant}"}}}},
		{"auth_style", providers.Config{Template: "bitbucket", AuthStyle: providers.AuthStyleBody}},
		{"quirks.token_auth", providers.Config{Template: "bitbucket", Quirks: providers.Quirks{TokenAuth: providers.AuthStyleBody}}},
		{"quirks.refresh_auth", providers.Config{Template: "bitbucket", Quirks: providers.Quirks{RefreshAuth: providers.AuthStyleBody}}},
		{"quirks.pkce", providers.Config{Template: "twitter", Quirks: providers.Quirks{PKCE: "unsupported"}}},
		{"quirks.metadata.on_refresh", providers.Config{Template: "github", Quirks: providers.Quirks{Metadata: &providers.Metadata{URL: "https://api.github.com/user", Keep: map[string]string{"login": "login"}, OnRefresh: true}}}},
	} {
		tc.cfg.Name, tc.cfg.ClientID = "p", "cid"
		if err := c.Check(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: Check = %v, want an error naming %s", tc.field, err, tc.field)
		}
	}
	e, _ := c.Get("github")
	if e.Token.Refresh != "none" {
		t.Fatalf("github entry refresh = %q, the test assumes none", e.Token.Refresh)
	}
}

// A text var (Basecamp's User-Agent naming the app and a contact) fills
// header values of the quirks and nothing else: a URL, a parameter or an
// undeclared use is refused, naming the field.
func TestTextVarsOnlyInHeaders(t *testing.T) {
	e := &Entry{Name: "ua", DisplayName: "UA", Docs: []string{"https://example.com/docs"}, Type: "oauth2",
		AuthURL: "https://example.com/auth", TokenURL: "https://example.com/token",
		Vars: []Var{{Name: "user_agent", Description: "app and contact", Kind: "text"}},
		QuirkDefaults: providers.Quirks{Metadata: &providers.Metadata{URL: "https://example.com/me",
			Headers: map[string]string{"User-Agent": "{user_agent}"}, Keep: map[string]string{"id": "id"}}},
	}
	if err := e.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	oc, err := e.config(providers.Config{Name: "p", Template: "ua", ClientID: "cid", Vars: map[string]string{"user_agent": "MyApp (ops@example.com)"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := oc.Config.WithVars().Quirks.Metadata.Headers["User-Agent"]; got != "MyApp (ops@example.com)" {
		t.Errorf("metadata User-Agent = %q, want the var's text", got)
	}
	if _, err := e.config(providers.Config{Name: "p", Template: "ua", ClientID: "cid", Vars: map[string]string{"user_agent": "a\r\nX-Evil: 1"}}); err == nil || !strings.Contains(err.Error(), "vars.user_agent") {
		t.Errorf("a text var with CR LF: got %v, want an error naming vars.user_agent", err)
	}
	for field, mutate := range map[string]func(*Entry){
		"token_url":             func(e *Entry) { e.TokenURL = "https://example.com/{user_agent}" },
		"quirks.token_params":   func(e *Entry) { e.QuirkDefaults.TokenParams = map[string]string{"ua": "{user_agent}"} },
		"quirks.metadata.url":   func(e *Entry) { e.QuirkDefaults.Metadata.URL = "https://example.com/{user_agent}" },
		"quirks.token_headers":  func(e *Entry) { e.QuirkDefaults.TokenHeaders = map[string]string{"X-Org": "{org}"} },
		"quirks.refresh_params": func(e *Entry) { e.QuirkDefaults.RefreshParams = map[string]string{"s": "{state}"} },
	} {
		bad := *e
		m := *e.QuirkDefaults.Metadata
		bad.QuirkDefaults.Metadata = &m
		mutate(&bad)
		if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: Validate = %v, want an error naming %s", field, err, field)
		}
	}
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	cfg := providers.Config{Name: "p", Template: "basecamp", ClientID: "cid", Vars: map[string]string{"user_agent": "MyApp (ops@example.com)"},
		AuthParams: map[string]string{"ua": "{user_agent}"}}
	if err := c.Check(cfg); err == nil || !strings.Contains(err.Error(), "auth_params") {
		t.Errorf("a configured auth param using a text var: Check = %v, want an error naming auth_params", err)
	}
}
