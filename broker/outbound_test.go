package broker_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/broker"
	"github.com/oauth2broker/oauth2broker/broker/seal"
	"github.com/oauth2broker/oauth2broker/outbound"
	"github.com/oauth2broker/oauth2broker/storage/bbolt"
)

// newEnvOutbound starts a broker as newEnv does, with the given outbound
// policy (the production default when nil).
func newEnvOutbound(t *testing.T, policy *outbound.Policy) *env {
	t.Helper()
	db, err := bbolt.Open(bbolt.Config{Path: filepath.Join(t.TempDir(), "broker.db")})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := seal.GenerateKey()
	ring, _ := seal.NewKeyring(key)
	logs := &syncBuffer{}
	ts := httptest.NewServer(nil)
	srv, err := broker.New(context.Background(), broker.Config{Catalog: broker.BuiltinCatalog(t),
		Store: db, Keyring: ring, PublicURL: ts.URL, AdminToken: adminToken, WebhookRetry: 20 * time.Millisecond,
		Outbound: policy, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv
	t.Cleanup(func() { ts.Close(); srv.Close(); db.Close() })
	return &env{t: t, URL: ts.URL, Srv: srv, Store: db, Ring: ring, Logs: logs}
}

// Provider and webhook URLs that the outbound policy would refuse are
// refused when saved, with a 400 naming the field: plain http anywhere in
// production, and to anything but loopback in dev.
func TestOutboundURLsCheckedWhenSaved(t *testing.T) {
	prod := newEnvOutbound(t, nil)
	dev := newEnvOutbound(t, broker.DevOutbound())
	for _, e := range []*env{prod, dev} {
		e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "fed"})
	}
	provider := func(field, value string) map[string]any {
		p := map[string]any{"type": "oauth2", "auth_url": "https://idp.example/auth", "token_url": "https://idp.example/token", "client_id": "c"}
		if field == "issuer" {
			p = map[string]any{"type": "oidc", "client_id": "c"}
		}
		p[field] = value
		return p
	}
	for _, tc := range []struct {
		field, value string
		prod, dev    int
	}{
		{"token_url", "https://idp.example/token", 200, 200},
		{"token_url", "http://idp.example/token", 400, 400},
		{"token_url", "http://127.0.0.1:9/token", 400, 200},
		{"auth_url", "http://idp.example/auth", 400, 400},
		{"revocation_url", "http://idp.example/revoke", 400, 400},
		{"userinfo_url", "http://idp.example/userinfo", 400, 400},
		{"issuer", "http://idp.example", 400, 400},
		{"issuer", "http://localhost:9", 400, 200},
	} {
		for _, run := range []struct {
			e    *env
			want int
		}{{prod, tc.prod}, {dev, tc.dev}} {
			a := run.e.admin("PUT", "/apis/fed/providers/p", provider(tc.field, tc.value))
			if a.Status != run.want || (run.want == 400 && !strings.Contains(a.str("error_description"), tc.field)) {
				t.Errorf("PUT provider %s=%s (dev %v): got %d %s, want %d naming the field", tc.field, tc.value, run.e == dev, a.Status, a.Raw, run.want)
			}
		}
	}
	for _, run := range []struct {
		e        *env
		hook     string
		want     int
		isDevEnv bool
	}{{prod, "http://hooks.example/h", 400, false}, {prod, "http://127.0.0.1:9/h", 400, false}, {prod, "https://hooks.example/h", 201, false},
		{dev, "http://hooks.example/h", 400, true}, {dev, "http://127.0.0.1:9/h", 201, true}} {
		a := run.e.admin("POST", "/apis/fed/clients", map[string]any{"grant_types": []string{"connection"}, "webhook_url": run.hook})
		if a.Status != run.want || (run.want == 400 && !strings.Contains(a.str("error_description"), "webhook_url")) {
			t.Errorf("client webhook_url %s (dev %v): got %d %s, want %d", run.hook, run.isDevEnv, a.Status, a.Raw, run.want)
		}
	}
}

