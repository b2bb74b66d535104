package broker_test

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// The RFC 8414 metadata is exactly this: true (no authorization endpoint,
// so no authorization_code or implicit grant, and the "none" response
// type) and accepted by strict validators (Authlib refuses an empty
// response_types_supported, and wants authorization_endpoint unless
// grant_types_supported rules both out).
func TestMetadataFields(t *testing.T) {
	e := newEnv(t)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "md"})
	a := e.do(mustReq("GET", e.URL+"/.well-known/oauth-authorization-server/md"))
	var got map[string]any
	if err := json.Unmarshal([]byte(a.Raw), &got); err != nil || a.Status != 200 {
		t.Fatalf("metadata: got %d %s", a.Status, a.Raw)
	}
	iss := e.URL + "/md"
	auth := []any{"client_secret_basic", "client_secret_post"}
	want := map[string]any{
		"issuer":                   iss,
		"token_endpoint":           iss + "/oauth2/token",
		"jwks_uri":                 iss + "/oauth2/jwks",
		"introspection_endpoint":   iss + "/oauth2/introspect",
		"revocation_endpoint":      iss + "/oauth2/revoke",
		"response_types_supported": []any{"none"},
		"grant_types_supported": []any{
			"client_credentials", "password", "refresh_token",
			"urn:ietf:params:oauth:grant-type:token-exchange", "urn:oauth2broker:grant-type:connection",
		},
		"token_endpoint_auth_methods_supported":         auth,
		"introspection_endpoint_auth_methods_supported": auth,
		"revocation_endpoint_auth_methods_supported":    auth,
		"access_token_signing_alg_values_supported":     []any{"ES256", "ES384", "RS256", "PS256", "EdDSA"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("metadata:\n got %v\nwant %v", got, want)
	}
	// Authlib's checks, as it makes them.
	if rt, _ := got["response_types_supported"].([]any); len(rt) == 0 {
		t.Errorf("response_types_supported must be a non-empty JSON array")
	}
	if _, ok := got["authorization_endpoint"]; !ok {
		for _, g := range got["grant_types_supported"].([]any) {
			if g == "authorization_code" || g == "implicit" {
				t.Errorf("grant_types_supported holds %v without an authorization_endpoint", g)
			}
		}
	}
}

// Every access-log line names the request id once.
func TestAccessLogNamesTheRequestIDOnce(t *testing.T) {
	e := newEnv(t)
	req := mustReq("GET", e.URL+"/healthz")
	req.Header.Set("X-Request-Id", "req-once-42")
	e.do(req)
	var line string
	for _, l := range strings.Split(e.Logs.String(), "\n") {
		if strings.Contains(l, "req-once-42") {
			line = l
		}
	}
	if n := len(regexp.MustCompile(`\brequest_id=`).FindAllString(line, -1)); n != 1 {
		t.Errorf("access log line %q: request_id appears %d times, want once", line, n)
	}
}
