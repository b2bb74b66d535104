package connections

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/broker/connerr"
	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/providers/oauth"
	"github.com/oauth2broker/oauth2broker/providers/providertest"
	"github.com/oauth2broker/oauth2broker/storage"
)

// hookedProvider is a real upstream client that runs a hook, when set,
// before each refresh: a write to the record "during" the refresh.
type hookedProvider struct {
	providers.Provider
	hook *atomic.Pointer[func()]
}

func (h hookedProvider) Refresh(ctx context.Context, ts *providers.TokenSet) (*providers.TokenSet, error) {
	if fn := h.hook.Load(); fn != nil {
		(*fn)()
	}
	return h.Provider.Refresh(ctx, ts)
}

// The refresh's save survives a write made meanwhile that left the token
// set alone (here the same tokens sealed again, as a reseal after a key
// rotation does): the refresh token the upstream rotated is stored, not
// lost, and works at the next refresh. A write that changed the token set
// (a reconnect) still wins. Against the Fake, with rotation.
func TestRefreshSaveSurvivesUnrelatedWrite(t *testing.T) {
	for _, tt := range []struct {
		name      string
		reconnect bool
	}{{"reseal meanwhile", false}, {"reconnect meanwhile", true}} {
		t.Run(tt.name, func(t *testing.T) {
			f, fake := newUpstreamFixture(t)
			ctx := context.Background()
			var hook atomic.Pointer[func()]
			f.m.open = func(_ context.Context, cfg providers.Config) (providers.Provider, error) {
				p, err := oauth.New(oauth.Config{Config: cfg, HTTPClient: &http.Client{Timeout: 5 * time.Second}, Now: f.clk.now})
				return hookedProvider{Provider: p, hook: &hook}, err
			}
			id := f.connectFake(t, fake, "u1")
			presented := lastRefreshToken(t, f, id)
			fake.Update(func(b *providertest.Behavior) { b.RefreshTokens = providertest.RefreshRotate })

			var write func()
			var wrote string // the refresh token the meanwhile write stored
			if tt.reconnect {
				a, err := f.m.Authorize(ctx, f.api, f.cl, AuthorizeRequest{Identity: "u1", Provider: "fake"})
				if err != nil {
					t.Fatal(err)
				}
				back := fake.Authorize(t, a.URL)
				write = func() {
					if res := f.m.Callback(ctx, f.api, back.Query()); res.Error != "" {
						t.Errorf("reconnect: %s %s", res.Error, res.Description)
					}
				}
			} else {
				write = func() {
					_, err := f.store.UpdateConnection(ctx, "a", id, func(c storage.Connection) (storage.Connection, error) {
						ts, err := f.m.openTokens(c)
						if err != nil {
							return c, err
						}
						c.SealedTokens, err = f.m.sealTokens("a", id, ts)
						return c, err
					})
					if err != nil {
						t.Errorf("reseal: %v", err)
					}
				}
			}
			once := func() {
				hook.Store(nil)
				write()
				c, err := f.store.GetConnection(ctx, "a", id)
				if err != nil {
					t.Error(err)
					return
				}
				ts, err := f.m.openTokens(c)
				if err != nil {
					t.Error(err)
					return
				}
				wrote = ts.RefreshToken
			}
			hook.Store(&once)
			res, err := f.m.Token(ctx, f.api, TokenRequest{ClientID: "app", Identity: "u1", Provider: "fake", Force: true})
			if err != nil {
				t.Fatalf("token request: %v", err)
			}
			stored := lastRefreshToken(t, f, id)
			c := f.conn(t, id)
			if tt.reconnect {
				if stored != wrote || stored == presented || res.Tokens.RefreshToken != wrote {
					t.Fatalf("refresh token stored %q, served %q; want the reconnect's %q", stored, res.Tokens.RefreshToken, wrote)
				}
			} else if stored == presented || stored != res.Tokens.RefreshToken || c.RefreshedAt.IsZero() {
				t.Fatalf("refresh token stored %q (presented %q, served %q), refreshed_at %v; want the rotated one stored", stored, presented, res.Tokens.RefreshToken, c.RefreshedAt)
			}
			// The stored refresh token is live at the upstream: the next
			// refresh works.
			if res, err := f.m.Token(ctx, f.api, TokenRequest{ClientID: "app", Identity: "u1", Provider: "fake", Force: true}); err != nil || res.Conn.Status != storage.StatusActive {
				t.Fatalf("next refresh: %v; want it to work with the stored refresh token", err)
			}
			if n := fake.RefreshCount(); n != 2 {
				t.Errorf("%d upstream refreshes, want 2", n)
			}
		})
	}
}

// A failed refresh is recorded too (degraded, backoff) despite a write
// meanwhile that left the token set alone, and the token request gets
// the error, not the dead token it would otherwise reload and serve.
func TestRefreshFailureSurvivesUnrelatedWrite(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.connect(t, "u1")
	id := ConnectionID("app", "u1", "up")
	f.up.refreshErr = providers.ErrUnavailable
	f.up.hook = func(int32) {
		_, _ = f.store.UpdateConnection(ctx, "a", id, func(c storage.Connection) (storage.Connection, error) {
			ts, err := f.m.openTokens(c)
			if err != nil {
				return c, err
			}
			c.SealedTokens, err = f.m.sealTokens("a", id, ts)
			return c, err
		})
	}
	f.clk.add(2 * time.Hour) // expired
	_, err := f.m.Token(ctx, f.api, TokenRequest{ClientID: "app", Identity: "u1"})
	if !errors.Is(connerr.Answer(err), protocol.ErrTemporarilyUnavailable) {
		t.Fatalf("token request: got %v, want temporarily_unavailable", err)
	}
	c := f.conn(t, id)
	if c.Status != storage.StatusDegraded || c.RefreshFailures != 1 || !c.NextRefreshAt.Equal(f.clk.now().Add(backoffBase)) || lastRefreshToken(t, f, id) != "rt-0" {
		t.Errorf("record: status %s, %d failures, next refresh %v; want degraded, 1, in %v, refresh token kept", c.Status, c.RefreshFailures, c.NextRefreshAt, backoffBase)
	}
}
