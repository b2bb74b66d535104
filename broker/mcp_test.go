package broker_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/oauth2broker/oauth2broker/examples/demomcp"
)

// startDemoMCP serves an MCP server and its authorization server
// (examples/demomcp, on the official Go SDK) on loopback.
func startDemoMCP(t *testing.T, cfg demomcp.Config) *demomcp.Demo {
	t.Helper()
	return startSlowDemoMCP(t, cfg, 0)
}

// startSlowDemoMCP is startDemoMCP with each RFC 7591 registration
// taking registerDelay, as one over a real network does.
func startSlowDemoMCP(t *testing.T, cfg demomcp.Config, registerDelay time.Duration) *demomcp.Demo {
	t.Helper()
	var h http.Handler = http.NotFoundHandler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/as/register" {
			time.Sleep(registerDelay)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	cfg.BaseURL = srv.URL
	d, err := demomcp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h = d.Handler
	return d
}

// mcpEnv is a broker with API acme, an MCP provider "notes" for d and a
// client allowed connections and the proxy.
type mcpEnv struct {
	*env
	d          *demomcp.Demo
	id, secret string
}

func newMCPEnv(t *testing.T, e *env, d *demomcp.Demo, provider map[string]any) *mcpEnv {
	t.Helper()
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "acme"})
	if provider == nil {
		provider = map[string]any{"type": "mcp", "server_url": d.Resource}
	}
	e.mustAdmin(200, "PUT", "/apis/acme/providers/notes", provider)
	id, secret := e.client("acme", map[string]any{"name": "agent", "grant_types": []string{"connection", "proxy"}})
	return &mcpEnv{env: e, d: d, id: id, secret: secret}
}

// connect runs authorize → the demo authorization server (which logs in
// login_hint at once) → the broker's callback, and fails unless the
// broker shows its "Connected" page.
func (m *mcpEnv) connect(identity string, scope ...string) {
	m.t.Helper()
	a := m.form("POST", "/acme/oauth2/provider/authorize", url.Values{"client_user_identity": {identity}, "provider": {"notes"},
		"scope": {strings.Join(scope, " ")}}, m.id, m.secret)
	if a.Status != 200 {
		m.t.Fatalf("authorize: %d %s", a.Status, a.Raw)
	}
	u, _ := url.Parse(a.str("authorization_url"))
	q := u.Query()
	if q.Get("resource") != m.d.Resource {
		m.t.Errorf("authorization URL resource %q, want %q", q.Get("resource"), m.d.Resource)
	}
	q.Set("login_hint", identity)
	u.RawQuery = q.Encode()
	resp, err := http.Get(u.String()) // the demo answers 302 to the broker's callback at once
	if err != nil {
		m.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Connected") {
		m.t.Fatalf("callback: %d %s", resp.StatusCode, body)
	}
}

// session opens an MCP session through the broker's proxy as identity,
// with the official SDK's Streamable HTTP client.
func (m *mcpEnv) session(identity string) *mcp.ClientSession {
	m.t.Helper()
	hc := &http.Client{Transport: asIdentity{id: m.id, secret: m.secret, identity: identity}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := mcp.NewClient(&mcp.Implementation{Name: "agent", Version: "1"}, nil)
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: m.URL + "/acme/oauth2/proxy/notes", HTTPClient: hc, MaxRetries: -1},
		&mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		m.t.Fatalf("MCP session through the proxy: %v", err)
	}
	m.t.Cleanup(func() { cs.Close() })
	return cs
}

// whoami calls the demo's whoami tool and returns the subject.
func (m *mcpEnv) whoami(cs *mcp.ClientSession) string {
	m.t.Helper()
	return m.call(cs, "whoami", map[string]any{})["subject"]
}

// call calls a tool and returns its structured answer's strings.
func (m *mcpEnv) call(cs *mcp.ClientSession, tool string, args map[string]any) map[string]string {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil || res.IsError {
		m.t.Fatalf("%s: %v %+v", tool, err, res)
	}
	b, _ := json.Marshal(res.StructuredContent)
	out := map[string]string{}
	_ = json.Unmarshal(b, &out)
	return out
}

