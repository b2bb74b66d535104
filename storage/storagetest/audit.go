package storagetest

import (
	"context"
	"errors"
	"testing"

	"github.com/oauth2broker/oauth2broker/storage"
)

// testAudit checks that audit events are listed per API in ID order, are
// never duplicated, and come back as copies.
func testAudit(t *testing.T, s storage.Storage) {
	ctx := context.Background()
	ev := func(api, id string) storage.AuditEvent {
		return storage.AuditEvent{API: api, ID: id, Actor: "admin", Action: "client.created", Target: "c-" + id,
			Details: map[string]string{"name": "n-" + id}, CreatedAt: epoch()}
	}
	for _, e := range []storage.AuditEvent{ev("a", "002"), ev("a", "001"), ev("ab", "000"), ev("a", "003")} {
		if err := s.CreateAuditEvent(ctx, e); err != nil {
			t.Fatalf("CreateAuditEvent(%s/%s): got %v, want nil", e.API, e.ID, err)
		}
	}
	if err := s.CreateAuditEvent(ctx, ev("a", "001")); !errors.Is(err, storage.ErrAlreadyExists) {
		t.Errorf("duplicate: got %v, want ErrAlreadyExists", err)
	}
	got, err := s.ListAuditEvents(ctx, "a")
	if err != nil || len(got) != 3 || got[0].ID != "001" || got[2].ID != "003" || got[1].Details["name"] != "n-002" || !got[0].CreatedAt.Equal(epoch()) {
		t.Fatalf("ListAuditEvents(a): got %+v, %v; want 001, 002, 003 with their details", got, err)
	}
	got[0].Details["name"] = "mutated"
	again, _ := s.ListAuditEvents(ctx, "a")
	if again[0].Details["name"] != "n-001" {
		t.Errorf("a returned event shares memory with the stored one")
	}
}
