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
		err := s.UpdateConnection(ctx, apiA, "c1", func(old storage.Connection) (storage.Connection, error) {
			old.Version = 100 // ignored: the backend sets old+1
			return old, nil
		})
		if err != nil {
			t.Fatalf("UpdateConnection: got error %v, want nil", err)
		}
		wantVersion(t, s, "c1", want)
	}
	err := s.UpdateConnection(ctx, apiA, "c1", func(old storage.Connection) (storage.Connection, error) {
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
		Nonce: "nonce-" + id, CreatedAt: epoch(), ExpiresAt: expires,
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