// asIdentity authenticates to the broker's proxy as a client, for one
// end user.
type asIdentity struct{ id, secret, identity string }

func (a asIdentity) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.SetBasicAuth(url.QueryEscape(a.id), url.QueryEscape(a.secret))
	r.Header.Set("X-Client-User-Identity", a.identity)
	return http.DefaultTransport.RoundTrip(r)
}

// An MCP provider configured by its URL alone: the broker discovers the
// authorization server, becomes its client (by the client ID metadata
// document it serves, or by RFC 7591 registration when the server has no
// such support), connects users with the resource on every request and
// the iss checked, and calls a tool as each user through the proxy.
func TestMCPProviderEndToEnd(t *testing.T) {
	for _, tc := range []struct {
		name           string
		cfg            demomcp.Config
		kind           string
		registrations  int
		documentFetchs bool
	}{
		{"client ID metadata document", demomcp.Config{}, "client_id_metadata_document", 0, true},
		{"dynamic registration", demomcp.Config{DisableCIMD: true}, "dynamic", 1, false},
		{"well-known discovery, no hint", demomcp.Config{DisableCIMD: true, OmitResourceMetadataHint: true}, "dynamic", 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMCPEnv(t, newEnv(t), startDemoMCP(t, tc.cfg), nil)
			m.connect("alice")
			// The admin saving the provider again keeps the registration.
			m.mustAdmin(200, "PUT", "/apis/acme/providers/notes", map[string]any{"type": "mcp", "server_url": m.d.Resource})
			m.connect("bob")
			conns := m.form("GET", "/acme/oauth2/connections", url.Values{"client_user_identity": {"alice"}}, m.id, m.secret)
			if list, _ := conns.Body["connections"].([]any); len(list) != 1 {
				t.Fatalf("connections of alice: %s", conns.Raw)
			}
			if got := m.whoami(m.session("alice")); got != "alice" {
				t.Errorf("whoami through the proxy as alice: %q", got)
			}
			if got := m.whoami(m.session("bob")); got != "bob" {
				t.Errorf("whoami through the proxy as bob: %q", got)
			}
			st := m.d.Stats()
			if st.Registrations != tc.registrations || (st.MetadataDocumentFetches > 0) != tc.documentFetchs || st.CodeExchanges != 2 {
				t.Errorf("demo stats %+v: want %d registrations, document fetched %t, 2 code exchanges", st, tc.registrations, tc.documentFetchs)
			}
			v := m.mustAdmin(200, "GET", "/apis/acme/providers/notes", nil)
			disc, _ := v.Body["discovered"].(map[string]any)
			if disc["registration"] != tc.kind || disc["issuer"] != m.d.Issuer || disc["resource"] != m.d.Resource {
				t.Errorf("view's discovered %v, want %s at %s", disc, tc.kind, m.d.Issuer)
			}
			if strings.Contains(v.Raw, "secret\":\"") || strings.Contains(m.Logs.String(), "client_secret=") {
				t.Errorf("a secret is shown: %s", v.Raw)
			}
			rv := m.form("POST", "/acme/oauth2/revoke", url.Values{"client_user_identity": {"alice"}, "provider": {"notes"}}, m.id, m.secret)
			if rv.Status != 200 || rv.str("upstream_revocation") != "revoked" || m.d.Stats().Revocations == 0 {
				t.Errorf("revoke: %d %s, demo revocations %d", rv.Status, rv.Raw, m.d.Stats().Revocations)
			}
		})
	}
}