// The deny list holds at call time, on the address a name resolves to:
// a webhook at http://localhost:… (allowed when saved) is never called
// when loopback is denied, and neither is an OIDC issuer there.
func TestOutboundDenyAtCallTime(t *testing.T) {
	var hits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer target.Close()
	byName := strings.Replace(target.URL, "127.0.0.1", "localhost", 1)
	deny, _ := outbound.ParseDeny("default,loopback")
	e := newEnvOutbound(t, &outbound.Policy{AllowHTTPLoopback: true, Deny: deny})
	id, sec := fedSetup(e, nil)
	e.mustAdmin(200, "PUT", "/apis/fed/providers/p", map[string]any{"type": "oidc", "issuer": byName, "client_id": "c"})
	a := e.form("POST", "/fed/oauth2/provider/authorize", url.Values{"client_user_identity": {"u1"}}, id, sec)
	if a.Status < 400 {
		t.Errorf("authorize with a denied issuer: got %d %s, want an error", a.Status, a.Raw)
	}
	hooked := e.mustAdmin(201, "POST", "/apis/fed/clients", map[string]any{"grant_types": []string{"connection"}, "webhook_url": byName + "/h"})
	storeEvent(t, e, hooked.str("client_id"), "0000000000001-aaaa", time.Now())
	waitFor(t, "a failed delivery", func() bool {
		evs, _ := e.Store.ListWebhookEvents(t.Context(), "fed")
		return len(evs) == 1 && evs[0].Attempts > 0
	})
	evs, _ := e.Store.ListWebhookEvents(t.Context(), "fed")
	if !strings.Contains(evs[0].LastError, "deny list") {
		t.Errorf("webhook last_error: got %q, want the deny list named", evs[0].LastError)
	}
	if hits.Load() != 0 {
		t.Errorf("the denied address was called %d times", hits.Load())
	}
}

// An OIDC provider whose JWKS URL answers a 5 MB error: the callback
// fails, and no log line quotes the body or grows with it.
func TestJWKSErrorBodyNotLogged(t *testing.T) {
	var iss string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			_ = json.NewEncoder(w).Encode(map[string]any{"issuer": iss, "authorization_endpoint": iss + "/auth",
				"token_endpoint": iss + "/token", "jwks_uri": iss + "/keys", "id_token_signing_alg_values_supported": []string{"RS256"}})
		case "/keys":
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, strings.Repeat("LEAKED-JWKS-BODY ", 5<<20/17))
		case "/token":
			enc := base64.RawURLEncoding.EncodeToString
			now := time.Now().Unix()
			claims, _ := json.Marshal(map[string]any{"iss": iss, "sub": "u", "aud": "c", "iat": now, "exp": now + 3600})
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer",
				"id_token": enc([]byte(`{"alg":"RS256","kid":"k"}`)) + "." + enc(claims) + "." + enc([]byte("sig"))})
		}
	}))
	defer up.Close()
	iss = up.URL
	e := newEnv(t)
	id, sec := fedSetup(e, nil)
	e.mustAdmin(200, "PUT", "/apis/fed/providers/p", map[string]any{"type": "oidc", "issuer": iss, "client_id": "c", "client_secret": "s"})
	a := e.form("POST", "/fed/oauth2/provider/authorize", url.Values{"client_user_identity": {"u1"}}, id, sec)
	if a.Status != 200 {
		t.Fatalf("authorize: got %d %s", a.Status, a.Raw)
	}
	resp, err := noRedirect.Get(e.URL + "/fed/oauth2/provider/callback/p?code=c&state=" + url.QueryEscape(a.str("state")))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(body), "LEAKED") {
		t.Error("the callback answer quotes the JWKS body")
	}
	logs := e.Logs.String()
	if !strings.Contains(logs, "signing keys") {
		t.Errorf("logs: want the failure described; got %.2000s", logs)
	}
	for _, line := range strings.Split(logs, "\n") {
		if len(line) > 2000 || strings.Contains(line, "LEAKED") {
			t.Errorf("a log line of %d bytes quotes the JWKS body: %.300s…", len(line), line)
		}
	}
}

// A failed delivery's recorded error does not quote the webhook URL,
// which can carry a secret (…/hooks/<token>).
func TestWebhookErrorHidesURL(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	e := newEnv(t)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "fed"})
	cl := e.mustAdmin(201, "POST", "/apis/fed/clients", map[string]any{"grant_types": []string{"connection"}, "webhook_url": closed + "/hooks/T0KEN-IN-PATH?k=T0KEN-IN-QUERY"})
	storeEvent(t, e, cl.str("client_id"), "0000000000001-aaaa", time.Now())
	waitFor(t, "a failed delivery", func() bool {
		evs, _ := e.Store.ListWebhookEvents(t.Context(), "fed")
		return len(evs) == 1 && evs[0].Attempts > 0
	})
	evs, _ := e.Store.ListWebhookEvents(t.Context(), "fed")
	if strings.Contains(evs[0].LastError, "T0KEN") || evs[0].LastError == "" {
		t.Errorf("last_error: got %q, want the failure without the URL", evs[0].LastError)
	}
}
