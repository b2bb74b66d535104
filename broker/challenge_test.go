package broker_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Every 401 carries a WWW-Authenticate challenge (RFC 7235 §3.1, RFC 6749
// §5.2), whatever credentials the client sent and whichever route
// authenticates it.
func TestEvery401CarriesAChallenge(t *testing.T) {
	e := newEnv(t)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "ch", "token_paths": []string{"/ch-extra/token"}})
	id, _ := e.client("ch", map[string]any{"grant_types": []string{"client_credentials", "connection", "token_exchange"}})
	routes := []struct{ method, path string }{
		{"POST", "/ch/oauth2/token"},
		{"GET", "/ch/oauth2/token"},
		{"POST", "/ch-extra/token"},
		{"POST", "/ch/oauth2/revoke"},
		{"GET", "/ch/oauth2/revoke"},
		{"POST", "/ch/oauth2/introspect"},
		{"POST", "/ch/oauth2/provider/authorize"},
		{"GET", "/ch/oauth2/provider/authorize"},
		{"GET", "/ch/oauth2/connections"},
		{"POST", "/ch/oauth2/connect/link"},
	}
	creds := []struct {
		name  string
		body  url.Values
		basic string // raw Authorization header
	}{
		{"no credentials", url.Values{}, ""},
		{"client_id only", url.Values{"client_id": {id}}, ""},
		{"wrong secret in body", url.Values{"client_id": {id}, "client_secret": {"wrong"}}, ""},
		{"unknown client in body", url.Values{"client_id": {"nobody"}, "client_secret": {"x"}}, ""},
		{"wrong secret with Basic", url.Values{}, "Basic " + basic(id, "wrong")},
		{"malformed Basic", url.Values{}, "Basic !!!"},
	}
	for _, r := range routes {
		for _, cr := range creds {
			t.Run(r.method+" "+r.path+" "+cr.name, func(t *testing.T) {
				body := url.Values{
					"grant_type": {"client_credentials"}, "client_user_identity": {"u1"}, "token": {"x"},
					"subject_token": {"x"}, "subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"},
				}
				for k, v := range cr.body {
					body[k] = v
				}
				req, _ := http.NewRequest(r.method, e.URL+r.path, strings.NewReader(body.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if cr.basic != "" {
					req.Header.Set("Authorization", cr.basic)
				}
				a := e.do(req)
				if a.Status != 401 || a.str("error") != "invalid_client" {
					t.Fatalf("got %d %.200s, want 401 invalid_client", a.Status, a.Raw)
				}
				if got := a.Header.Get("WWW-Authenticate"); got != `Basic realm="ch"` {
					t.Errorf("WWW-Authenticate: got %q, want %q", got, `Basic realm="ch"`)
				}
			})
		}
	}
	// The token exchange grant authenticates like every grant.
	a := e.form("POST", "/ch/oauth2/token", url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "client_id": {id}, "client_secret": {"wrong"},
		"subject_token": {"x"}, "subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"}, "resource": {"p"},
	}, "", "")
	if a.Status != 401 || a.Header.Get("WWW-Authenticate") != `Basic realm="ch"` {
		t.Errorf("token exchange with a wrong secret: got %d (WWW-Authenticate %q), want 401 with the Basic challenge", a.Status, a.Header.Get("WWW-Authenticate"))
	}
	// The admin API keeps its Bearer challenge.
	req, _ := http.NewRequest("GET", e.URL+"/admin/v1/apis", nil)
	if a := e.do(req); a.Status != 401 || a.Header.Get("WWW-Authenticate") != `Bearer realm="admin"` {
		t.Errorf("admin without a token: got %d (WWW-Authenticate %q), want 401 with the Bearer challenge", a.Status, a.Header.Get("WWW-Authenticate"))
	}
}

func basic(id, secret string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(id, secret)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}
