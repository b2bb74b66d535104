package connections

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/broker/connerr"
	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/storage"
)

// faultyStore is the fixture's real bbolt store, whose GetProvider and
// ConsumeState answer, when switched on, what etcd answers without a
// quorum: an error wrapping storage.ErrUnavailable.
type faultyStore struct {
	storage.Storage
	getProvider, consumeState atomic.Bool
}

func errNoQuorum(op string) error {
	return fmt.Errorf("etcd: %s: no quorum: %w", op, storage.ErrUnavailable)
}

func (s *faultyStore) GetProvider(ctx context.Context, api, name string) (storage.Provider, error) {
	if s.getProvider.Load() {
		return storage.Provider{}, errNoQuorum("get provider")
	}
	return s.Storage.GetProvider(ctx, api, name)
}

func (s *faultyStore) ConsumeState(ctx context.Context, api, id string) (storage.State, error) {
	if s.consumeState.Load() {
		return storage.State{}, errNoQuorum("consume state")
	}
	return s.Storage.ConsumeState(ctx, api, id)
}

// withFaultyStore puts a faultyStore in front of the fixture's store.
func (f *fixture) withFaultyStore() *faultyStore {
	s := &faultyStore{Storage: f.store}
	f.m.store = s
	return s
}

// A provider record the store cannot read now (etcd without quorum) is
// not a removed provider: a refresh, on demand or ahead, passes
// storage.ErrUnavailable on (the HTTP layer answers 503
// temporarily_unavailable), sends nothing upstream and leaves the
// connection as it was. Only storage.ErrNotFound means removed.
func TestRefreshWhenProviderRecordUnreadable(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.connect(t, "u1")
	id := ConnectionID("app", "u1", "up")
	s := f.withFaultyStore()
	f.clk.add(2 * time.Hour) // expired
	s.getProvider.Store(true)
	// No provider named: the API's only one is found by listing, so the
	// first GetProvider is the refresh's.
	_, err := f.m.Token(ctx, f.api, TokenRequest{ClientID: "app", Identity: "u1"})
	if !errors.Is(err, storage.ErrUnavailable) || errors.Is(connerr.Answer(err), protocol.ErrInvalidRequest) || protocol.AsError(connerr.Answer(err)).Status < 500 {
		t.Fatalf("token request: got %v, want the store's unavailability passed on (a 5xx), not invalid_request", err)
	}
	if _, err := f.m.RefreshAhead(ctx, 5*time.Minute, 1); err != nil {
		t.Fatalf("RefreshAhead: %v", err)
	}
	if n := f.up.refreshes.Load(); n != 0 {
		t.Errorf("%d upstream refreshes, want none", n)
	}
	if c := f.conn(t, id); c.Status != storage.StatusActive || c.LastError != "" || lastRefreshToken(t, f, id) != "rt-0" {
		t.Errorf("connection: status %s, last_error %q; want it untouched", c.Status, c.LastError)
	}
	s.getProvider.Store(false)
	if res, err := f.m.Token(ctx, f.api, TokenRequest{ClientID: "app", Identity: "u1"}); err != nil || res.Tokens.AccessToken != "at-1" {
		t.Fatalf("quorum back: got %v, want a refreshed token", err)
	}

	// A removed provider is still invalid_request.
	if err := f.store.DeleteProvider(ctx, "a", "up"); err != nil {
		t.Fatal(err)
	}
	f.clk.add(2 * time.Hour)
	if _, err := f.m.refresh(ctx, "a", id, func(*Result) bool { return true }); !errors.Is(connerr.Answer(err), protocol.ErrInvalidRequest) {
		t.Errorf("provider removed: got %v, want invalid_request", err)
	}
}

// At the callback, a store that cannot answer is temporarily_unavailable,
// not "unknown state" or "the provider was removed"; once it answers, a
// state it could not read is still good.
func TestCallbackWhenStoreUnavailable(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	s := f.withFaultyStore()
	a, err := f.m.Authorize(ctx, f.api, f.cl, AuthorizeRequest{Identity: "u1", ReturnURL: "https://app.example/back"})
	if err != nil {
		t.Fatal(err)
	}
	back := url.Values{"state": {a.State}, "code": {"code-1"}}

	s.consumeState.Store(true)
	if res := f.m.Callback(ctx, f.api, back); res.Error != "temporarily_unavailable" {
		t.Errorf("state unreadable: got %s (%s), want temporarily_unavailable", res.Error, res.Description)
	}
	s.consumeState.Store(false)

	s.getProvider.Store(true)
	res := f.m.Callback(ctx, f.api, back)
	if res.Error != "temporarily_unavailable" || res.ReturnURL != "https://app.example/back" {
		t.Errorf("provider unreadable: got %s (%s) to %q, want temporarily_unavailable sent to the return URL", res.Error, res.Description, res.ReturnURL)
	}
	s.getProvider.Store(false)
	if _, err := f.store.GetConnection(ctx, "a", ConnectionID("app", "u1", "up")); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("connection after the failed callback: %v, want none", err)
	}
}
