package broker_test

import (
	"strings"
	"testing"
)

// TestProviderPutRefusesContradictingQuirks: a provider description
// whose quirks contradict each other or its template is refused at PUT
// with a 400 invalid_request whose description names the field to fix
// (issue 13, "Bad input").
func TestProviderPutRefusesContradictingQuirks(t *testing.T) {
	e := newEnv(t)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "x"})
	custom := func(quirks map[string]any) map[string]any {
		return map[string]any{"type": "oauth2", "auth_url": "https://up.example/auth", "token_url": "https://up.example/token",
			"client_id": "c", "quirks": quirks}
	}
	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"custom: refresh_url without refresh tokens", custom(map[string]any{"refresh_tokens": "none", "refresh_url": "https://up.example/refresh"}), "quirks.refresh_url"},
		{"custom: refresh_params without refresh tokens", custom(map[string]any{"refresh_tokens": "none", "refresh_params": map[string]string{"a": "b"}}), "refresh_params"},
		{"custom: metadata on refresh without refresh tokens", custom(map[string]any{"refresh_tokens": "none",
			"metadata": map[string]any{"url": "https://up.example/me", "keep": map[string]string{"id": "id"}, "on_refresh": true}}), "quirks.metadata.on_refresh"},
		{"template: refresh_url without refresh tokens", map[string]any{"template": "acuity", "client_id": "c",
			"quirks": map[string]any{"refresh_url": "https://acuityscheduling.com/oauth2/refresh"}}, "quirks.refresh_url"},
		{"custom: undeclared var in token_params", custom(map[string]any{"token_params": map[string]string{"tenant": "{tenant}"}}), "quirks.token_params"},
		{"custom: undeclared var in refresh_url", custom(map[string]any{"refresh_url": "https://{region}.up.example/refresh"}), "quirks.refresh_url"},
		{"custom: undeclared var in token_url", map[string]any{"type": "oauth2", "auth_url": "https://up.example/auth",
			"token_url": "https://{host}/token", "client_id": "c"}, "token_url"},
		{"template: undeclared var in refresh_url", map[string]any{"template": "airtable", "client_id": "c",
			"quirks": map[string]any{"refresh_url": "https://{region}.airtable.com/refresh"}}, "quirks.refresh_url"},
		{"template: undeclared var given", map[string]any{"template": "airtable", "client_id": "c",
			"vars": map[string]string{"region": "eu"}}, "region"},
		{"template: body auth where Basic is needed", map[string]any{"template": "airtable", "client_id": "c", "auth_style": "body"}, "auth_style"},
		{"template: body token auth where Basic is needed", map[string]any{"template": "airtable", "client_id": "c",
			"quirks": map[string]any{"token_auth": "body"}}, "quirks.token_auth"},
		{"template: body refresh auth where Basic is needed", map[string]any{"template": "airtable", "client_id": "c",
			"quirks": map[string]any{"refresh_auth": "body"}}, "quirks.refresh_auth"},
		{"template: json body and body auth where Basic is needed", map[string]any{"template": "airtable", "client_id": "c", "auth_style": "body",
			"quirks": map[string]any{"request_body": "json"}}, "auth_style"},
		{"template: PKCE off where required", map[string]any{"template": "airtable", "client_id": "c",
			"quirks": map[string]any{"pkce": "unsupported"}}, "quirks.pkce"},
		{"custom: unknown quirk value", custom(map[string]any{"request_body": "xml"}), "quirks.request_body"},
		{"custom: state in refresh_params", custom(map[string]any{"refresh_params": map[string]string{"s": "{state}"}}), "quirks.refresh_params"},
		{"custom: state in a header", custom(map[string]any{"token_headers": map[string]string{"X-S": "{state}"}}), "quirks.token_headers"},
		{"custom: a var the broker fills", map[string]any{"type": "oauth2", "auth_url": "https://up.example/auth", "token_url": "https://up.example/token",
			"client_id": "c", "vars": map[string]string{"redirect_uri": "https://x.example"}}, "vars.redirect_uri"},
		{"custom: long-lived refresh without refresh tokens", custom(map[string]any{"refresh_tokens": "none", "long_lived": map[string]any{
			"exchange": map[string]any{"url": "https://up.example/long", "params": map[string]string{"t": "{access_token}"}},
			"refresh":  map[string]any{"url": "https://up.example/long", "params": map[string]string{"t": "{access_token}"}}}}), "quirks.long_lived.refresh"},
		{"custom: revocation rename on a bearer call", custom(map[string]any{"revocation": map[string]any{"kind": "bearer", "rename": map[string]string{"token": "t"}}}), "quirks.revocation.rename"},
		{"custom: a kept field picking the revocation host", map[string]any{"type": "oauth2", "auth_url": "https://up.example/auth", "token_url": "https://up.example/token",
			"client_id": "c", "revocation_url": "https://{x_user_id}.up.example/revoke", "quirks": map[string]any{"keep": []string{"x_user_id"}}}, "revocation_url"},
		{"template: a text var in an auth param", map[string]any{"template": "basecamp", "client_id": "c",
			"vars": map[string]string{"user_agent": "MyApp (ops@example.com)"}, "auth_params": map[string]string{"ua": "{user_agent}"}}, "auth_params"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := e.admin("PUT", "/apis/x/providers/p", tc.body)
			if a.Status != 400 || a.str("error") != "invalid_request" {
				t.Fatalf("got %d %s, want 400 invalid_request", a.Status, a.Raw)
			}
			if d := a.str("error_description"); !strings.Contains(d, tc.field) {
				t.Errorf("error_description %q: want it to name %s", d, tc.field)
			}
		})
	}
	// The same template settings without the contradiction are accepted.
	e.mustAdmin(200, "PUT", "/apis/x/providers/p", map[string]any{"template": "airtable", "client_id": "c", "quirks": map[string]any{"token_auth": "header"}})
	e.mustAdmin(200, "PUT", "/apis/x/providers/q", map[string]any{"template": "acuity", "client_id": "c"})
	e.mustAdmin(200, "PUT", "/apis/x/providers/r", custom(map[string]any{"token_params": map[string]string{"state": "{state}"},
		"refresh_params": map[string]string{"redirect_uri": "{redirect_uri}"}, "callback_params": []string{"context"}, "request_body": "query"}))
	e.mustAdmin(200, "PUT", "/apis/x/providers/s", map[string]any{"type": "oauth2", "auth_url": "https://up.example/auth", "token_url": "https://up.example/token",
		"client_id": "c", "revocation_url": "https://up.example/v3/users/{x_user_id}",
		"quirks": map[string]any{"keep": []string{"x_user_id"}, "revocation": map[string]any{"kind": "bearer", "method": "DELETE"}}})
}