// The broker serves its client ID metadata document for MCP providers
// only: client_id is its own URL, the redirect URI the provider's
// callback, and no secret.
func TestMCPClientMetadataDocument(t *testing.T) {
	m := newMCPEnv(t, newEnv(t), startDemoMCP(t, demomcp.Config{}), nil)
	a := m.do(mustReq("GET", m.URL+"/acme/oauth2/provider/client-metadata/notes"))
	view := m.mustAdmin(200, "GET", "/apis/acme/providers/notes", nil)
	uris, _ := a.Body["redirect_uris"].([]any)
	if a.Status != 200 || a.str("client_id") != m.URL+"/acme/oauth2/provider/client-metadata/notes" ||
		len(uris) != 1 || uris[0] != view.str("callback_url") || a.str("token_endpoint_auth_method") != "none" {
		t.Errorf("document: %d %s", a.Status, a.Raw)
	}
	m.mustAdmin(200, "PUT", "/apis/acme/providers/gh", map[string]any{"template": "github", "client_id": "c"})
	for _, p := range []string{"gh", "nosuch"} {
		if a := m.do(mustReq("GET", m.URL+"/acme/oauth2/provider/client-metadata/"+p)); a.Status != 404 {
			t.Errorf("document of %s: %d, want 404", p, a.Status)
		}
	}
}

// A dynamic registration whose secret expires is made again before it
// does, once; a pre-registered client is used as it is.
func TestMCPRegistrationRenewedAndPreRegistered(t *testing.T) {
	clk := newClock() // shared by the broker and the demo
	d := startDemoMCP(t, demomcp.Config{DisableCIMD: true, ClientSecretTTL: 20 * time.Minute, Now: clk.now})
	m := newMCPEnv(t, newEnvOpts(t, adminToken, clk.now), d, nil)
	m.connect("alice")
	clk.add(10 * time.Minute)
	m.connect("alice")
	if n := d.Stats().Registrations; n != 1 {
		t.Fatalf("%d registrations 10 minutes before expiry, want 1", n)
	}
	clk.add(6 * time.Minute) // 4 minutes before expiry: within the 5-minute lead
	m.connect("alice")
	if n := d.Stats().Registrations; n != 2 {
		t.Fatalf("%d registrations 4 minutes before expiry, want 2 (renewed)", n)
	}
	if got := m.whoami(m.session("alice")); got != "alice" {
		t.Errorf("whoami after renewal: %q", got)
	}
}

// An app may ask for the scopes the MCP server advertises (and no
// other) without configuring them; an expired token is refreshed with
// the resource, which the server requires.
func TestMCPAdvertisedScopesAndRefresh(t *testing.T) {
	clk := newClock() // shared by the broker and the demo
	d := startDemoMCP(t, demomcp.Config{Now: clk.now})
	m := newMCPEnv(t, newEnvOpts(t, adminToken, clk.now), d, nil)
	a := m.form("POST", "/acme/oauth2/provider/authorize", url.Values{"client_user_identity": {"dave"}, "provider": {"notes"},
		"scope": {"mcp:tools mcp:root"}}, m.id, m.secret)
	if a.Status != 400 || a.str("error") != "invalid_scope" {
		t.Errorf("authorize with a scope the server does not advertise: %d %s", a.Status, a.Raw)
	}
	m.connect("dave", "mcp:tools", "mcp:admin")
	if got := m.call(m.session("dave"), "admin_echo", map[string]any{"message": "hi"}); got["echo"] != "hi" || got["subject"] != "dave" {
		t.Errorf("admin_echo with the admin scope: %v", got)
	}
	clk.add(2 * time.Hour)
	if got := m.whoami(m.session("dave")); got != "dave" || d.Stats().Refreshes != 1 {
		t.Errorf("whoami after expiry: %q, demo refreshes %d, want 1", got, d.Stats().Refreshes)
	}
}

