package demomcp_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/examples/demomcp"
)

// serveDocument serves a client ID metadata document at /client.json; doc
// gets the document's own URL.
func serveDocument(t *testing.T, doc func(id string) map[string]any) string {
	t.Helper()
	var id string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/client.json" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc(id))
	}))
	t.Cleanup(srv.Close)
	id = srv.URL + "/client.json"
	return id
}

func TestClientIDMetadataDocument(t *testing.T) {
	d := start(t, demomcp.Config{})
	id := serveDocument(t, func(id string) map[string]any {
		return map[string]any{"client_id": id, "client_name": "broker", "redirect_uris": []string{testRedirect},
			"token_endpoint_auth_method": "none", "grant_types": []string{"authorization_code", "refresh_token"}}
	})
	tok := login(t, d, id, "")
	if d.Stats().MetadataDocumentFetches != 1 {
		t.Errorf("fetches: got %d, want 1", d.Stats().MetadataDocumentFetches)
	}
	cs, err := connect(t, d.Resource, bearer(tok.AccessToken))
	if err != nil {
		t.Fatal(err)
	}
	var who demomcp.WhoamiOutput
	if err := callTool(t, cs, demomcp.ToolWhoami, map[string]any{}, &who); err != nil || who.ClientID != id {
		t.Errorf("whoami: got %+v, %v, want client %s", who, err, id)
	}
	// Refresh as the same public client (client_id in the body).
	st, body := postForm(t, d.TokenURL, "", "", url.Values{"grant_type": {"refresh_token"}, "client_id": {id},
		"refresh_token": {tok.RefreshToken}, "resource": {d.Resource}})
	if st != 200 || body["access_token"] == "" {
		t.Errorf("refresh by a metadata document client: got %d %v", st, body)
	}
}

func TestClientIDMetadataDocumentRefusals(t *testing.T) {
	good := func(id string) map[string]any {
		return map[string]any{"client_id": id, "redirect_uris": []string{testRedirect}}
	}
	cases := []struct {
		name, want string
		cfg        demomcp.Config
		doc        func(string) map[string]any
	}{
		{"turned off", "invalid_client", demomcp.Config{DisableCIMD: true}, good},
		{"client_id differs", "invalid_client", demomcp.Config{}, func(string) map[string]any {
			return map[string]any{"client_id": "http://127.0.0.1:1/other.json", "redirect_uris": []string{testRedirect}}
		}},
		{"redirect_uri not listed", "invalid_request", demomcp.Config{}, func(id string) map[string]any {
			return map[string]any{"client_id": id, "redirect_uris": []string{"http://127.0.0.1:9/elsewhere"}}
		}},
		{"secret in document", "invalid_client", demomcp.Config{}, func(id string) map[string]any {
			return map[string]any{"client_id": id, "redirect_uris": []string{testRedirect}, "token_endpoint_auth_method": "client_secret_basic"}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := start(t, tc.cfg)
			id := serveDocument(t, tc.doc)
			u := oauthConfig(d, id, "").AuthCodeURL("s", oauthChallenge(), resourceParam(d.Resource))
			st, body := do(t, mustGet(u))
			if st != http.StatusBadRequest || body["error"] != tc.want {
				t.Errorf("got %d %v, want 400 %s", st, body, tc.want)
			}
		})
	}
	_, as := do(t, mustGet(start(t, demomcp.Config{DisableCIMD: true}).AuthServerMetadataURL))
	if as["client_id_metadata_document_supported"] != false {
		t.Errorf("DisableCIMD: metadata says %v", as["client_id_metadata_document_supported"])
	}
}

