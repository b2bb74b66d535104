package events

import (
	"context"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/storage"
)

// An event is recorded even when the request that caused it has ended:
// the caller of an admin call (or of a token import) that closes its
// connection right after the change must not erase the change's audit
// event or webhook delivery.
func TestEmitOutlivesTheRequest(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	f.s.Emit(ctx, Event{API: "fed", Actor: "admin-key:0123456789abcdef", Type: "connections.import", Target: "fed"})
	f.now = f.now.Add(time.Millisecond)
	f.s.Emit(ctx, ConnectionEvent("connection.imported", storage.Connection{API: "fed", ID: "c1", ClientID: "app", Provider: "p"}))
	audit, _, err := f.s.ListAudit(t.Context(), "fed", "", MaxAuditPage)
	if err != nil || len(audit) != 2 {
		t.Errorf("audit trail after a cancelled request: got %+v, %v; want both events", audit, err)
	}
	if evs := f.pending(t); len(evs) != 1 {
		t.Errorf("queued deliveries after a cancelled request: got %d, want 1", len(evs))
	}
}