// A provider's allowed_scopes bound what an app may ask for at an MCP
// server too: a scope the server advertises but the admin did not allow
// is refused (README, RFC 9700 §2.3 row: upstream scopes limited to the
// provider's scopes and allowed_scopes).
func TestMCPAllowedScopesBoundAdvertised(t *testing.T) {
	d := startDemoMCP(t, demomcp.Config{})
	m := newMCPEnv(t, newEnv(t), d, map[string]any{"type": "mcp", "server_url": d.Resource, "allowed_scopes": []string{demomcp.ToolsScope}})
	ask := func(scope string) answer {
		return m.form("POST", "/acme/oauth2/provider/authorize", url.Values{"client_user_identity": {"erin"}, "provider": {"notes"},
			"scope": {scope}}, m.id, m.secret)
	}
	if a := ask(demomcp.ToolsScope + " " + demomcp.AdminScope); a.Status != 400 || a.str("error") != "invalid_scope" {
		t.Errorf("authorize with an advertised scope outside allowed_scopes: %d %s", a.Status, a.Raw)
	}
	if a := ask(demomcp.ToolsScope); a.Status != 200 {
		t.Errorf("authorize with an allowed scope: %d %s", a.Status, a.Raw)
	}
}

// A pre-registered client is used as it is: no registration, no
// metadata document, its secret sent by HTTP Basic.
func TestMCPPreRegistered(t *testing.T) {
	e := newEnv(t)
	callback := e.URL + "/acme/oauth2/provider/callback/notes"
	d := startDemoMCP(t, demomcp.Config{Clients: []demomcp.Client{{ID: "pre", Secret: "pre-secret", RedirectURIs: []string{callback}}}})
	m := newMCPEnv(t, e, d, map[string]any{"type": "mcp", "server_url": d.Resource, "client_id": "pre", "client_secret": "pre-secret"})
	m.connect("carol")
	if got := m.whoami(m.session("carol")); got != "carol" {
		t.Errorf("whoami: %q", got)
	}
	if st := d.Stats(); st.Registrations != 0 || st.MetadataDocumentFetches != 0 {
		t.Errorf("demo stats %+v: want no registration and no document", st)
	}
	v := m.mustAdmin(200, "GET", "/apis/acme/providers/notes", nil)
	if disc, _ := v.Body["discovered"].(map[string]any); disc["registration"] != "pre_registered" || disc["client_id"] != "pre" || v.Body["callback_url"] != callback {
		t.Errorf("view %s", v.Raw)
	}
}

// A PUT of an MCP provider is checked without contacting the server; a
// bad one is a 400 naming the field.
func TestMCPProviderPutChecked(t *testing.T) {
	e := newEnv(t)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "acme"})
	for want, body := range map[string]map[string]any{
		"server_url is required": {"type": "mcp"},
		"token_url":              {"type": "mcp", "server_url": "https://mcp.example.com/mcp", "token_url": "https://mcp.example.com/token"},
		"server_url: https":      {"type": "mcp", "server_url": "http://mcp.example.com/mcp"},
		"client_secret needs":    {"type": "mcp", "server_url": "https://mcp.example.com/mcp", "client_secret": "s"},
	} {
		a := e.admin("PUT", "/apis/acme/providers/notes", body)
		if a.Status != 400 || a.str("error") != "invalid_request" || !strings.Contains(a.str("error_description"), want) {
			t.Errorf("PUT %v: %d %s, want 400 naming %q", body, a.Status, a.Raw, want)
		}
	}
	v := e.mustAdmin(200, "PUT", "/apis/acme/providers/notes", map[string]any{"type": "mcp", "server_url": "https://mcp.example.com/mcp"})
	if v.str("server_url") != "https://mcp.example.com/mcp" || v.Body["discovered"] != nil {
		t.Errorf("view before any use: %s", v.Raw)
	}
}

