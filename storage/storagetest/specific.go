package storagetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/storage"
)

// This file tests what only some record types do: connection versions and
// filters, one-time states and garbage collection.

func testConnectionVersion(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	c := connection(apiA, "c1", "app", "alice", "google")
	c.Version = 7 // the backend owns Version
	if err := s.CreateConnection(ctx, c); err != nil {
		t.Fatalf("CreateConnection: got error %v, want nil", err)
	}
	wantVersion(t, s, "c1", 1)
	for want := int64(2); want <= 3; want++ {
		got, err := s.UpdateConnection(ctx, apiA, "c1", func(old storage.Connection) (storage.Connection, error) {
			old.Version = 100 // ignored: the backend sets old+1
			return old, nil
		})
		if err != nil {
			t.Fatalf("UpdateConnection: got error %v, want nil", err)
		}
		if got.Version != want {
			t.Errorf("UpdateConnection returned Version %d, want %d", got.Version, want)
		}
		wantVersion(t, s, "c1", want)
	}
	_, err := s.UpdateConnection(ctx, apiA, "c1", func(old storage.Connection) (storage.Connection, error) {
		return old, errRefused
	})
	if !errors.Is(err, errRefused) {
		t.Errorf("UpdateConnection with a failing function: got error %v, want %v", err, errRefused)
	}
	wantVersion(t, s, "c1", 3)
}

func wantVersion(t *testing.T, s storage.Storage, id string, want int64) {
	t.Helper()
	got, err := s.GetConnection(t.Context(), apiA, id)
	if err != nil {
		t.Fatalf("GetConnection(%q, %q): got error %v, want nil", apiA, id, err)
	}
	if got.Version != want {
		t.Errorf("GetConnection(%q, %q).Version: got %d, want %d", apiA, id, got.Version, want)
	}
}

func testConnectionFilter(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	for _, c := range []storage.Connection{
		connection(apiA, "c1", "app1", "alice", "google"),
		connection(apiA, "c2", "app1", "bob", "google"),
		connection(apiA, "c3", "app2", "alice", "github"),
		connection(apiA, "c4", "app2", "alice", "google"),
		connection(apiAB, "c5", "app1", "alice", "google"),
	} {
		if err := s.CreateConnection(ctx, c); err != nil {
			t.Fatalf("CreateConnection(%q, %q): got error %v, want nil", c.API, c.ID, err)
		}
	}
	tests := []struct {
		f    storage.ConnectionFilter
		want []string
	}{
		{storage.ConnectionFilter{}, []string{"c1", "c2", "c3", "c4"}},
		{storage.ConnectionFilter{ClientID: "app1"}, []string{"c1", "c2"}},
		{storage.ConnectionFilter{Identity: "alice"}, []string{"c1", "c3", "c4"}},
		{storage.ConnectionFilter{Provider: "github"}, []string{"c3"}},
		{storage.ConnectionFilter{ClientID: "app2", Provider: "google"}, []string{"c4"}},
		{storage.ConnectionFilter{ClientID: "app1", Identity: "alice", Provider: "google"}, []string{"c1"}},
		{storage.ConnectionFilter{ClientID: "app1", Identity: "carol"}, nil},
		{storage.ConnectionFilter{ClientID: "nobody"}, nil},
	}
	for _, tt := range tests {
		conns, err := s.ListConnections(ctx, apiA, tt.f)
		if err != nil {
			t.Errorf("ListConnections(%q, %+v): got error %v, want nil", apiA, tt.f, err)
			continue
		}
		var got []string
		for _, c := range conns {
			got = append(got, c.ID)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("ListConnections(%q, %+v): got IDs %q, want %q", apiA, tt.f, got, tt.want)
		}
	}
}

// state returns a state fixture expiring at expires.
func state(api, id string, expires time.Time) storage.State {
	return storage.State{
		API: api, ID: id, ClientID: "app", Identity: "alice", Provider: "google",
		ReturnURL: "https://app.example/done", Scope: "openid", SealedVerifier: []byte("sealed-" + id),
		Nonce: "nonce-" + id, CreatedAt: epoch(), ExpiresAt: expires, Kind: storage.StateKindAuthorize,
		RedirectURI: "https://broker.example/" + api + "/oauth2/provider/callback/google",
		BrowserHash: []byte("browser-" + id), BindingHash: []byte("binding-" + id), SealedTokens: []byte("tokens-" + id),
	}
}

