package storagetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/storage"
)

// testGarbageCollect checks what GC deletes, keeps and counts; a record
// expiring exactly at now is kept (only "before now" expires).
func testGarbageCollect(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	now := epoch()
	past, future := now.Add(-time.Second), now.Add(time.Hour)
	states := []storage.State{
		state(apiA, "expired", past), state(apiAB, "expired", now.Add(-time.Hour)),
		state(apiA, "now", now), state(apiA, "live", future),
	}
	tokens := []storage.IssuedToken{
		issuedToken(apiA, "expired", past), issuedToken(apiA, "now", now), issuedToken(apiA, "live", future),
	}
	keys := []storage.SigningKey{
		signingKey(apiA, "k1-active", time.Time{}), signingKey(apiA, "k2-removed", past),
		signingKey(apiA, "k3-retired", future), signingKey(apiAB, "k4-removed", past),
	}
	mustCreateAll(t, s, states, tokens, keys)
	// Audit events expire only when they say so.
	for id, exp := range map[string]time.Time{"expired": past, "now": now, "kept": {}, "live": future} {
		e := storage.AuditEvent{API: apiA, ID: id, Actor: "admin", Action: "client.created", CreatedAt: now.Add(-time.Hour), ExpiresAt: exp}
		if err := s.CreateAuditEvent(ctx, e); err != nil {
			t.Fatalf("CreateAuditEvent(%s): got error %v, want nil", id, err)
		}
	}
	// Connections never expire by GC, whatever their Expiry.
	conn := connection(apiA, "c1", "app", "alice", "google")
	conn.Expiry = past
	if err := s.CreateConnection(ctx, conn); err != nil {
		t.Fatalf("CreateConnection: got error %v, want nil", err)
	}

	// The instant counts, not the location.
	got, err := s.GarbageCollect(ctx, now.In(time.FixedZone("UTC+5", 5*60*60)))
	if err != nil {
		t.Fatalf("GarbageCollect: got error %v, want nil", err)
	}
	if want := (storage.GCResult{States: 2, IssuedTokens: 1, SigningKeys: 2, AuditEvents: 1}); got != want {
		t.Errorf("GarbageCollect: got %+v, want %+v", got, want)
	}
	if got, err := s.GarbageCollect(ctx, now); err != nil || got != (storage.GCResult{}) {
		t.Errorf("GarbageCollect again: got %+v, error %v, want %+v", got, err, storage.GCResult{})
	}
	wantSurvivors(t, s, states, tokens)
	events, err := s.ListAuditEvents(ctx, apiA)
	var ids []string
	for _, e := range events {
		ids = append(ids, e.ID)
	}
	if err != nil || !slices.Equal(ids, []string{"kept", "live", "now"}) {
		t.Errorf("audit events after GC: got %v, %v; want kept, live, now", ids, err)
	}
}

// wantSurvivors checks what GarbageCollect left: every fixture whose ID is
// "expired" is gone, the rest remain.
func wantSurvivors(t *testing.T, s storage.Storage, states []storage.State, tokens []storage.IssuedToken) {
	t.Helper()
	ctx := t.Context()
	for _, st := range states {
		_, err := s.ConsumeState(ctx, st.API, st.ID)
		wantGone(t, "ConsumeState", st.API, st.ID, err, st.ID == "expired")
	}
	for _, tok := range tokens {
		_, err := s.GetIssuedToken(ctx, tok.API, tok.ID)
		wantGone(t, "GetIssuedToken", tok.API, tok.ID, err, tok.ID == "expired")
	}
	wantKeyIDs(t, s, apiA, []string{"k1-active", "k3-retired"})
	wantKeyIDs(t, s, apiAB, nil)
	if _, err := s.GetConnection(ctx, apiA, "c1"); err != nil {
		t.Errorf("GetConnection after GC: got error %v, want nil", err)
	}
}

func issuedToken(api, id string, expires time.Time) storage.IssuedToken {
	tok := issuedTokenKind().fixture(api, id)
	tok.ExpiresAt = expires
	return tok
}

func signingKey(api, id string, removeAt time.Time) storage.SigningKey {
	k := signingKeyKind().fixture(api, id)
	if !removeAt.IsZero() {
		k.RetiredAt = removeAt.Add(-time.Hour)
	}
	k.RemoveAt = removeAt
	return k
}

func mustCreateAll(t *testing.T, s storage.Storage, states []storage.State, tokens []storage.IssuedToken, keys []storage.SigningKey) {
	t.Helper()
	ctx := t.Context()
	var errs []error
	for _, st := range states {
		errs = append(errs, s.CreateState(ctx, st))
	}
	for _, tok := range tokens {
		errs = append(errs, s.CreateIssuedToken(ctx, tok))
	}
	for _, k := range keys {
		errs = append(errs, s.CreateSigningKey(ctx, k))
	}
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("creating GC fixtures: got error %v, want nil", err)
	}
}

func wantKeyIDs(t *testing.T, s storage.Storage, api string, want []string) {
	t.Helper()
	keys, err := s.ListSigningKeys(t.Context(), api)
	if err != nil {
		t.Fatalf("ListSigningKeys(%q): got error %v, want nil", api, err)
	}
	var got []string
	for _, k := range keys {
		got = append(got, k.ID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("ListSigningKeys(%q) after GC: got IDs %q, want %q", api, got, want)
	}
}

// wantGone checks the error of a read after GC: storage.ErrNotFound when
// the record should be gone, nil when it should remain.
func wantGone(t *testing.T, call, api, id string, err error, gone bool) {
	t.Helper()
	switch {
	case gone && !errors.Is(err, storage.ErrNotFound):
		t.Errorf("%s(%q, %q) after GC: got error %v, want %v", call, api, id, err, storage.ErrNotFound)
	case !gone && err != nil:
		t.Errorf("%s(%q, %q) after GC: got error %v, want nil", call, api, id, err)
	}
}
