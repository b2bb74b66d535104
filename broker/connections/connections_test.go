package connections

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/broker/connerr"
	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/broker/seal"
	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/storage"
	"github.com/oauth2broker/oauth2broker/storage/bbolt"
)

// fakeProvider is a hand-written upstream: it counts calls and answers as
// its fields say.
type fakeProvider struct {
	mu         sync.Mutex
	refreshErr error
	delay      time.Duration
	lifetime   time.Duration
	rotate     bool
	refreshes  atomic.Int32
	revokes    atomic.Int32
	revokeErr  error
	now        func() time.Time
	// hook, when set, runs at the start of each refresh with its number.
	hook func(n int32)
	// gate, when set, holds each refresh until it is closed, or fails
	// it as unavailable after 10 s.
	gate       chan struct{}
	lastAuth   providers.AuthRequest
	lastCode   string
	lastVerify string
	// lastExchange is the AuthRequest of the last code exchange;
	// lastRefreshed the token set the last refresh started from.
	lastExchange  providers.AuthRequest
	lastRefreshed providers.TokenSet
}

func (f *fakeProvider) AuthCodeURL(r providers.AuthRequest) string {
	f.mu.Lock()
	f.lastAuth = r
	f.mu.Unlock()
	return "https://up.example/auth?state=" + url.QueryEscape(r.State)
}

func (f *fakeProvider) Exchange(_ context.Context, code string, r providers.AuthRequest) (*providers.TokenSet, error) {
	f.mu.Lock()
	f.lastCode, f.lastVerify, f.lastExchange = code, r.Verifier, r
	f.mu.Unlock()
	return &providers.TokenSet{AccessToken: "at-0", RefreshToken: "rt-0", TokenType: "Bearer", Expiry: f.now().Add(f.lifetime), RedirectURI: r.RedirectURL}, nil
}

func (f *fakeProvider) Refresh(_ context.Context, ts *providers.TokenSet) (*providers.TokenSet, error) {
	n := f.refreshes.Add(1)
	if f.hook != nil {
		f.hook(n)
	}
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-time.After(10 * time.Second):
			return nil, fmt.Errorf("fake: gate never opened: %w", providers.ErrUnavailable)
		}
	}
	time.Sleep(f.delay)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastRefreshed = *ts
	if f.refreshErr != nil {
		return nil, f.refreshErr
	}
	out := &providers.TokenSet{AccessToken: fmt.Sprintf("at-%d", n), RefreshToken: ts.RefreshToken, TokenType: "Bearer", Expiry: f.now().Add(f.lifetime)}
	if f.rotate {
		out.RefreshToken = fmt.Sprintf("rt-%d", n)
	}
	return out, nil
}