// register posts an RFC 7591 registration request.
func register(t *testing.T, d *demomcp.Demo, meta map[string]any) (int, map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(meta)
	req, _ := http.NewRequest(http.MethodPost, d.RegistrationURL, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	return do(t, req)
}

func TestDynamicRegistration(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Now().Unix())
	d := start(t, demomcp.Config{ClientSecretTTL: time.Hour, Now: func() time.Time { return time.Unix(now.Load(), 0) }})
	st, reg := register(t, d, map[string]any{"redirect_uris": []string{testRedirect}, "client_name": "broker",
		"grant_types": []string{"authorization_code", "refresh_token"}})
	id, _ := reg["client_id"].(string)
	secret, _ := reg["client_secret"].(string)
	if st != http.StatusCreated || id == "" || secret == "" || reg["client_secret_expires_at"] != float64(now.Load()+3600) {
		t.Fatalf("register: got %d %v, want 201 with client_id, client_secret, client_secret_expires_at=now+1h", st, reg)
	}
	tok := login(t, d, id, secret)
	if d.Stats().Registrations != 1 || d.Stats().CodeExchanges != 1 {
		t.Errorf("stats: got %+v", d.Stats())
	}
	now.Add(3600)
	st, body := postForm(t, d.TokenURL, id, secret, url.Values{"grant_type": {"refresh_token"},
		"refresh_token": {tok.RefreshToken}, "resource": {d.Resource}})
	if st != http.StatusUnauthorized || body["error"] != "invalid_client" {
		t.Errorf("expired secret: got %d %v, want 401 invalid_client", st, body)
	}
	// A public registration gets no secret, and 0 is "never expires".
	st, reg = register(t, d, map[string]any{"redirect_uris": []string{testRedirect}, "token_endpoint_auth_method": "none"})
	if _, has := reg["client_secret"]; st != http.StatusCreated || has {
		t.Errorf("public registration: got %d %v, want 201 without a secret", st, reg)
	}
	if st, _ := register(t, d, map[string]any{"redirect_uris": []string{"http://example.com/cb"}}); st != 400 {
		t.Errorf("non-loopback http redirect URI: got %d, want 400", st)
	}
	never := start(t, demomcp.Config{})
	if _, reg := register(t, never, map[string]any{"redirect_uris": []string{testRedirect}}); reg["client_secret_expires_at"] != float64(0) {
		t.Errorf("no ClientSecretTTL: client_secret_expires_at got %v, want 0", reg["client_secret_expires_at"])
	}
}

func TestDynamicRegistrationOff(t *testing.T) {
	d := start(t, demomcp.Config{DisableDCR: true})
	_, as := do(t, mustGet(d.AuthServerMetadataURL))
	if _, has := as["registration_endpoint"]; has || d.RegistrationURL != "" {
		t.Errorf("DisableDCR: metadata %v, RegistrationURL %q", as, d.RegistrationURL)
	}
	req, _ := http.NewRequest(http.MethodPost, d.Issuer+"/register", bytes.NewReader([]byte(`{"redirect_uris":["`+testRedirect+`"]}`)))
	req.Header.Set("Content-Type", "application/json")
	if st, _ := do(t, req); st != http.StatusNotFound {
		t.Errorf("register when off: got %d, want 404", st)
	}
}

func TestRefreshRotatesAndRevocation(t *testing.T) {
	d := start(t, demomcp.Config{})
	tok := login(t, d, testClient, testSecret, demomcp.ToolsScope, demomcp.AdminScope)
	refresh := func(rt string, extra url.Values) (int, map[string]any) {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "resource": {d.Resource}}
		for k, v := range extra {
			form[k] = v
		}
		return postForm(t, d.TokenURL, testClient, testSecret, form)
	}
	if st, body := refresh(tok.RefreshToken, url.Values{"resource": {""}}); st != 400 || body["error"] != "invalid_target" {
		t.Errorf("refresh without resource: got %d %v, want 400 invalid_target", st, body)
	}
	if st, body := refresh(tok.RefreshToken, url.Values{"scope": {"mcp:tools"}}); st != 200 || body["scope"] != "mcp:tools" {
		t.Fatalf("narrowing refresh (the token survived the refused one): got %d %v", st, body)
	}
	if st, body := refresh(tok.RefreshToken, nil); st != 400 || body["error"] != "invalid_grant" {
		t.Errorf("refresh token reused: got %d %v, want 400 invalid_grant (rotation)", st, body)
	}
	tok2 := login(t, d, testClient, testSecret)
	if st, body := refresh(tok2.RefreshToken, url.Values{"scope": {"mcp:tools mcp:admin"}}); st != 400 || body["error"] != "invalid_scope" {
		t.Errorf("widening refresh: got %d %v, want 400 invalid_scope", st, body)
	}
	// Revoking the refresh token revokes the access tokens of its grant, not others'.
	if st, _ := postForm(t, d.RevocationURL, testClient, testSecret, url.Values{"token": {tok2.RefreshToken}}); st != 200 {
		t.Fatalf("revoke: got %d", st)
	}
	if resp := postMCP(t, d, tok2.AccessToken, initialize); resp.StatusCode != 401 {
		t.Errorf("access token of a revoked grant: got %d, want 401", resp.StatusCode)
	}
	if resp := postMCP(t, d, tok.AccessToken, initialize); resp.StatusCode != 200 {
		t.Errorf("access token of another grant: got %d, want 200", resp.StatusCode)
	}
	if st, _ := postForm(t, d.RevocationURL, testClient, testSecret, url.Values{"token": {"unknown"}}); st != 200 {
		t.Errorf("revoke an unknown token: got %d, want 200 (RFC 7009 §2.2)", st)
	}
}