// An MCP server whose authorization server does not advertise PKCE S256
// is refused at authorize, and the app is told why (MCP authorization
// spec, "Authorization Code Protection"). The fake's documents follow
// RFC 9728 §3 and RFC 8414 §3.
func TestMCPServerWithoutPKCERefused(t *testing.T) {
	var base string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/mcp":
			w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="`+base+`/.well-known/oauth-protected-resource/mcp"`)
			w.WriteHeader(http.StatusUnauthorized)
		case "/.well-known/oauth-protected-resource/mcp":
			_, _ = io.WriteString(w, `{"resource":"`+base+`/mcp","authorization_servers":["`+base+`"]}`)
		case "/.well-known/oauth-authorization-server":
			_, _ = io.WriteString(w, `{"issuer":"`+base+`","authorization_endpoint":"`+base+`/authorize","token_endpoint":"`+base+`/token","registration_endpoint":"`+base+`/register"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer up.Close()
	base = up.URL
	e := newEnv(t)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "acme"})
	e.mustAdmin(200, "PUT", "/apis/acme/providers/notes", map[string]any{"type": "mcp", "server_url": base + "/mcp"})
	id, secret := e.client("acme", map[string]any{"grant_types": []string{"proxy"}})
	a := e.form("POST", "/acme/oauth2/provider/authorize", url.Values{"client_user_identity": {"alice"}}, id, secret)
	if a.Status != http.StatusBadGateway || a.str("error") != "upstream_error" || !strings.Contains(a.str("error_description"), "PKCE S256") {
		t.Errorf("authorize: %d %s, want 502 upstream_error naming PKCE S256", a.Status, a.Raw)
	}
}

// When an MCP server's protected resource metadata starts naming another
// authorization server, the broker refuses it (502 saying so) rather
// than send its pre-registered client's secret, or its users' refresh
// tokens, to the new one's token endpoint (RFC 9700 §4.4). The fake's
// documents follow RFC 9728 §3 and RFC 8414 §3.
func TestMCPAuthorizationServerChangeRefused(t *testing.T) {
	var base string
	var as atomic.Value
	as.Store("a")
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch p := r.URL.Path; {
		case p == "/mcp":
			w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="`+base+`/.well-known/oauth-protected-resource/mcp"`)
			w.WriteHeader(http.StatusUnauthorized)
		case p == "/.well-known/oauth-protected-resource/mcp":
			_, _ = io.WriteString(w, `{"resource":"`+base+`/mcp","authorization_servers":["`+base+"/"+as.Load().(string)+`"]}`)
		case strings.HasPrefix(p, "/.well-known/oauth-authorization-server/"):
			iss := base + "/" + strings.TrimPrefix(p, "/.well-known/oauth-authorization-server/")
			_, _ = io.WriteString(w, `{"issuer":"`+iss+`","authorization_endpoint":"`+iss+`/authorize","token_endpoint":"`+iss+`/token",`+
				`"code_challenge_methods_supported":["S256"]}`)
		default:
			t.Errorf("the broker called %s %s", r.Method, p)
			http.NotFound(w, r)
		}
	}))
	defer up.Close()
	base = up.URL
	clk := newClock()
	e := newEnvOpts(t, adminToken, clk.now)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "acme"})
	e.mustAdmin(200, "PUT", "/apis/acme/providers/notes", map[string]any{"type": "mcp", "server_url": base + "/mcp",
		"client_id": "pre", "client_secret": "pre-secret"})
	id, secret := e.client("acme", map[string]any{"grant_types": []string{"connection"}})
	authorize := func() answer {
		return e.form("POST", "/acme/oauth2/provider/authorize", url.Values{"client_user_identity": {"alice"}}, id, secret)
	}
	if a := authorize(); a.Status != 200 || !strings.HasPrefix(a.str("authorization_url"), base+"/a/authorize?") {
		t.Fatalf("authorize at the first authorization server: %d %s", a.Status, a.Raw)
	}
	as.Store("b")
	clk.add(2 * time.Hour) // the metadata's freshness (1 hour without max-age) is over
	a := authorize()
	if a.Status != http.StatusBadGateway || a.str("error") != "upstream_error" || !strings.Contains(a.str("error_description"), base+"/a,") ||
		strings.Contains(a.Raw, "pre-secret") {
		t.Errorf("authorize after the server named another authorization server: %d %s, want 502 naming the change", a.Status, a.Raw)
	}
}
