package connections

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/broker/connerr"
	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/broker/seal"
	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/providers/oauth"
	"github.com/oauth2broker/oauth2broker/providers/providertest"
	"github.com/oauth2broker/oauth2broker/storage"
	"github.com/oauth2broker/oauth2broker/storage/bbolt"
)

// issFixture runs a Manager against the providertest fake, opened as a
// generic OAuth 2.0 provider that advertises the RFC 9207 iss parameter.
func issFixture(t *testing.T, issuer string) (*Manager, *providertest.Fake, storage.API, storage.Client) {
	t.Helper()
	db, err := bbolt.Open(bbolt.Config{Path: filepath.Join(t.TempDir(), "c.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	key, _ := seal.GenerateKey()
	ring, _ := seal.NewKeyring(key)
	fake := providertest.NewFake(t)
	m, err := New(Config{
		Store: db, Keyring: ring, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Open: func(_ context.Context, cfg providers.Config) (providers.Provider, error) {
			cfg.AuthURL, cfg.TokenURL, cfg.ClientID, cfg.ClientSecret = fake.AuthURL, fake.TokenURL, fake.ClientID, fake.ClientSecret
			return oauth.New(oauth.Config{Config: cfg, Quirks: oauth.Quirks{CallbackIssuer: issuer}})
		},
		CallbackURL: func(api string) string { return "https://broker.example/" + api + "/oauth2/provider/callback" },
	})
	if err != nil {
		t.Fatal(err)
	}
	api := storage.API{Name: "a"}
	if err := db.CreateAPI(t.Context(), api); err != nil {
		t.Fatal(err)
	}
	p := stored(t, "a", providers.Config{Name: "up", Type: providers.TypeOAuth2, Callback: providers.CallbackOwn, Scopes: []string{"read"}})
	if err := db.CreateProvider(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	return m, fake, api, storage.Client{API: "a", ID: "app"}
}

// A provider advertising the iss parameter must name itself in the
// callback: a missing or other iss is refused before the code is used;
// the right one connects, with the redirect URI authorize sent.
func TestCallbackChecksIss(t *testing.T) {
	const issuer = "https://as.example"
	m, fake, api, cl := issFixture(t, issuer)
	ctx := t.Context()
	start := func() url.Values {
		a, err := m.Authorize(ctx, api, cl, AuthorizeRequest{Identity: "u1"})
		if err != nil {
			t.Fatal(err)
		}
		if got := mustQuery(t, a.URL).Get("redirect_uri"); got != "https://broker.example/a/oauth2/provider/callback/up" {
			t.Fatalf("redirect_uri: got %s, want the provider's own callback", got)
		}
		return fake.Authorize(t, a.URL).Query()
	}
	for name, iss := range map[string][]string{"missing": nil, "other": {"https://attacker.example"}} {
		q := start()
		if iss != nil {
			q["iss"] = iss
		}
		if res := m.CallbackFor(ctx, api, CallbackRequest{Provider: "up", Query: q}); res.Error != "invalid_request" {
			t.Errorf("%s iss: got error %q, want invalid_request", name, res.Error)
		}
	}
	if n := fake.ExchangeCount(); n != 0 {
		t.Fatalf("code exchanges after refused callbacks: got %d, want 0", n)
	}
	q := start()
	q.Set("iss", issuer)
	if res := m.CallbackFor(ctx, api, CallbackRequest{Provider: "up", Query: q}); res.Error != "" {
		t.Fatalf("the provider's own iss: got %s (%s), want success", res.Error, res.Description)
	}
	if n := fake.ExchangeCount(); n != 1 {
		t.Errorf("code exchanges: got %d, want 1", n)
	}
	for _, r := range fake.Requests() {
		if r.Endpoint == providertest.EndpointToken && r.Form.Get("redirect_uri") != "https://broker.example/a/oauth2/provider/callback/up" {
			t.Errorf("exchange redirect_uri: got %s, want the one authorize sent", r.Form.Get("redirect_uri"))
		}
	}
}

// A state is redeemed only at the callback path its authorization
// request named.
func TestCallbackRefusesAnotherProvidersPath(t *testing.T) {
	m, fake, api, cl := issFixture(t, "")
	ctx := t.Context()
	a, err := m.Authorize(ctx, api, cl, AuthorizeRequest{Identity: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	q := fake.Authorize(t, a.URL).Query()
	for _, via := range []string{"other", ""} {
		b, _ := m.Authorize(ctx, api, cl, AuthorizeRequest{Identity: "u1"})
		qb := fake.Authorize(t, b.URL).Query()
		if res := m.CallbackFor(ctx, api, CallbackRequest{Provider: via, Query: qb}); res.Error != "invalid_request" {
			t.Errorf("callback at %q: got error %q, want invalid_request", via, res.Error)
		}
	}
	if n := fake.ExchangeCount(); n != 0 {
		t.Fatalf("code exchanges: got %d, want 0", n)
	}
	if res := m.CallbackFor(ctx, api, CallbackRequest{Provider: "up", Query: q}); res.Error != "" {
		t.Errorf("at its own path: got %s (%s)", res.Error, res.Description)
	}
}

// Past MaxLiveStates live flows of one client and identity, authorize
// answers 429 with Retry-After until the first one expires; others are
// not affected, and expired states do not count.
func TestAuthorizeCapsLiveStates(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	for i := range MaxLiveStates {
		if _, err := f.m.Authorize(ctx, f.api, f.cl, AuthorizeRequest{Identity: "u1"}); err != nil {
			t.Fatalf("authorize %d: %v", i, err)
		}
		f.clk.add(time.Second)
	}
	_, err := f.m.Authorize(ctx, f.api, f.cl, AuthorizeRequest{Identity: "u1"})
	var e *protocol.Error
	if !errors.As(connerr.Answer(err), &e) || e.Status != 429 || e.RetryAfter != DefaultStateTTL-MaxLiveStates*time.Second {
		t.Fatalf("authorize past the cap: got %v (%+v), want 429 with Retry-After %v", err, e, DefaultStateTTL-MaxLiveStates*time.Second)
	}
	if _, err := f.m.Authorize(ctx, f.api, f.cl, AuthorizeRequest{Identity: "u2"}); err != nil {
		t.Errorf("another identity: got %v, want success", err)
	}
	f.clk.add(DefaultStateTTL - MaxLiveStates*time.Second)
	if _, err := f.m.Authorize(ctx, f.api, f.cl, AuthorizeRequest{Identity: "u1"}); err != nil {
		t.Errorf("once the first state expired: got %v, want success", err)
	}
}

func mustQuery(t *testing.T, s string) url.Values {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

// A pending token set that the app's Confirm drops is revoked upstream:
// an expired record, a wrong binding. None is stored.
func TestConfirmRevokesWhatItDrops(t *testing.T) {
	m, fake, api, cl := issFixture(t, "")
	ctx := t.Context()
	now := time.Now()
	m.now = func() time.Time { return now }
	_, err := m.store.UpdateProvider(ctx, "a", "up", func(p storage.Provider) (storage.Provider, error) {
		cfg, err := providers.Decode(p.Name, p.Config)
		cfg.RevocationURL = fake.RevocationURL
		p.Config = stored(t, p.API, cfg).Config
		return p, err
	})
	if err != nil {
		t.Fatal(err)
	}
	cl.ReturnURLs = []string{"https://app.example/back"}
	pending := func() string {
		a, err := m.Authorize(ctx, api, cl, AuthorizeRequest{Identity: "u1", ReturnURL: "https://app.example/back", Binding: "b"})
		if err != nil {
			t.Fatal(err)
		}
		if res := m.CallbackFor(ctx, api, CallbackRequest{Provider: "up", Query: fake.Authorize(t, a.URL).Query()}); !res.Pending {
			t.Fatalf("bound callback: got %+v, want pending", res)
		}
		return a.State
	}
	for name, confirm := range map[string]func(state string) error{
		"expired": func(st string) error {
			defer func(t0 time.Time) { now = t0 }(now)
			now = now.Add(PendingTTL)
			_, err := m.Confirm(ctx, api, cl.ID, st, "b")
			return err
		},
		"wrong binding": func(st string) error { _, err := m.Confirm(ctx, api, cl.ID, st, "x"); return err },
	} {
		before := fake.RevokeCount()
		if err := confirm(pending()); err == nil {
			t.Errorf("%s: got nil, want an error", name)
		}
		if n := fake.RevokeCount() - before; n != 1 {
			t.Errorf("%s: upstream revocations: got %d, want 1", name, n)
		}
	}
	if _, err := m.store.GetConnection(ctx, "a", ConnectionID(cl.ID, "u1", "up")); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("connection after refused confirms: got %v, want not found", err)
	}
}

// A pending record shares its flow's state: the callback URL loaded again
// (a reload, a provider delivering twice) is refused as a used state and
// leaves the pending tokens for the app's confirm.
func TestCallbackReloadKeepsPending(t *testing.T) {
	m, fake, api, cl := issFixture(t, "")
	ctx := t.Context()
	cl.ReturnURLs = []string{"https://app.example/back"}
	a, err := m.Authorize(ctx, api, cl, AuthorizeRequest{Identity: "u1", ReturnURL: "https://app.example/back", Binding: "b"})
	if err != nil {
		t.Fatal(err)
	}
	q := fake.Authorize(t, a.URL).Query()
	if res := m.CallbackFor(ctx, api, CallbackRequest{Provider: "up", Query: q}); !res.Pending {
		t.Fatalf("bound callback: got %+v, want pending", res)
	}
	if res := m.CallbackFor(ctx, api, CallbackRequest{Provider: "up", Query: q}); res.Error != "invalid_request" {
		t.Errorf("the callback again: got %+v, want invalid_request", res)
	}
	if _, err := m.Confirm(ctx, api, "other", a.State, "b"); !errors.Is(err, errNoPending) {
		t.Errorf("another client's confirm: got %v, want %v", err, errNoPending)
	}
	if _, err := m.Confirm(ctx, api, cl.ID, a.State, "b"); err != nil {
		t.Errorf("the app's confirm after the reload: got %v, want nil", err)
	}
}
