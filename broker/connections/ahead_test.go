package connections

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/broker/connerr"
	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/providers/catalog"
	"github.com/oauth2broker/oauth2broker/providers/oauth"
	"github.com/oauth2broker/oauth2broker/providers/providertest"
	"github.com/oauth2broker/oauth2broker/storage"
)

// withProviders replaces the fixture's providers by one hand-written
// upstream per stored provider record given.
func (f *fixture) withProviders(t *testing.T, records ...providers.Config) map[string]*fakeProvider {
	t.Helper()
	ctx := context.Background()
	if err := f.store.DeleteProvider(ctx, "a", "up"); err != nil {
		t.Fatal(err)
	}
	ups := map[string]*fakeProvider{}
	for _, cfg := range records {
		if cfg.Type == "" {
			cfg.Type = providers.TypeOAuth2
		}
		p := stored(t, "a", cfg)
		if err := f.store.CreateProvider(ctx, p); err != nil {
			t.Fatal(err)
		}
		ups[p.Name] = &fakeProvider{lifetime: 24 * time.Hour, now: f.clk.now}
	}
	f.m.open = func(_ context.Context, cfg providers.Config) (providers.Provider, error) { return ups[cfg.Name], nil }
	return ups
}

// importConn stores an active connection of provider for identity, with a
// refresh token, whose access token expires at expiry (never when zero).
func (f *fixture) importConn(t *testing.T, identity, provider string, expiry time.Time) string {
	t.Helper()
	ts := &providers.TokenSet{AccessToken: "at-" + identity, RefreshToken: "rt-" + identity, Expiry: expiry}
	if err := f.m.Import(context.Background(), f.api, "app", identity, provider, ts); err != nil {
		t.Fatal(err)
	}
	return ConnectionID("app", identity, provider)
}