// testCountStates checks that CountStates counts the live states of a
// kind, client and identity, and finds the earliest expiry.
func testCountStates(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	mk := func(api, id, kind, client, identity string, expires time.Duration) storage.State {
		st := state(api, id, epoch().Add(expires))
		st.Kind, st.ClientID, st.Identity = kind, client, identity
		return st
	}
	for _, st := range []storage.State{
		mk(apiA, "1", storage.StateKindAuthorize, "app", "alice", 5*time.Minute),
		mk(apiA, "2", storage.StateKindAuthorize, "app", "alice", 3*time.Minute),
		mk(apiA, "3", storage.StateKindAuthorize, "app", "alice", -time.Minute), // expired
		mk(apiA, "4", storage.StateKindConnectLink, "app", "alice", 9*time.Minute),
		mk(apiA, "5", storage.StateKindAuthorize, "app", "bob", time.Minute),
		mk(apiA, "6", storage.StateKindAuthorize, "other", "alice", time.Minute),
		mk(apiAB, "7", storage.StateKindAuthorize, "app", "alice", time.Minute),
	} {
		if err := s.CreateState(ctx, st); err != nil {
			t.Fatalf("CreateState(%q, %q): got error %v, want nil", st.API, st.ID, err)
		}
	}
	for _, tt := range []struct {
		f    storage.StateFilter
		want storage.StateCount
	}{
		{storage.StateFilter{Kind: storage.StateKindAuthorize, ClientID: "app", Identity: "alice", LiveAt: epoch()}, storage.StateCount{Live: 2, NextExpiry: epoch().Add(3 * time.Minute)}},
		{storage.StateFilter{Kind: storage.StateKindConnectLink, ClientID: "app", Identity: "alice", LiveAt: epoch()}, storage.StateCount{Live: 1, NextExpiry: epoch().Add(9 * time.Minute)}},
		{storage.StateFilter{ClientID: "app", LiveAt: epoch()}, storage.StateCount{Live: 4, NextExpiry: epoch().Add(time.Minute)}},
		{storage.StateFilter{Kind: storage.StateKindAuthorize, ClientID: "app", Identity: "alice", LiveAt: epoch().Add(4 * time.Minute)}, storage.StateCount{Live: 1, NextExpiry: epoch().Add(5 * time.Minute)}},
		{storage.StateFilter{Kind: storage.StateKindPending, LiveAt: epoch()}, storage.StateCount{}},
	} {
		got, err := s.CountStates(ctx, apiA, tt.f)
		if err != nil || got.Live != tt.want.Live || !got.NextExpiry.Equal(tt.want.NextExpiry) {
			t.Errorf("CountStates(%q, %+v): got %+v, error %v, want %+v", apiA, tt.f, got, err, tt.want)
		}
	}
}

func testState(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	in := state(apiA, "s1", epoch().Add(10*time.Minute))
	want := state(apiA, "s1", epoch().Add(10*time.Minute))
	for _, st := range []storage.State{in, state(apiA, "s10", epoch()), state(apiAB, "s1", epoch())} {
		if err := s.CreateState(ctx, st); err != nil {
			t.Fatalf("CreateState(%q, %q): got error %v, want nil", st.API, st.ID, err)
		}
	}
	in.SealedVerifier[0] = 'X' // the stored copy must not change
	if err := s.CreateState(ctx, state(apiA, "s1", epoch())); !errors.Is(err, storage.ErrAlreadyExists) {
		t.Errorf("CreateState twice: got error %v, want %v", err, storage.ErrAlreadyExists)
	}
	for _, key := range [][2]string{{apiA, "s"}, {apiA, "s2"}, {"b", "s1"}} {
		if got, err := s.ConsumeState(ctx, key[0], key[1]); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("ConsumeState(%q, %q): got %+v, error %v, want error %v", key[0], key[1], got, err, storage.ErrNotFound)
		}
	}
	got, err := s.ConsumeState(ctx, apiA, "s1")
	if err != nil {
		t.Fatalf("ConsumeState: got error %v, want nil", err)
	}
	if !same(got, want) {
		t.Errorf("ConsumeState:\ngot  %+v\nwant %+v", got, want)
	}
	if got, err := s.ConsumeState(ctx, apiA, "s1"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("ConsumeState a second time: got %+v, error %v, want error %v", got, err, storage.ErrNotFound)
	}
	// Neighbours survive; a consumed ID can be used again.
	for _, st := range []storage.State{state(apiA, "s10", epoch()), state(apiAB, "s1", epoch())} {
		if got, err := s.ConsumeState(ctx, st.API, st.ID); err != nil || !same(got, st) {
			t.Errorf("ConsumeState(%q, %q): got %+v, error %v, want %+v", st.API, st.ID, got, err, st)
		}
	}
	if err := s.CreateState(ctx, want); err != nil {
		t.Errorf("CreateState after ConsumeState: got error %v, want nil", err)
	}
}
