package oidc_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/providers/oauth"
	"github.com/oauth2broker/oauth2broker/providers/oidc"
)

// discoveryServer serves a discovery document that does or does not
// advertise the RFC 9207 iss parameter.
func discoveryServer(t *testing.T, advertise bool) string {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		doc := map[string]any{
			"issuer": srv.URL, "authorization_endpoint": srv.URL + "/auth", "token_endpoint": srv.URL + "/token",
			"jwks_uri": srv.URL + "/jwks", "id_token_signing_alg_values_supported": []string{"RS256"},
		}
		if advertise {
			doc["authorization_response_iss_parameter_supported"] = true
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// An OP that advertises authorization_response_iss_parameter_supported
// must name itself in every callback: another issuer, or none, is refused.
func TestCallbackIssFromDiscovery(t *testing.T) {
	issuer := discoveryServer(t, true)
	p, err := oidc.New(t.Context(), oauth.Config{Config: providers.Config{Name: "op", Type: providers.TypeOIDC, Issuer: issuer, ClientID: "c"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.CheckCallback(url.Values{"code": {"x"}, "iss": {issuer}}); err != nil {
		t.Errorf("the OP's own iss: got %v, want nil", err)
	}
	for name, q := range map[string]url.Values{
		"other issuer": {"code": {"x"}, "iss": {"https://attacker.example"}},
		"missing iss":  {"code": {"x"}},
	} {
		if err := p.CheckCallback(q); !errors.Is(err, providers.ErrUpstream) {
			t.Errorf("%s: got %v, want %v", name, err, providers.ErrUpstream)
		}
	}
	quiet := discoveryServer(t, false)
	p, err = oidc.New(t.Context(), oauth.Config{Config: providers.Config{Name: "op", Type: providers.TypeOIDC, Issuer: quiet, ClientID: "c"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.CheckCallback(url.Values{"code": {"x"}}); err != nil {
		t.Errorf("an OP that does not advertise iss, callback without it: got %v, want nil", err)
	}
	// RFC 9207 §2.4: an iss that is present is compared all the same.
	if err := p.CheckCallback(url.Values{"code": {"x"}, "iss": {quiet}}); err != nil {
		t.Errorf("an OP that does not advertise iss, callback with its own: got %v, want nil", err)
	}
	if err := p.CheckCallback(url.Values{"code": {"x"}, "iss": {"https://attacker.example"}}); !errors.Is(err, providers.ErrUpstream) {
		t.Errorf("an OP that does not advertise iss, callback with another: got %v, want %v", err, providers.ErrUpstream)
	}
}
