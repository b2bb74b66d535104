package broker_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/broker"
	"github.com/oauth2broker/oauth2broker/broker/seal"
	"github.com/oauth2broker/oauth2broker/broker/secret"
	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/storage"
	"github.com/oauth2broker/oauth2broker/storage/bbolt"
)

// After an encryption-key rotation (new key primary, old key kept), the
// signing keys, provider and webhook secrets and connection token sets are
// sealed again under the new key and a client's secret hash is made again
// on first use, so that the old key can then be dropped.
func TestEncryptionKeyRotationRehashesClientSecrets(t *testing.T) {
	db, err := bbolt.Open(bbolt.Config{Path: filepath.Join(t.TempDir(), "broker.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	start := func(ring *seal.Keyring) *env {
		ts := httptest.NewUnstartedServer(nil)
		ts.Start()
		srv, err := broker.New(context.Background(), broker.Config{Catalog: broker.BuiltinCatalog(t), Store: db, Keyring: ring, PublicURL: ts.URL, AdminToken: adminToken,
			GCInterval: -1, Outbound: broker.DevOutbound(), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		ts.Config.Handler = srv
		t.Cleanup(func() { ts.Close(); srv.Close() })
		return &env{t: t, URL: ts.URL, Srv: srv, Store: db, Ring: ring}
	}
	k1, _ := seal.GenerateKey()
	k2, _ := seal.GenerateKey()
	ring1, _ := seal.NewKeyring(k1)
	e := start(ring1)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "r"})
	id, sec := e.client("r", map[string]any{"grant_types": []string{"client_credentials"}})
	idle, idleSec := e.client("r", map[string]any{"grant_types": []string{"client_credentials"}})
	app, appSec := e.client("r", map[string]any{"grant_types": []string{"connection"}, "webhook_url": "https://app.example/hook"})
	e.mustAdmin(200, "PUT", "/apis/r/providers/up", map[string]any{"type": "oauth2", "auth_url": "https://up.example/auth",
		"token_url": "https://up.example/token", "client_id": "x", "client_secret": "upstream-secret"})
	if err := e.Srv.ImportConnection(t.Context(), "r", app, "u1", "up", &providers.TokenSet{
		AccessToken: "upstream-access", RefreshToken: "upstream-refresh", Expiry: time.Now().Add(time.Hour),
	}); err != nil {
		t.Fatal(err)
	}
	registration, _ := ring1.Seal([]byte(`{"registration":{"kind":"dynamic","client_id":"dyn","client_secret":"s"}}`), seal.ProviderRegistration.AD("r", "up"))
	if _, err := db.UpdateProvider(t.Context(), "r", "up", func(p storage.Provider) (storage.Provider, error) {
		p.SealedRegistration = registration
		return p, nil
	}); err != nil {
		t.Fatal(err)
	}
	connTok := url.Values{"client_user_identity": {"u1"}}
	cc := url.Values{"grant_type": {"client_credentials"}}
	if a := e.form("POST", "/r/oauth2/token", cc, id, sec); a.Status != 200 {
		t.Fatalf("token under the first key: %d %s", a.Status, a.Raw)
	}

	ring2, _ := seal.NewKeyring(k2, k1)
	e = start(ring2)
	if a := e.form("POST", "/r/oauth2/token", cc, id, sec); a.Status != 200 {
		t.Fatalf("token after the rotation, old key kept: %d %s", a.Status, a.Raw)
	}
	if a := e.form("POST", "/r/oauth2/token", connTok, app, appSec); a.Status != 200 {
		t.Fatalf("connection token after the rotation, old key kept: %d %s", a.Status, a.Raw)
	}
	if _, err := e.Srv.Reseal(t.Context()); err != nil { // also run at start, in the background
		t.Fatal(err)
	}
	if res, err := e.Srv.Reseal(t.Context()); err != nil || res != (broker.ResealResult{}) {
		t.Errorf("a second Reseal: %+v, %v; want nothing left to do", res, err)
	}
	p, _ := db.GetProvider(t.Context(), "r", "up")
	clients, _ := db.ListClients(t.Context(), "r")
	hooks := 0
	for _, c := range clients {
		if len(c.SealedWebhookSecret) > 0 {
			hooks++
			if ring2.NeedsReseal(c.SealedWebhookSecret) {
				t.Error("a webhook secret is still sealed under the old key after Reseal")
			}
		}
	}
	if ring2.NeedsReseal(p.SealedRegistration) || len(p.SealedRegistration) == 0 {
		t.Error("after Reseal: the provider's registration is still sealed under the old key")
	}
	if ring2.NeedsReseal(p.SealedClientSecret) || hooks != 1 {
		t.Errorf("after Reseal: provider secret under the old key %v, webhook secrets %d", ring2.NeedsReseal(p.SealedClientSecret), hooks)
	}
	conns, _ := db.ListConnections(t.Context(), "r", storage.ConnectionFilter{})
	if len(conns) != 1 || ring2.NeedsReseal(conns[0].SealedTokens) {
		t.Errorf("after Reseal: %d connections, want one sealed under the new key", len(conns))
	}
	keys, _ := db.ListSigningKeys(t.Context(), "r")
	for _, k := range keys {
		if ring2.NeedsReseal(k.SealedPrivateKey) {
			t.Errorf("signing key %s still sealed under the old key after Reseal", k.ID)
		}
	}
	e.Srv.Close() // waits for the background rehashes
	for _, cl := range []string{id, app} {
		c, err := db.GetClient(t.Context(), "r", cl)
		if err != nil || secret.ClientSecretNeedsRehash(ring2, c.SecretHash) {
			t.Fatalf("the used client %s's hash was not made again under the new key (%v)", cl, err)
		}
	}

	ring3, _ := seal.NewKeyring(k2)
	e = start(ring3)
	if a := e.form("POST", "/r/oauth2/token", cc, id, sec); a.Status != 200 {
		t.Errorf("token after the old key was dropped: %d %s", a.Status, a.Raw)
	}
	if a := e.form("POST", "/r/oauth2/token", connTok, app, appSec); a.Status != 200 || a.str("access_token") != "upstream-access" {
		t.Errorf("connection token after the old key was dropped: %d %s", a.Status, a.Raw)
	}
	// A client unused during the rotation needs its secret rotated.
	if a := e.form("POST", "/r/oauth2/token", cc, idle, idleSec); a.Status != 401 {
		t.Errorf("a client unused while both keys were in the ring: %d %s, want 401", a.Status, a.Raw)
	}
}