// conn reads a connection record.
func (f *fixture) conn(t *testing.T, id string) storage.Connection {
	t.Helper()
	c, err := f.store.GetConnection(context.Background(), "a", id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// pass runs one refresh-ahead pass and fails the test on an error.
func (f *fixture) pass(t *testing.T, lead time.Duration, workers int) int {
	t.Helper()
	n, err := f.m.RefreshAhead(context.Background(), lead, workers)
	if err != nil {
		t.Fatalf("RefreshAhead: %v", err)
	}
	return n
}

// newUpstreamFixture is a fixture whose only provider, "fake", is the
// real providers/oauth client of a providertest.Fake upstream.
func newUpstreamFixture(t *testing.T) (*fixture, *providertest.Fake) {
	t.Helper()
	f := newFixture(t)
	fake := providertest.NewFake(t)
	ctx := context.Background()
	if err := f.store.DeleteProvider(ctx, "a", "up"); err != nil {
		t.Fatal(err)
	}
	sealed, err := f.m.keyring.Seal([]byte(fake.ClientSecret), ProviderSecretAD("a", "fake"))
	if err != nil {
		t.Fatal(err)
	}
	p := stored(t, "a", providers.Config{Name: "fake", Type: providers.TypeOAuth2, AuthURL: fake.AuthURL, TokenURL: fake.TokenURL,
		ClientID: fake.ClientID})
	p.SealedClientSecret = sealed
	if err := f.store.CreateProvider(ctx, p); err != nil {
		t.Fatal(err)
	}
	f.m.open = fakeOpener(f.clk)
	return f, fake
}

// fakeOpener opens providers as generic OAuth 2.0 upstreams on clk.
func fakeOpener(clk *clock) Opener {
	return func(_ context.Context, cfg providers.Config) (providers.Provider, error) {
		return oauth.New(oauth.Config{Config: cfg, HTTPClient: &http.Client{Timeout: 5 * time.Second}, Now: clk.now})
	}
}

// connectFake runs a whole consent at the Fake for identity.
func (f *fixture) connectFake(t *testing.T, fake *providertest.Fake, identity string) string {
	t.Helper()
	ctx := context.Background()
	a, err := f.m.Authorize(ctx, f.api, f.cl, AuthorizeRequest{Identity: identity, Provider: "fake"})
	if err != nil {
		t.Fatal(err)
	}
	back := fake.Authorize(t, a.URL)
	if res := f.m.Callback(ctx, f.api, back.Query()); res.Error != "" {
		t.Fatalf("callback: %s %s", res.Error, res.Description)
	}
	return ConnectionID("app", identity, "fake")
}

// 1. A provider's refresh_lead replaces the global lead for its
// connections, in both directions.
func TestRefreshAheadPerProviderLead(t *testing.T) {
	f := newFixture(t)
	f.withProviders(t,
		providers.Config{Name: "short", RefreshLead: providers.Duration(2 * time.Minute)},
		providers.Config{Name: "long", RefreshLead: providers.Duration(30 * time.Minute)},
		providers.Config{Name: "plain"})
	t0 := f.clk.now()
	ids := map[string]string{}
	for _, p := range []string{"short", "long", "plain"} {
		ids[p] = f.importConn(t, "u-"+p, p, t0.Add(time.Hour))
	}
	const global = 10 * time.Minute
	// Due windows (lead plus up to half of it earlier): long 15–30 min,
	// plain 45–50 min, short 57–58 min after t0.
	for _, step := range []struct {
		at        time.Duration
		refreshed []string
	}{
		{14 * time.Minute, nil},
		{30 * time.Minute, []string{"long"}},
		{50 * time.Minute, []string{"long", "plain"}},
		{56 * time.Minute, []string{"long", "plain"}},
		{58 * time.Minute, []string{"long", "plain", "short"}},
	} {
		f.clk.set(t0.Add(step.at))
		f.pass(t, global, 4)
		for p, id := range ids {
			want := false
			for _, r := range step.refreshed {
				want = want || r == p
			}
			if got := !f.conn(t, id).RefreshedAt.IsZero(); got != want {
				t.Errorf("at +%v: %s refreshed = %v, want %v", step.at, p, got, want)
			}
		}
	}
}

// 2. Connections created together are spread over the lead's jitter
// window instead of all refreshing in one pass, and each is refreshed
// once.
func TestRefreshAheadSpreadsConnectionsCreatedTogether(t *testing.T) {
	f := newFixture(t)
	ups := f.withProviders(t, providers.Config{Name: "p"})
	t0 := f.clk.now()
	const n = 20
	for i := range n {
		f.importConn(t, fmt.Sprintf("u%02d", i), "p", t0.Add(time.Hour))
	}
	const lead = 10 * time.Minute
	f.clk.set(t0.Add(44 * time.Minute))
	if got := f.pass(t, lead, 4); got != 0 {
		t.Fatalf("before the jitter window (16 min left, lead 10m): %d refreshed, want 0", got)
	}
	total, most := 0, 0
	for m := 45; m <= 50; m++ {
		f.clk.set(t0.Add(time.Duration(m) * time.Minute))
		got := f.pass(t, lead, 4)
		total, most = total+got, max(most, got)
	}
	if total != n || ups["p"].refreshes.Load() != n {
		t.Fatalf("refreshed %d (%d upstream calls) by the lead, want each of the %d once", total, ups["p"].refreshes.Load(), n)
	}
	if most == n {
		t.Errorf("all %d connections refreshed in one pass, want them spread over several", n)
	}
}

// 3. A provider whose refreshes hang holds at most half of the workers:
// another provider's connections are refreshed meanwhile.
func TestRefreshAheadSlowProviderDoesNotStarveOthers(t *testing.T) {
	f := newFixture(t)
	ups := f.withProviders(t, providers.Config{Name: "slow"}, providers.Config{Name: "fast"})
	// slow answers only once fast's third refresh has started: if slow's
	// refreshes took both workers, that would never happen and slow
	// would fail after 10 s.
	ups["slow"].gate = make(chan struct{})
	ups["fast"].hook = func(n int32) {
		if n == 3 {
			close(ups["slow"].gate)
		}
	}
	t0 := f.clk.now()
	var ids []string
	for i := range 3 {
		ids = append(ids, f.importConn(t, fmt.Sprintf("s%d", i), "slow", t0.Add(time.Minute)))
		ids = append(ids, f.importConn(t, fmt.Sprintf("f%d", i), "fast", t0.Add(time.Minute)))
	}
	if got := f.pass(t, 5*time.Minute, 2); got != 6 {
		t.Errorf("refreshed %d, want all 6", got)
	}
	for _, id := range ids {
		if c := f.conn(t, id); c.Status != storage.StatusActive || c.RefreshedAt.IsZero() {
			t.Errorf("connection %s of %s: status %s, refreshed %v; want refreshed", c.Identity, c.Provider, c.Status, c.RefreshedAt)
		}
	}
}

// 4. A 429 with Retry-After: 120 stops refresh ahead for that connection
// and that provider for 120 s (persisted on the connection, in memory for
// the provider), then both are refreshed; the still-valid token is served
// meanwhile without an upstream call.
func TestRefreshAheadHonoursRetryAfter(t *testing.T) {
	f, fake := newUpstreamFixture(t)
	ctx := context.Background()
	ids := []string{f.connectFake(t, fake, "u1"), f.connectFake(t, fake, "u2")}
	t0 := f.clk.now()
	f.clk.set(t0.Add(58 * time.Minute)) // both expire in 2 min: due
	fake.SetBehavior(providertest.Behavior{RefreshFail: providertest.FailTooManyRequests, RetryAfter: "120"})
	if got := f.pass(t, 5*time.Minute, 1); got != 0 || fake.RefreshCount() != 1 {
		t.Fatalf("first pass: %d refreshed, %d upstream calls; want 0 and one call (the provider is then held)", got, fake.RefreshCount())
	}
	var failed storage.Connection
	for _, id := range ids {
		if c := f.conn(t, id); c.RefreshFailures > 0 {
			failed = c
		}
	}
	holdEnd := t0.Add(58*time.Minute + 120*time.Second)
	if failed.Status != storage.StatusDegraded || !failed.RetryAfter.Equal(holdEnd) || !failed.NextRefreshAt.Equal(holdEnd) {
		t.Fatalf("throttled connection: status %s, retry_after %v, next_refresh_at %v; want degraded and both at %v", failed.Status, failed.RetryAfter, failed.NextRefreshAt, holdEnd)
	}
	for _, after := range []time.Duration{60 * time.Second, 119 * time.Second} {
		f.clk.set(t0.Add(58*time.Minute + after))
		if got := f.pass(t, 5*time.Minute, 1); got != 0 || fake.RefreshCount() != 1 {
			t.Errorf("+%v after the 429: %d refreshed, %d upstream calls; want no call", after, got, fake.RefreshCount())
		}
	}
	res, err := f.m.Token(ctx, f.api, TokenRequest{ClientID: "app", Identity: failed.Identity, Provider: "fake", Force: true})
	if err != nil || res.Tokens.AccessToken == "" || fake.RefreshCount() != 1 {
		t.Errorf("token request during the hold: %v, %d upstream calls; want the still-valid token and no call", err, fake.RefreshCount())
	}
	fake.SetBehavior(providertest.Behavior{})
	f.clk.set(holdEnd)
	if got := f.pass(t, 5*time.Minute, 1); got != 2 || fake.RefreshCount() != 3 {
		t.Fatalf("at the end of the hold: %d refreshed, %d upstream calls; want both, 3 calls in all", got, fake.RefreshCount())
	}
	if c := f.conn(t, failed.ID); c.Status != storage.StatusActive || c.RefreshFailures != 0 || !c.RetryAfter.IsZero() || !c.NextRefreshAt.IsZero() {
		t.Errorf("after success: %+v, want active with the backoff cleared", c)
	}
}

// 4. A token request that meets a 429 gets 503 temporarily_unavailable
// with the upstream's Retry-After, and no refresh is sent before it ends.
func TestTokenRequestDuringRetryAfter(t *testing.T) {
	f, fake := newUpstreamFixture(t)
	ctx := context.Background()
	f.connectFake(t, fake, "u1")
	f.clk.add(2 * time.Hour) // expired
	fake.SetBehavior(providertest.Behavior{RefreshFail: providertest.FailTooManyRequests, RetryAfter: "120"})
	req := TokenRequest{ClientID: "app", Identity: "u1", Provider: "fake"}
	for i, want := range []time.Duration{120 * time.Second, 90 * time.Second} {
		_, err := f.m.Token(ctx, f.api, req)
		var e *protocol.Error
		if !errors.As(connerr.Answer(err), &e) || e.Code != "temporarily_unavailable" || e.Status != http.StatusServiceUnavailable || e.RetryAfter != want {
			t.Fatalf("request %d: got %v (%+v), want 503 temporarily_unavailable with Retry-After %v", i, err, e, want)
		}
		if fake.RefreshCount() != 1 {
			t.Fatalf("request %d: %d upstream calls, want 1", i, fake.RefreshCount())
		}
		f.clk.add(30 * time.Second)
	}
	fake.SetBehavior(providertest.Behavior{})
	f.clk.add(60 * time.Second) // 120 s after the 429
	if res, err := f.m.Token(ctx, f.api, req); err != nil || res.Conn.Status != storage.StatusActive || fake.RefreshCount() != 2 {
		t.Fatalf("after the wait: %v, %d upstream calls; want a refreshed token", err, fake.RefreshCount())
	}
}

// 4. Other transient failures back off exponentially per connection
// (1 min, then 2 min), on the record: a restarted broker (a new Manager
// on the same store) keeps to it.
func TestRefreshAheadBacksOffTransientFailures(t *testing.T) {
	f, fake := newUpstreamFixture(t)
	f.connectFake(t, fake, "u1")
	t0 := f.clk.now().Add(58 * time.Minute)
	fake.SetBehavior(providertest.Behavior{RefreshFail: providertest.FailServerError})
	for _, step := range []struct {
		at    time.Duration
		calls int
	}{{0, 1}, {30 * time.Second, 1}, {59 * time.Second, 1}, {60 * time.Second, 2}, {179 * time.Second, 2}} {
		f.clk.set(t0.Add(step.at))
		f.pass(t, 5*time.Minute, 2)
		if got := fake.RefreshCount(); got != step.calls {
			t.Fatalf("+%v: %d upstream calls, want %d", step.at, got, step.calls)
		}
	}
	restarted, err := New(Config{Store: f.store, Keyring: f.m.keyring, Now: f.clk.now, Logger: f.m.log, Open: fakeOpener(f.clk), CallbackURL: f.m.callback})
	if err != nil {
		t.Fatal(err)
	}
	f.m = restarted
	f.clk.set(t0.Add(179 * time.Second))
	if f.pass(t, 5*time.Minute, 2); fake.RefreshCount() != 2 {
		t.Errorf("restarted, within the backoff: %d upstream calls, want still 2", fake.RefreshCount())
	}
	fake.SetBehavior(providertest.Behavior{})
	f.clk.set(t0.Add(180 * time.Second))
	if got := f.pass(t, 5*time.Minute, 2); got != 1 || fake.RefreshCount() != 3 {
		t.Errorf("restarted, after the backoff: %d refreshed, %d upstream calls; want the third call to succeed", got, fake.RefreshCount())
	}
}

// 5. With refresh_idle_after, connections whose token never expires or
// expires far ahead are refreshed once their grant has been idle that
// long (less a jitter of at most a tenth); without it, never.
func TestRefreshAheadKeepsIdleGrantsAlive(t *testing.T) {
	f := newFixture(t)
	ups := f.withProviders(t, providers.Config{Name: "idle", RefreshIdleAfter: providers.Duration(720 * time.Hour)}, providers.Config{Name: "plain"})
	t0 := f.clk.now()
	never := f.importConn(t, "never", "idle", time.Time{})
	far := f.importConn(t, "far", "idle", t0.Add(90*24*time.Hour))
	plain := f.importConn(t, "never", "plain", time.Time{})
	f.clk.set(t0.Add(720*time.Hour - 72*time.Hour - time.Minute))
	if got := f.pass(t, 5*time.Minute, 2); got != 0 {
		t.Fatalf("before the idle window: %d refreshed, want 0", got)
	}
	f.clk.set(t0.Add(720 * time.Hour))
	if got := f.pass(t, 5*time.Minute, 2); got != 2 || ups["idle"].refreshes.Load() != 2 {
		t.Fatalf("after 720h idle: %d refreshed, want both connections of the idle provider", got)
	}
	for _, id := range []string{never, far} {
		if c := f.conn(t, id); !c.RefreshedAt.Equal(f.clk.now()) {
			t.Errorf("%s: refreshed_at %v, want now", c.Identity, c.RefreshedAt)
		}
	}
	if got := f.pass(t, 5*time.Minute, 2); got != 0 {
		t.Errorf("right after the keep-alive: %d refreshed, want 0", got)
	}
	f.clk.set(t0.Add(10 * 720 * time.Hour))
	f.pass(t, 5*time.Minute, 2)
	if ups["plain"].refreshes.Load() != 0 || !f.conn(t, plain).RefreshedAt.IsZero() {
		t.Errorf("a provider without idle keep-alive: %d refreshes of a never-expiring token, want none", ups["plain"].refreshes.Load())
	}
}

// 5. The catalog's idle keep-alive reaches refresh ahead: a Microsoft
// connection (refresh tokens expire after 90 days unused) whose token
// never expires is renewed within 720h, through the real catalog and
// providers/oauth against a Fake upstream.
func TestIdleKeepAliveFromCatalog(t *testing.T) {
	f := newFixture(t)
	fake := providertest.NewFake(t)
	ctx := context.Background()
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	f.m.open = func(ctx context.Context, cfg providers.Config) (providers.Provider, error) {
		return cat.Open(ctx, cfg, &http.Client{Timeout: 5 * time.Second}, f.clk.now)
	}
	sealed, _ := f.m.keyring.Seal([]byte(fake.ClientSecret), ProviderSecretAD("a", "fake"))
	_ = f.store.DeleteProvider(ctx, "a", "up")
	p := stored(t, "a", providers.Config{Name: "fake", Template: "microsoft", Type: providers.TypeOAuth2,
		AuthURL: fake.AuthURL, TokenURL: fake.TokenURL, ClientID: fake.ClientID})
	p.SealedClientSecret = sealed
	if err := f.store.CreateProvider(ctx, p); err != nil {
		t.Fatal(err)
	}
	seed := f.connectFake(t, fake, "seed") // for a refresh token the Fake honours
	res, err := f.m.load(ctx, "a", seed)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.DeleteConnection(ctx, "a", seed); err != nil {
		t.Fatal(err)
	}
	if err := f.m.Import(ctx, f.api, "app", "u1", "fake", &providers.TokenSet{AccessToken: "x", RefreshToken: res.Tokens.RefreshToken}); err != nil {
		t.Fatal(err)
	}
	t0 := f.clk.now()
	f.clk.set(t0.Add(600 * time.Hour))
	f.pass(t, 5*time.Minute, 2)
	if fake.RefreshCount() != 0 {
		t.Fatalf("after 600h: %d refreshes, want 0", fake.RefreshCount())
	}
	f.clk.set(t0.Add(720 * time.Hour))
	if got := f.pass(t, 5*time.Minute, 2); got != 1 || fake.RefreshCount() != 1 {
		t.Fatalf("after 720h: %d refreshed, %d upstream calls; want the catalog's keep-alive", got, fake.RefreshCount())
	}
}

// 6. A refresh token refused with invalid_grant is tombstoned: neither
// refresh ahead nor token requests (even forced) send it again, counted
// at the upstream, which would now accept it.
func TestRefusedRefreshTokenIsNeverPresentedAgain(t *testing.T) {
	f, fake := newUpstreamFixture(t)
	ctx := context.Background()
	id := f.connectFake(t, fake, "u1")
	refused := lastRefreshToken(t, f, id)
	t0 := f.clk.now()
	f.clk.set(t0.Add(58 * time.Minute))
	fake.SetBehavior(providertest.Behavior{RefreshFail: providertest.FailInvalidGrant})
	f.pass(t, 5*time.Minute, 2)
	c := f.conn(t, id)
	if c.Status != storage.StatusNeedsReauth || lastRefreshToken(t, f, id) != "" || fake.RefreshCount() != 1 {
		t.Fatalf("after invalid_grant: status %s, %d upstream calls; want needs_reauth and the refresh token gone", c.Status, fake.RefreshCount())
	}
	fake.SetBehavior(providertest.Behavior{})
	for _, at := range []time.Duration{time.Hour, 2 * time.Hour, 800 * time.Hour} {
		f.clk.set(t0.Add(at))
		f.pass(t, 5*time.Minute, 2)
		for _, force := range []bool{false, true} {
			_, err := f.m.Token(ctx, f.api, TokenRequest{ClientID: "app", Identity: "u1", Provider: "fake", Force: force})
			var e *protocol.Error
			if !errors.As(connerr.Answer(err), &e) || e.Code != "invalid_grant" || e.Extra["connection_status"] != storage.StatusNeedsReauth {
				t.Errorf("+%v token (force %v): got %v, want invalid_grant needs_reauth", at, force, err)
			}
		}
	}
	sent := 0
	for _, r := range fake.Requests() {
		if r.Form.Get("refresh_token") == refused {
			sent++
		}
	}
	if fake.RefreshCount() != 1 || sent != 1 {
		t.Errorf("the upstream got %d refreshes, %d with the refused token; want exactly 1", fake.RefreshCount(), sent)
	}
}

// 6. The refused token is tombstoned even when the record was written
// meanwhile (here during the upstream call); a new grant stored meanwhile
// (a reconnect) stands.
func TestTombstoneDespiteConcurrentWrite(t *testing.T) {
	for _, tt := range []struct {
		name       string
		newGrant   bool
		wantStatus string
	}{{"unrelated write", false, storage.StatusNeedsReauth}, {"reconnect", true, storage.StatusActive}} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			f.connect(t, "u1")
			id := ConnectionID("app", "u1", "up")
			f.up.refreshErr = providers.ErrInvalidGrant
			f.up.hook = func(int32) {
				_, _ = f.store.UpdateConnection(ctx, "a", id, func(c storage.Connection) (storage.Connection, error) {
					c.Scope += " more"
					if tt.newGrant {
						c.SealedTokens, _ = f.m.sealTokens("a", id, &providers.TokenSet{AccessToken: "at-new", RefreshToken: "rt-new", Expiry: f.clk.now().Add(time.Hour)})
						c.Expiry = f.clk.now().Add(time.Hour)
					}
					return c, nil
				})
			}
			f.clk.add(58 * time.Minute)
			f.pass(t, 5*time.Minute, 1)
			f.up.hook = nil
			if c := f.conn(t, id); c.Status != tt.wantStatus {
				t.Fatalf("status %s, want %s", c.Status, tt.wantStatus)
			}
			if tt.newGrant {
				if got := lastRefreshToken(t, f, id); got != "rt-new" {
					t.Errorf("refresh token %q, want the reconnect's rt-new kept", got)
				}
				return
			}
			if got := lastRefreshToken(t, f, id); got != "" {
				t.Errorf("refresh token %q kept, want it tombstoned", got)
			}
			for _, add := range []time.Duration{time.Hour, 24 * time.Hour} {
				f.clk.add(add)
				f.pass(t, 5*time.Minute, 1)
			}
			if n := f.up.refreshes.Load(); n != 1 {
				t.Errorf("%d upstream refreshes, want the refused token sent once", n)
			}
		})
	}
}

