package mcp

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/providers"
)

const redirect = "http://127.0.0.1:9/acme/oauth2/provider/callback/notes"

func open(t *testing.T, f *fakeServer, cfg providers.Config, now func() time.Time) *Provider {
	t.Helper()
	cfg.Type, cfg.ServerURL = providers.TypeMCP, f.URL+"/mcp"
	p, err := New(context.Background(), Config{Config: cfg, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The spec's order of preference: a pre-registered client, a client ID
// metadata document when the server supports them (and the broker can
// serve one), else RFC 7591 registration; with none, a reason.
func TestRegistrationOrder(t *testing.T) {
	const cimd = "https://broker.example/acme/oauth2/provider/client-metadata/notes"
	for _, tc := range []struct {
		name        string
		clientID    string
		metadataURL string
		as          func(string) string
		wantKind    string
		wantDCR     int
		wantErr     error
	}{
		{"pre-registered", "admin-client", cimd, nil, providers.RegistrationPreRegistered, 0, nil},
		{"metadata document", "", cimd, nil, providers.RegistrationMetadataDocument, 0, nil},
		{"metadata document on loopback http", "", "http://127.0.0.1:8080/acme/oauth2/provider/client-metadata/notes", nil, providers.RegistrationMetadataDocument, 0, nil},
		{"plain http elsewhere: dynamic", "", "http://broker.example/acme/oauth2/provider/client-metadata/notes", nil, providers.RegistrationDynamic, 1, nil},
		{"unsupported: dynamic", "", cimd, func(s string) string {
			return strings.Replace(s, `"client_id_metadata_document_supported":true`, `"client_id_metadata_document_supported":false`, 1)
		}, providers.RegistrationDynamic, 1, nil},
		{"neither", "", cimd, func(s string) string {
			s = strings.Replace(s, `"client_id_metadata_document_supported":true`, `"client_id_metadata_document_supported":false`, 1)
			return strings.Replace(s, `"registration_endpoint":"{base}/as/register",`, "", 1)
		}, "", 0, ErrNoRegistration},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := wellBehaved(t)
			if tc.as != nil {
				f.doc("/.well-known/oauth-authorization-server/as", tc.as(asDoc), "")
			}
			p := open(t, f, providers.Config{ClientID: tc.clientID, ClientMetadataURL: tc.metadataURL}, nil)
			reg, needed := p.Registration(redirect, time.Minute)
			if needed != (tc.clientID == "") {
				t.Fatalf("needed %t for client id %q", needed, tc.clientID)
			}
			if !needed {
				if reg.Kind != tc.wantKind || reg.ClientID != tc.clientID || reg.Issuer != f.URL+"/as" {
					t.Errorf("registration %+v", reg)
				}
				return
			}
			got, err := p.Register(context.Background(), redirect)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Register: %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if got.Kind != tc.wantKind || len(f.registrations) != tc.wantDCR || got.Issuer != f.URL+"/as" || got.Resource != f.URL+"/mcp" || got.RedirectURI != redirect {
				t.Errorf("registration %+v after %d registration requests", got, len(f.registrations))
			}
			if tc.wantKind == providers.RegistrationMetadataDocument && got.ClientID != tc.metadataURL {
				t.Errorf("client_id %q, want the document's URL", got.ClientID)
			}
		})
	}
}

// The RFC 7591 request names the broker's callback and asks for a
// confidential client when the server offers one; the answer's secret
// and expiry are kept.
func TestDynamicRegistrationRequest(t *testing.T) {
	f := wellBehaved(t)
	f.doc("/.well-known/oauth-authorization-server/as", strings.Replace(asDoc, `"client_id_metadata_document_supported":true`, `"client_id_metadata_document_supported":false`, 1), "")
	f.registered = `{"client_id":"dyn-{n}","client_secret":"s3cret","client_id_issued_at":1782907200,"client_secret_expires_at":1782910800}`
	got, err := open(t, f, providers.Config{}, nil).Register(context.Background(), redirect)
	if err != nil {
		t.Fatal(err)
	}
	body := f.registrations[0]
	if uris, _ := body["redirect_uris"].([]any); len(uris) != 1 || uris[0] != redirect || body["token_endpoint_auth_method"] != "client_secret_basic" || body["client_name"] != ClientName {
		t.Errorf("registration request %v", body)
	}
	if got.ClientID != "dyn-1" || got.ClientSecret != "s3cret" || got.TokenEndpointAuthMethod != "client_secret_basic" ||
		!got.ExpiresAt.Equal(time.Unix(1782910800, 0)) || !got.IssuedAt.Equal(time.Unix(1782907200, 0)) {
		t.Errorf("registration %+v", got)
	}
}

// A stored registration is used while it fits: renewed when its secret
// expires within the lead, or when it was made for another redirect
// URI, resource or kind the server no longer supports (another
// authorization server is refused: TestAuthorizationServerChangeRefused).
func TestRegistrationRenewal(t *testing.T) {
	f := wellBehaved(t)
	clk := newClock()
	reg := providers.Registration{Kind: providers.RegistrationDynamic, Issuer: f.URL + "/as", Resource: f.URL + "/mcp",
		RedirectURI: redirect, ClientID: "dyn-1", ClientSecret: "s", TokenEndpointAuthMethod: "client_secret_basic",
		ExpiresAt: clk.Now().Add(10 * time.Minute)}
	p := open(t, f, providers.Config{Registration: &reg}, clk.Now)
	if _, needed := p.Registration(redirect, 5*time.Minute); needed {
		t.Fatal("a registration 10 minutes from expiry needs renewal with a 5-minute lead")
	}
	if _, needed := p.Registration(redirect+"x", 5*time.Minute); !needed {
		t.Error("a registration for another redirect URI was kept")
	}
	clk.Add(6 * time.Minute)
	if _, needed := p.Registration(redirect, 5*time.Minute); !needed {
		t.Error("a registration 4 minutes from expiry was kept with a 5-minute lead")
	}
	for name, change := range map[string]func(*providers.Registration){
		"other resource": func(r *providers.Registration) { r.Resource = f.URL + "/other" },
		"metadata document no longer at this URL": func(r *providers.Registration) {
			r.Kind, r.ClientID = providers.RegistrationMetadataDocument, "https://old.example/doc"
		},
	} {
		r := reg
		r.ExpiresAt = time.Time{}
		change(&r)
		if _, needed := open(t, f, providers.Config{Registration: &r}, clk.Now).Registration(redirect, 0); !needed {
			t.Errorf("%s: the stored registration was used", name)
		}
	}
}

// Every flow request carries the resource (RFC 8707); a public client
// sends its client_id and no secret; the callback's iss is checked
// (RFC 9207) since the server advertises it; revocation goes to the
// discovered endpoint.
func TestFlowSendsResource(t *testing.T) {
	f := wellBehaved(t)
	var forms []url.Values
	tokenSrv := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if _, _, basic := r.BasicAuth(); basic {
			t.Errorf("%s: a public client sent HTTP Basic", r.URL.Path)
		}
		forms = append(forms, r.PostForm)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"at","token_type":"Bearer","expires_in":3600,"refresh_token":"rt"}`))
	})
	mux := http.NewServeMux()
	mux.Handle("/", f.Config.Handler)
	mux.Handle("/as/token", tokenSrv)
	mux.Handle("/as/revoke", tokenSrv)
	f.Config.Handler = mux
	cimd := "https://broker.example/acme/oauth2/provider/client-metadata/notes"
	reg := providers.Registration{Kind: providers.RegistrationMetadataDocument, Issuer: f.URL + "/as", Resource: f.URL + "/mcp",
		RedirectURI: redirect, ClientID: cimd, TokenEndpointAuthMethod: "none"}
	p := open(t, f, providers.Config{Registration: &reg, ClientMetadataURL: cimd}, nil)
	au, _ := url.Parse(p.AuthCodeURL(providers.AuthRequest{State: "st", Verifier: strings.Repeat("v", 43), RedirectURL: redirect}))
	q := au.Query()
	if q.Get("resource") != f.URL+"/mcp" || q.Get("client_id") != cimd || q.Get("scope") != "mcp:tools" || q.Get("code_challenge_method") != "S256" {
		t.Errorf("authorization URL %s", au)
	}
	if got := p.DefaultScopes(); strings.Join(got, " ") != "mcp:tools" {
		t.Errorf("DefaultScopes: got %q, want the metadata's [mcp:tools], recorded as requested", got)
	}
	ctx := context.Background()
	ts, err := p.Exchange(ctx, "code", providers.AuthRequest{Verifier: strings.Repeat("v", 43), RedirectURL: redirect})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Refresh(ctx, ts); err != nil {
		t.Fatal(err)
	}
	if err := p.Revoke(ctx, ts); err != nil {
		t.Fatal(err)
	}
	if len(forms) != 3 {
		t.Fatalf("%d token-endpoint calls", len(forms))
	}
	for i, form := range forms[:2] {
		if form.Get("resource") != f.URL+"/mcp" || form.Get("client_id") != cimd || form.Has("client_secret") {
			t.Errorf("call %d: form %v", i, form)
		}
	}
	if forms[2].Get("token") != "rt" || forms[2].Get("client_id") != cimd {
		t.Errorf("revocation form %v", forms[2])
	}
	if err := p.CheckCallback(url.Values{"code": {"c"}, "state": {"st"}}); err == nil {
		t.Error("a callback without iss was accepted")
	}
	if err := p.CheckCallback(url.Values{"code": {"c"}, "iss": {f.URL + "/as"}}); err != nil {
		t.Errorf("the issuer's callback: %v", err)
	}
}

// Discovery carries no credential through a redirect to another host.
func TestDiscoveryFollowsNoForeignRedirect(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the other host was called: %s", r.URL)
	}))
	defer other.Close()
	f := newFakeServer(t)
	mux := http.NewServeMux()
	mux.Handle("/", f.Config.Handler)
	mux.HandleFunc("/.well-known/oauth-protected-resource/mcp", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/prm", http.StatusFound)
	})
	f.Config.Handler = mux
	if _, err := NewDiscoverer(nil, nil).Discover(context.Background(), f.URL+"/mcp"); err == nil {
		t.Fatal("discovery through a redirect to another host succeeded")
	}
}

// An iss in the callback is compared with the issuer even when the
// authorization server does not advertise it (RFC 9207 §2.4: a client
// MUST compare a present iss; MCP authorization spec 2026-07-28); its
// absence is then accepted.
func TestCallbackIssComparedWhenPresent(t *testing.T) {
	f := wellBehaved(t)
	f.doc("/.well-known/oauth-authorization-server/as", strings.Replace(asDoc, `"authorization_response_iss_parameter_supported":true,`, "", 1), "")
	p := open(t, f, providers.Config{ClientID: "pre"}, nil)
	if err := p.CheckCallback(url.Values{"code": {"c"}, "iss": {"https://attacker.example"}}); !errors.Is(err, providers.ErrUpstream) {
		t.Errorf("a callback naming another issuer: %v, want refused", err)
	}
	if err := p.CheckCallback(url.Values{"code": {"c"}, "iss": {f.URL + "/as", f.URL + "/as"}}); err == nil {
		t.Error("a callback with two iss was accepted")
	}
	for _, q := range []url.Values{{"code": {"c"}}, {"code": {"c"}, "iss": {f.URL + "/as"}}} {
		if err := p.CheckCallback(q); err != nil {
			t.Errorf("callback %v: %v", q, err)
		}
	}
}

// When the MCP server's metadata starts naming another authorization
// server, the broker refuses it rather than send the client's secret or
// its users' refresh tokens there, or register there silently; a new
// server_url or client_id is a new client and is not refused.
func TestAuthorizationServerChangeRefused(t *testing.T) {
	f := wellBehaved(t)
	movedFrom := func(kind, clientID string) *providers.Registration {
		return &providers.Registration{Kind: kind, Issuer: "https://old-as.example", Resource: f.URL + "/mcp",
			RedirectURI: redirect, ClientID: clientID, ClientSecret: "old-secret"}
	}
	for _, tc := range []struct {
		name    string
		cfg     providers.Config
		refused bool
	}{
		{"dynamic", providers.Config{Registration: movedFrom(providers.RegistrationDynamic, "dyn-1")}, true},
		{"pre-registered", providers.Config{ClientID: "pre", ClientSecret: "pre-secret", Registration: movedFrom(providers.RegistrationPreRegistered, "pre")}, true},
		{"pre-registered, another client now", providers.Config{ClientID: "pre2", ClientSecret: "s", Registration: movedFrom(providers.RegistrationPreRegistered, "pre")}, false},
		{"another server", providers.Config{Registration: &providers.Registration{Kind: providers.RegistrationDynamic,
			Issuer: "https://old-as.example", Resource: "https://old.example/mcp", ClientID: "dyn-1"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Type, cfg.ServerURL = providers.TypeMCP, f.URL+"/mcp"
			_, err := New(context.Background(), Config{Config: cfg})
			var ue *providers.UnusableError
			if got := errors.As(err, &ue); got != tc.refused || (!tc.refused && err != nil) {
				t.Fatalf("New: %v, want refused %t", err, tc.refused)
			}
			if tc.refused && (!strings.Contains(ue.Reason, "https://old-as.example") || strings.Contains(ue.Reason, "secret\"")) {
				t.Errorf("reason %q", ue.Reason)
			}
		})
	}
}

// An RFC 7591 answer that registered other redirect URIs than the
// broker's callback (RFC 7591 §3.2.1 lets a server change them) is
// refused; one that repeats them, or omits them, is kept.
func TestDynamicRegistrationRedirectURIsChecked(t *testing.T) {
	for answer, ok := range map[string]bool{
		`{"client_id":"dyn","redirect_uris":["` + redirect + `"]}`: true,
		`{"client_id":"dyn"}`: true,
		`{"client_id":"dyn","redirect_uris":["https://attacker.example/cb"]}`:                    false,
		`{"client_id":"dyn","redirect_uris":["` + redirect + `","https://attacker.example/cb"]}`: false,
		`{"client_id":"dyn","redirect_uris":[]}`:                                                 false,
	} {
		f := wellBehaved(t)
		f.doc("/.well-known/oauth-authorization-server/as", strings.Replace(asDoc, `"client_id_metadata_document_supported":true`, `"client_id_metadata_document_supported":false`, 1), "")
		f.registered = answer
		_, err := open(t, f, providers.Config{}, nil).Register(context.Background(), redirect)
		if (err == nil) != ok || (err != nil && (!errors.Is(err, providers.ErrUpstream) || strings.Contains(err.Error(), "attacker"))) {
			t.Errorf("answer %s: %v, want accepted %t (and no upstream value in the error)", answer, err, ok)
		}
	}
}