func (f *fakeProvider) Revoke(context.Context, *providers.TokenSet) error {
	f.revokes.Add(1)
	return f.revokeErr
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func (c *clock) set(t time.Time)     { c.mu.Lock(); c.t = t; c.mu.Unlock() }

type fixture struct {
	m     *Manager
	up    *fakeProvider
	clk   *clock
	store storage.Storage
	api   storage.API
	cl    storage.Client
}

func newFixture(t *testing.T) *fixture { return newFixtureTB(t) }

func newFixtureTB(t testing.TB) *fixture {
	t.Helper()
	db, err := bbolt.Open(bbolt.Config{Path: filepath.Join(t.TempDir(), "c.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	key, _ := seal.GenerateKey()
	ring, _ := seal.NewKeyring(key)
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	up := &fakeProvider{lifetime: time.Hour, now: clk.now}
	m, err := New(Config{
		Store: db, Keyring: ring, Now: clk.now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Open:        func(context.Context, providers.Config) (providers.Provider, error) { return up, nil },
		CallbackURL: func(api string) string { return "https://broker.example/" + api + "/oauth2/provider/callback" },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	api := storage.API{Name: "a"}
	if err := db.CreateAPI(ctx, api); err != nil {
		t.Fatal(err)
	}
	cl := storage.Client{API: "a", ID: "app", ReturnURLs: []string{"https://app.example/back"}}
	for _, p := range []storage.Provider{stored(t, "a", providers.Config{Name: "up", Type: providers.TypeOIDC, Scopes: []string{"openid", "email"}})} {
		if err := db.CreateProvider(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	return &fixture{m: m, up: up, clk: clk, store: db, api: api, cl: cl}
}

// connect runs authorize and callback for identity.
func (f *fixture) connect(t testing.TB, identity string) {
	t.Helper()
	ctx := context.Background()
	a, err := f.m.Authorize(ctx, f.api, f.cl, AuthorizeRequest{Identity: identity, ReturnURL: "https://app.example/back"})
	if err != nil {
		t.Fatal(err)
	}
	res := f.m.Callback(ctx, f.api, url.Values{"state": {a.State}, "code": {"code-1"}})
	if res.Error != "" {
		t.Fatalf("callback: %s %s", res.Error, res.Description)
	}
}

func TestAuthorizeBindsStatePKCEAndNonce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a, err := f.m.Authorize(ctx, f.api, f.cl, AuthorizeRequest{Identity: "u1", ReturnURL: "https://app.example/back"})
	if err != nil {
		t.Fatal(err)
	}
	if a.State == "" || !strings.Contains(a.URL, url.QueryEscape(a.State)) || !a.ExpiresAt.Equal(f.clk.now().Add(DefaultStateTTL)) {
		t.Fatalf("got %+v, want a state in the URL expiring in %v", a, DefaultStateTTL)
	}
	got := f.up.lastAuth
	if len(got.Verifier) != 43 || got.Nonce == "" || got.RedirectURL != "https://broker.example/a/oauth2/provider/callback" || strings.Join(got.Scopes, " ") != "openid email" {
		t.Errorf("auth request: got %+v, want a 43-char verifier, a nonce, the callback URL and the provider's scopes", got)
	}
	for name, r := range map[string]AuthorizeRequest{
		"foreign return url": {Identity: "u1", ReturnURL: "https://evil.example/"},
		"no identity":        {},
		"control chars":      {Identity: "a\x00b"},
		"huge identity":      {Identity: strings.Repeat("x", 513)},
		"unknown provider":   {Identity: "u1", Provider: "nope"},
	} {
		if _, err := f.m.Authorize(ctx, f.api, f.cl, r); !errors.Is(connerr.Answer(err), protocol.ErrInvalidRequest) {
			t.Errorf("%s: got %v, want invalid_request", name, err)
		}
	}
}

func TestCallbackStateIsOneTimeAndExpires(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a, _ := f.m.Authorize(ctx, f.api, f.cl, AuthorizeRequest{Identity: "u1", ReturnURL: "https://app.example/back"})
	res := f.m.Callback(ctx, f.api, url.Values{"state": {a.State}, "code": {"c"}})
	if res.Error != "" || res.Redirect() != "https://app.example/back?provider=up&state="+a.State+"&status=connected" {
		t.Fatalf("callback: got %+v → %s", res, res.Redirect())
	}
	if f.up.lastVerify != f.up.lastAuth.Verifier {
		t.Errorf("exchange sent verifier %q, want the one of the authorize step", f.up.lastVerify)
	}
	if again := f.m.Callback(ctx, f.api, url.Values{"state": {a.State}, "code": {"c"}}); again.Error != "invalid_request" || again.ReturnURL != "" {
		t.Errorf("replayed state: got %+v, want invalid_request with no return url", again)
	}
	b, _ := f.m.Authorize(ctx, f.api, f.cl, AuthorizeRequest{Identity: "u2", ReturnURL: "https://app.example/back"})
	f.clk.add(DefaultStateTTL + time.Second)
	if late := f.m.Callback(ctx, f.api, url.Values{"state": {b.State}, "code": {"c"}}); late.Error != "invalid_request" || !strings.Contains(late.Redirect(), "status=error") {
		t.Errorf("expired state: got %+v, want an error sent to the return url", late)
	}
	c, _ := f.m.Authorize(ctx, f.api, f.cl, AuthorizeRequest{Identity: "u3"})
	if denied := f.m.Callback(ctx, f.api, url.Values{"state": {c.State}, "error": {"access_denied"}}); denied.Error != "access_denied" || denied.ReturnURL != "" {
		t.Errorf("provider error: got %+v, want access_denied for the page", denied)
	}
}

func TestRefreshExactlyOnceUnderConcurrency(t *testing.T) {
	f := newFixture(t)
	f.up.delay, f.up.rotate = 50*time.Millisecond, true
	f.connect(t, "u1")
	f.clk.add(time.Hour - 30*time.Second) // within the 60 s leeway
	var wg sync.WaitGroup
	got := make([]string, 50)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := f.m.Token(context.Background(), f.api, TokenRequest{ClientID: "app", Identity: "u1"})
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = res.Tokens.AccessToken
		}()
	}
	wg.Wait()
	if n := f.up.refreshes.Load(); n != 1 {
		t.Fatalf("upstream refreshes: got %d, want exactly 1", n)
	}
	for i, at := range got {
		if at != "at-1" {
			t.Fatalf("caller %d got %q, want the refreshed at-1", i, at)
		}
	}
	res, _ := f.m.Token(context.Background(), f.api, TokenRequest{ClientID: "app", Identity: "u1"})
	ts, _ := f.m.openTokens(res.Conn)
	if ts.RefreshToken != "rt-1" || res.Conn.RefreshedAt.IsZero() {
		t.Errorf("stored after refresh: refresh token %q, refreshed_at %v; want rt-1 persisted", ts.RefreshToken, res.Conn.RefreshedAt)
	}
	if _, err := f.m.Token(context.Background(), f.api, TokenRequest{ClientID: "app", Identity: "u1", Force: true}); err != nil || f.up.refreshes.Load() != 2 {
		t.Errorf("force_refresh: got %v and %d refreshes, want a second refresh", err, f.up.refreshes.Load())
	}
}

func TestInvalidGrantMeansNeedsReauth(t *testing.T) {
	f := newFixture(t)
	f.connect(t, "u1")
	f.up.refreshErr = fmt.Errorf("wrapped: %w", providers.ErrInvalidGrant)
	f.clk.add(2 * time.Hour)
	_, err := f.m.Token(context.Background(), f.api, TokenRequest{ClientID: "app", Identity: "u1"})
	var e *protocol.Error
	if !errors.As(connerr.Answer(err), &e) || e.Code != "invalid_grant" || e.Extra["connection_status"] != storage.StatusNeedsReauth {
		t.Fatalf("got %v, want invalid_grant with connection_status needs_reauth", err)
	}
	c, _ := f.store.GetConnection(context.Background(), "a", ConnectionID("app", "u1", "up"))
	ts, _ := f.m.openTokens(c)
	if c.Status != storage.StatusNeedsReauth || ts.RefreshToken != "" || c.LastError != "invalid_grant" {
		t.Errorf("stored: status %s, refresh token %q, last_error %q; want needs_reauth, tombstoned, invalid_grant", c.Status, ts.RefreshToken, c.LastError)
	}
	f.up.refreshErr = nil
	if _, err := f.m.Token(context.Background(), f.api, TokenRequest{ClientID: "app", Identity: "u1"}); !errors.Is(connerr.Answer(err), protocol.ErrInvalidGrant) || f.up.refreshes.Load() != 1 {
		t.Errorf("after needs_reauth: got %v with %d refreshes, want invalid_grant and no new upstream call", err, f.up.refreshes.Load())
	}
	f.connect(t, "u1") // the user reconnects
	if res, err := f.m.Token(context.Background(), f.api, TokenRequest{ClientID: "app", Identity: "u1"}); err != nil || res.Conn.Status != storage.StatusActive {
		t.Errorf("after reconnect: got %v, want an active connection", err)
	}
}

func TestUnavailableKeepsTokens(t *testing.T) {
	f := newFixture(t)
	f.connect(t, "u1")
	f.up.refreshErr = providers.ErrUnavailable
	f.clk.add(time.Hour - 30*time.Second)
	res, err := f.m.Token(context.Background(), f.api, TokenRequest{ClientID: "app", Identity: "u1"})
	if err != nil || res.Tokens.AccessToken != "at-0" {
		t.Fatalf("refresh failed but the token is still valid: got %v, %v; want at-0 served", res, err)
	}
	c, _ := f.store.GetConnection(context.Background(), "a", ConnectionID("app", "u1", "up"))
	if c.Status != storage.StatusDegraded || c.LastError != "upstream_unavailable" {
		t.Errorf("status %s last_error %q, want degraded / upstream_unavailable", c.Status, c.LastError)
	}
	f.clk.add(time.Minute)
	if _, err := f.m.Token(context.Background(), f.api, TokenRequest{ClientID: "app", Identity: "u1"}); !errors.Is(connerr.Answer(err), protocol.ErrTemporarilyUnavailable) {
		t.Errorf("expired and upstream down: got %v, want temporarily_unavailable", err)
	}
	f.up.refreshErr = nil
	if res, err := f.m.Token(context.Background(), f.api, TokenRequest{ClientID: "app", Identity: "u1"}); err != nil || res.Conn.Status != storage.StatusActive || res.Conn.LastError != "" {
		t.Errorf("upstream back: got %+v, %v; want active with no last_error", res, err)
	}
}

func TestClientsAreIsolated(t *testing.T) {
	f := newFixture(t)
	f.connect(t, "u1")
	if _, err := f.m.Token(context.Background(), f.api, TokenRequest{ClientID: "other", Identity: "u1"}); !errors.Is(connerr.Answer(err), protocol.ErrInvalidGrant) {
		t.Errorf("another client's connection: got %v, want invalid_grant (no connection)", err)
	}
	if list, _ := f.m.List(context.Background(), f.api, "other", "u1"); len(list) != 0 {
		t.Errorf("another client lists %d connections, want 0", len(list))
	}
	if res, _ := f.m.Revoke(context.Background(), f.api, "other", "u1", ""); res.Deleted != 0 {
		t.Errorf("another client revoked %d connections, want 0", res.Deleted)
	}
}

func TestRevoke(t *testing.T) {
	f := newFixture(t)
	f.connect(t, "u1")
	res, err := f.m.Revoke(context.Background(), f.api, "app", "u1", "")
	if err != nil || res.Upstream != RevocationRevoked || res.Deleted != 1 || f.up.revokes.Load() != 1 {
		t.Fatalf("revoke: got %+v, %v (%d upstream calls), want revoked, 1 deleted", res, err, f.up.revokes.Load())
	}
	if res, _ := f.m.Revoke(context.Background(), f.api, "app", "u1", ""); res.Upstream != RevocationNone || res.Deleted != 0 {
		t.Errorf("again: got %+v, want nothing to do", res)
	}
	f.connect(t, "u1")
	f.up.revokeErr = providers.ErrUnavailable
	if res, _ := f.m.Revoke(context.Background(), f.api, "app", "u1", ""); res.Upstream != RevocationFailed || res.Deleted != 1 {
		t.Errorf("upstream failure: got %+v, want failed and the record deleted", res)
	}
	if list, _ := f.m.List(context.Background(), f.api, "app", "u1"); len(list) != 0 {
		t.Errorf("after revoke: %d connections left, want 0", len(list))
	}
}

func TestImport(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ts := &providers.TokenSet{AccessToken: "imported", RefreshToken: "r", Expiry: f.clk.now().Add(time.Hour)}
	if err := f.m.Import(ctx, f.api, "app", "u9", "up", ts); err != nil {
		t.Fatal(err)
	}
	res, err := f.m.Token(ctx, f.api, TokenRequest{ClientID: "app", Identity: "u9"})
	if err != nil || res.Tokens.AccessToken != "imported" {
		t.Fatalf("token of an imported connection: got %v, %v; want the imported token", res, err)
	}
	if err := f.m.Import(ctx, f.api, "app", "u9", "up", ts); !errors.Is(err, storage.ErrAlreadyExists) {
		t.Errorf("second import: got %v, want ErrAlreadyExists", err)
	}
}

// Put creates a connection, then replaces it whole: a grant imported
// again is active with the new tokens, its failures forgotten, its first
// CreatedAt kept.
func TestPutReplaces(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	first := f.clk.now()
	c, replaced, err := f.m.Put(ctx, f.api, "app", "u9", "up", &providers.TokenSet{AccessToken: "one", Expiry: first.Add(time.Hour)})
	if err != nil || replaced || len(c.SealedTokens) != 0 {
		t.Fatalf("first Put: got replaced %t, %d sealed bytes answered, %v; want created and no tokens answered", replaced, len(c.SealedTokens), err)
	}
	_, err = f.store.UpdateConnection(ctx, "a", c.ID, func(c storage.Connection) (storage.Connection, error) {
		c.Status, c.LastError, c.RefreshFailures = storage.StatusNeedsReauth, "invalid_grant", 3
		return c, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	f.clk.add(time.Hour)
	c, replaced, err = f.m.Put(ctx, f.api, "app", "u9", "up", &providers.TokenSet{AccessToken: "two", Expiry: f.clk.now().Add(time.Hour)})
	if err != nil || !replaced || c.Status != storage.StatusActive || c.LastError != "" || c.RefreshFailures != 0 || !c.CreatedAt.Equal(first.UTC()) {
		t.Fatalf("second Put: got %+v, replaced %t, %v; want replaced, active, no failures, the first CreatedAt", c, replaced, err)
	}
	res, err := f.m.Token(ctx, f.api, TokenRequest{ClientID: "app", Identity: "u9"})
	if err != nil || res.Tokens.AccessToken != "two" {
		t.Fatalf("token after the second Put: got %v, %v; want two", res, err)
	}
}

// keepingProvider keeps Intuit's realmId from the callback.
type keepingProvider struct{ *fakeProvider }

func (keepingProvider) CallbackKeep() []string { return []string{"realmId"} }

func TestCallbackKeepsProviderParams(t *testing.T) {
	f := newFixture(t)
	f.m.open = func(context.Context, providers.Config) (providers.Provider, error) { return keepingProvider{f.up}, nil }
	ctx := context.Background()
	a, _ := f.m.Authorize(ctx, f.api, f.cl, AuthorizeRequest{Identity: "u1"})
	if res := f.m.Callback(ctx, f.api, url.Values{"state": {a.State}, "code": {"c"}, "realmId": {"9130"}, "junk": {"x"}}); res.Error != "" {
		t.Fatal(res.Description)
	}
	res, err := f.m.Token(ctx, f.api, TokenRequest{ClientID: "app", Identity: "u1"})
	if err != nil || res.Tokens.Extra["realmId"] != "9130" || res.Tokens.Extra["junk"] != nil {
		t.Fatalf("got %+v, %v; want realmId kept and nothing else", res.Tokens.Extra, err)
	}
}

// The code exchange gets the callback's query (for
// quirks.callback_params) and the flow's state; the redirect URI a
// provider keeps in the token set is stored with the connection and
// reaches the next refresh (a refresh repeating the exchange's
// redirect_uri).
func TestCallbackQueryAndKeptRedirectReachTheProvider(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a, _ := f.m.Authorize(ctx, f.api, f.cl, AuthorizeRequest{Identity: "u1"})
	q := url.Values{"state": {a.State}, "code": {"c"}, "context": {"stores/z4zn3wo"}}
	if res := f.m.Callback(ctx, f.api, q); res.Error != "" {
		t.Fatal(res.Description)
	}
	f.up.mu.Lock()
	got := f.up.lastExchange
	f.up.mu.Unlock()
	if got.State != a.State || got.Callback.Get("context") != "stores/z4zn3wo" || got.RedirectURL == "" {
		t.Fatalf("exchange got state %q, callback %v, redirect %q; want the flow's state, the callback query and the redirect URI", got.State, got.Callback, got.RedirectURL)
	}
	if _, err := f.m.Token(ctx, f.api, TokenRequest{ClientID: "app", Identity: "u1", Force: true}); err != nil {
		t.Fatal(err)
	}
	f.up.mu.Lock()
	defer f.up.mu.Unlock()
	if f.up.lastRefreshed.RedirectURI != got.RedirectURL {
		t.Errorf("refresh started from redirect URI %q, want the exchange's %q", f.up.lastRefreshed.RedirectURI, got.RedirectURL)
	}
}

func TestForceRefreshWithoutRefreshToken(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ts := &providers.TokenSet{AccessToken: "gho_x", Expiry: f.clk.now().Add(time.Hour)}
	if err := f.m.Import(ctx, f.api, "app", "u1", "up", ts); err != nil {
		t.Fatal(err)
	}
	res, err := f.m.Token(ctx, f.api, TokenRequest{ClientID: "app", Identity: "u1", Force: true})
	if err != nil || res.Tokens.AccessToken != "gho_x" || res.Conn.Status != storage.StatusActive || f.up.refreshes.Load() != 0 {
		t.Fatalf("force_refresh without a refresh token: got %+v, %v (%d refreshes); want the valid token, no upstream call", res, err, f.up.refreshes.Load())
	}
	f.clk.add(2 * time.Hour)
	if _, err := f.m.Token(ctx, f.api, TokenRequest{ClientID: "app", Identity: "u1"}); !errors.Is(connerr.Answer(err), protocol.ErrInvalidGrant) {
		t.Errorf("expired without a refresh token: got %v, want invalid_grant (reconnect)", err)
	}
}

func TestRevokeDuringRefresh(t *testing.T) {
	f := newFixture(t)
	// The refresh is held upstream until the revoke is done, whatever the
	// machine's speed.
	started := make(chan struct{})
	var once sync.Once
	f.up.hook = func(int32) { once.Do(func() { close(started) }) }
	f.up.gate = make(chan struct{})
	f.connect(t, "u1")
	f.clk.add(2 * time.Hour)
	done := make(chan error, 1)
	go func() {
		_, err := f.m.Token(context.Background(), f.api, TokenRequest{ClientID: "app", Identity: "u1"})
		done <- err
	}()
	<-started
	if _, err := f.m.Revoke(context.Background(), f.api, "app", "u1", ""); err != nil {
		t.Fatal(err)
	}
	close(f.up.gate)
	err := <-done
	var e *protocol.Error
	if !errors.As(connerr.Answer(err), &e) || e.Code != "invalid_grant" || e.Extra["connection_status"] != "none" {
		t.Fatalf("token during a revoke: got %v, want invalid_grant with connection_status none (not a server error)", err)
	}
	if list, _ := f.m.List(context.Background(), f.api, "app", "u1"); len(list) != 0 {
		t.Errorf("the refresh brought the revoked connection back: %d connections", len(list))
	}
}

// Two replicas (two Managers, each with its own single-flight) on one
// store: the refresh lease makes them refresh an expired connection
// exactly once between them.
func TestReplicasRefreshOnce(t *testing.T) {
	f := newFixture(t)
	f.up.delay, f.up.rotate = 50*time.Millisecond, true
	f.connect(t, "u1")
	replicas := []*Manager{f.m}
	for i := 0; i < 2; i++ {
		m, err := New(Config{
			Store: f.store, Keyring: f.m.keyring, Now: f.clk.now, Logger: f.m.log, Replicated: true,
			Open:        func(context.Context, providers.Config) (providers.Provider, error) { return f.up, nil },
			CallbackURL: f.m.callback,
		})
		if err != nil {
			t.Fatal(err)
		}
		replicas = append(replicas, m)
	}
	f.m.replicated = true
	f.clk.add(2 * time.Hour)
	var wg sync.WaitGroup
	tokens := make([]string, 60)
	for i := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := replicas[i%3].Token(context.Background(), f.api, TokenRequest{ClientID: "app", Identity: "u1"})
			if err != nil {
				t.Error(err)
				return
			}
			tokens[i] = res.Tokens.AccessToken
		}()
	}
	wg.Wait()
	if n := f.up.refreshes.Load(); n != 1 {
		t.Fatalf("upstream refreshes across 3 replicas: got %d, want exactly 1", n)
	}
	for i, at := range tokens {
		if at != "at-1" {
			t.Fatalf("request %d got %q, want the one refreshed token", i, at)
		}
	}
	c, _ := f.store.GetConnection(context.Background(), "a", ConnectionID("app", "u1", "up"))
	if !c.RefreshLeaseUntil.IsZero() {
		t.Errorf("lease left behind: %v", c.RefreshLeaseUntil)
	}
}

func TestRefreshAhead(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.connect(t, "soon")        // expires in 1 h
	f.clk.add(56 * time.Minute) // now: 4 min left
	f.connect(t, "later")       // a fresh hour
	dead := &providers.TokenSet{AccessToken: "x", RefreshToken: "r", Expiry: f.clk.now().Add(time.Minute)}
	if err := f.m.Import(ctx, f.api, "app", "dead", "up", dead); err != nil {
		t.Fatal(err)
	}
	id := ConnectionID("app", "dead", "up")
	_, _ = f.store.UpdateConnection(ctx, "a", id, func(c storage.Connection) (storage.Connection, error) {
		c.Status = storage.StatusNeedsReauth
		return c, nil
	})
	n, err := f.m.RefreshAhead(ctx, 5*time.Minute, 2)
	if err != nil || n != 1 || f.up.refreshes.Load() != 1 {
		t.Fatalf("refresh ahead: got %d refreshed, %v, %d upstream calls; want only the one expiring in 4 min", n, err, f.up.refreshes.Load())
	}
	res, _ := f.m.Token(ctx, f.api, TokenRequest{ClientID: "app", Identity: "soon"})
	if !res.Tokens.Expiry.After(f.clk.now().Add(time.Hour - time.Minute)) {
		t.Errorf("soon: expiry %v, want renewed", res.Tokens.Expiry)
	}
	if n, _ := f.m.RefreshAhead(ctx, 5*time.Minute, 2); n != 0 || f.up.refreshes.Load() != 1 {
		t.Errorf("second run: %d refreshed, want 0", n)
	}
}

// A replica whose refresh stops early (the provider cannot be opened)
// releases its lease, so the next request does not wait on it.
func TestLeaseReleasedOnEarlyExit(t *testing.T) {
	f := newFixture(t)
	f.m.replicated = true
	f.connect(t, "u1")
	f.clk.add(2 * time.Hour)
	f.m.open = func(context.Context, providers.Config) (providers.Provider, error) {
		return nil, errors.New("discovery down")
	}
	f.m.cache = map[string]openedProvider{}
	if _, err := f.m.Token(context.Background(), f.api, TokenRequest{ClientID: "app", Identity: "u1"}); err == nil {
		t.Fatal("want an error while the provider cannot be opened")
	}
	c, _ := f.store.GetConnection(context.Background(), "a", ConnectionID("app", "u1", "up"))
	if !c.RefreshLeaseUntil.IsZero() {
		t.Fatalf("lease left behind after an early exit: %v", c.RefreshLeaseUntil)
	}
	f.m.open = func(context.Context, providers.Config) (providers.Provider, error) { return f.up, nil }
	// A lease left behind would hold this call until the test's clock
	// passes it, which it never does: the bound only ends the wait.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := f.m.Token(ctx, f.api, TokenRequest{ClientID: "app", Identity: "u1"}); err != nil {
		t.Fatalf("after the provider is back: %v", err)
	}
}