// lastRefreshToken opens a connection's stored refresh token.
func lastRefreshToken(t *testing.T, f *fixture, id string) string {
	t.Helper()
	ts, err := f.m.openTokens(f.conn(t, id))
	if err != nil {
		t.Fatal(err)
	}
	return ts.RefreshToken
}

// 7. A provider that refuses the broker's client credentials
// (invalid_client; here the broker's stored client secret is wrong, as
// when the provider app's secret expired) is the provider
// configuration's fault, not the users': the connections it refused keep
// their refresh tokens and become degraded, token requests get the
// still-valid token or 502 upstream_error (never invalid_grant or
// needs_reauth), and refresh ahead sends one batch, then leaves the
// provider alone, however long, until its record changes. Then every
// connection refreshes with the refresh token it had. Calls are counted
// at the Fake.
func TestRefusedClientKeepsGrants(t *testing.T) {
	f, fake := newUpstreamFixture(t)
	ctx := context.Background()
	const n, workers = 6, 4
	var ids []string
	kept := map[string]string{} // id -> refresh token
	for i := range n {
		id := f.connectFake(t, fake, fmt.Sprintf("u%d", i))
		ids = append(ids, id)
		kept[id] = lastRefreshToken(t, f, id)
	}
	t0 := f.clk.now()
	setSecret := func(secret string, updated time.Time) {
		t.Helper()
		sealed, err := f.m.keyring.Seal([]byte(secret), ProviderSecretAD("a", "fake"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.UpdateProvider(ctx, "a", "fake", func(p storage.Provider) (storage.Provider, error) {
			p.SealedClientSecret, p.UpdatedAt = sealed, updated
			return p, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	checkKept := func(when string) (degraded int) {
		t.Helper()
		for _, id := range ids {
			c := f.conn(t, id)
			if got := lastRefreshToken(t, f, id); got != kept[id] {
				t.Errorf("%s: %s: refresh token %q, want %q kept", when, c.Identity, got, kept[id])
			}
			switch {
			case c.Status == storage.StatusDegraded && c.LastError == lastErrorClientRefused:
				degraded++
			case c.Status != storage.StatusActive:
				t.Errorf("%s: %s: status %s, last_error %q; want active, or degraded saying the provider rejected the broker's client credentials", when, c.Identity, c.Status, c.LastError)
			}
		}
		return degraded
	}

	setSecret("expired-secret", t0)
	f.clk.set(t0.Add(58 * time.Minute)) // every access token expires in 2 min: all due
	if got := f.pass(t, 5*time.Minute, workers); got != 0 {
		t.Errorf("first pass: %d refreshed, want 0", got)
	}
	batch := fake.RefreshCount()
	if batch < 1 || batch > workers {
		t.Fatalf("first pass: %d upstream calls, want at most the %d started before the first answer", batch, workers)
	}
	if d := checkKept("after the first pass"); d != batch {
		t.Errorf("after the first pass: %d degraded, want the %d refused", d, batch)
	}

	// A token request with a still-valid access token gets it.
	req := TokenRequest{ClientID: "app", Identity: "u0", Provider: "fake"}
	if res, err := f.m.Token(ctx, f.api, TokenRequest{ClientID: "app", Identity: "u0", Provider: "fake", Force: true}); err != nil || res.Tokens.AccessToken == "" {
		t.Fatalf("forced token request, access token still valid: %v; want that token", err)
	}
	calls := batch + 1

	// Hours pass, well beyond any backoff and every expiry: refresh ahead
	// sends nothing; a token request (its token dead) gets 502
	// upstream_error saying the provider configuration is at fault.
	for _, at := range []time.Duration{2 * time.Hour, 5 * time.Hour, 30 * time.Hour} {
		f.clk.set(t0.Add(at))
		f.pass(t, 5*time.Minute, workers)
		if got := fake.RefreshCount(); got != calls {
			t.Fatalf("+%v: %d upstream calls, want still %d: the provider is held until its record changes", at, got, calls)
		}
		_, err := f.m.Token(ctx, f.api, req)
		var e *protocol.Error
		if !errors.As(connerr.Answer(err), &e) || e.Code != "upstream_error" || e.Status != http.StatusBadGateway || e.Extra["connection_status"] != storage.StatusDegraded ||
			!strings.Contains(e.Description, "client credentials") {
			t.Fatalf("+%v token request: got %v (%+v), want 502 upstream_error about the broker's client credentials, connection degraded", at, err, e)
		}
		calls++
		checkKept(fmt.Sprintf("+%v", at))
	}

	// An admin fixes the provider: its record changes, the hold ends, and
	// every connection refreshes with the refresh token it had.
	setSecret(fake.ClientSecret, t0.Add(30*time.Hour))
	if got := f.pass(t, 5*time.Minute, workers); got != n || fake.RefreshCount() != calls+n {
		t.Fatalf("after the fix: %d refreshed, %d upstream calls; want all %d, %d calls", got, fake.RefreshCount(), n, calls+n)
	}
	if d := checkKept("after the fix"); d != 0 {
		t.Errorf("after the fix: %d still degraded, want all active", d)
	}
}

// 7. A refresh that succeeds (here a token request's) ends a hold of a
// provider that refused the broker's client: its credentials work again,
// though its record did not change (fixed at the provider).
func TestRefusedClientHoldEndsOnSuccess(t *testing.T) {
	f := newFixture(t)
	ups := f.withProviders(t, providers.Config{Name: "p"})
	t0 := f.clk.now()
	for i := range 4 {
		f.importConn(t, fmt.Sprintf("u%d", i), "p", t0.Add(time.Hour))
	}
	ups["p"].refreshErr = fmt.Errorf("fake: %w", providers.ErrInvalidClient)
	f.clk.set(t0.Add(58 * time.Minute))
	f.pass(t, 5*time.Minute, 1)
	if n := ups["p"].refreshes.Load(); n != 1 {
		t.Fatalf("refused: %d upstream calls, want 1", n)
	}
	ups["p"].mu.Lock()
	ups["p"].refreshErr = nil
	ups["p"].mu.Unlock()
	f.clk.set(t0.Add(3 * time.Hour))
	if got := f.pass(t, 5*time.Minute, 1); got != 0 || ups["p"].refreshes.Load() != 1 {
		t.Fatalf("held: %d refreshed, %d upstream calls; want none", got, ups["p"].refreshes.Load())
	}
	if _, err := f.m.Token(context.Background(), f.api, TokenRequest{ClientID: "app", Identity: "u0", Provider: "p"}); err != nil {
		t.Fatalf("token request: %v", err)
	}
	if got := f.pass(t, 5*time.Minute, 1); got != 3 {
		t.Errorf("after a successful refresh: %d refreshed, want the other 3", got)
	}
}

// stored returns the record of a provider configured as cfg in api.
func stored(t testing.TB, api string, cfg providers.Config) storage.Provider {
	t.Helper()
	b, err := cfg.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return storage.Provider{API: api, Name: cfg.Name, Config: b}
}
