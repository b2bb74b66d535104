package events

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/broker/seal"
	"github.com/oauth2broker/oauth2broker/outbound"
	"github.com/oauth2broker/oauth2broker/storage"
	"github.com/oauth2broker/oauth2broker/storage/bbolt"
)

// fixture is a Stream on a bbolt store with a fixed clock, and a client
// "app" of API "fed" whose webhook answers status.
type fixture struct {
	s      *Stream
	store  storage.Storage
	ring   *seal.Keyring
	now    time.Time
	calls  atomic.Int32
	status atomic.Int32
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, err := bbolt.Open(bbolt.Config{Path: filepath.Join(t.TempDir(), "e.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	key, _ := seal.GenerateKey()
	ring, _ := seal.NewKeyring(key)
	f := &fixture{store: db, ring: ring, now: time.Now().UTC()}
	f.status.Store(http.StatusOK)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		f.calls.Add(1)
		w.WriteHeader(int(f.status.Load()))
	}))
	t.Cleanup(hook.Close)
	f.s = f.stream(t)
	ctx := t.Context()
	if err := db.CreateAPI(ctx, storage.API{Name: "fed", CreatedAt: f.now}); err != nil {
		t.Fatal(err)
	}
	cl := storage.Client{API: "fed", ID: "app", WebhookURL: hook.URL, CreatedAt: f.now}
	if _, cl.SealedWebhookSecret, err = f.s.NewSecret("fed", "app"); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateClient(ctx, cl); err != nil {
		t.Fatal(err)
	}
	return f
}

// stream is another Stream on the fixture's store and clock, as another
// replica's.
func (f *fixture) stream(t *testing.T) *Stream {
	t.Helper()
	s, err := New(Config{Store: f.store, Keyring: f.ring, Outbound: outbound.Policy{AllowHTTPLoopback: true},
		Retry: time.Second, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (f *fixture) pending(t *testing.T) []storage.WebhookEvent {
	t.Helper()
	evs, err := f.store.ListWebhookEvents(t.Context(), "fed")
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// A connection event is audited and queued for the client's webhook; an
// admin event is audited only.
func TestEmit(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	f.s.Emit(ctx, Event{API: "fed", Actor: "admin", Type: "client.created", Target: "app"})
	f.now = f.now.Add(time.Millisecond) // ids sort by time
	f.s.Emit(ctx, ConnectionEvent("connection.created", storage.Connection{API: "fed", ID: "c1", ClientID: "app", Provider: "p"}))
	audit, _, err := f.s.ListAudit(ctx, "fed", "", MaxAuditPage)
	if err != nil || len(audit) != 2 || audit[0].Action != "client.created" || audit[1].Actor != "app" || audit[1].Details["provider"] != "p" {
		t.Errorf("audit trail: got %+v, %v", audit, err)
	}
	if evs := f.pending(t); len(evs) != 1 || evs[0].Type != "connection.created" {
		t.Errorf("queued deliveries: got %+v, want the connection event", evs)
	}
	if !audit[0].ExpiresAt.Equal(audit[0].CreatedAt.Add(DefaultAuditRetention)) {
		t.Errorf("audit expiry: got %v, want created + DefaultAuditRetention", audit[0].ExpiresAt)
	}
}

// A failed delivery is retried after a doubling delay and given up after
// the last attempt.
func TestDeliveryRetries(t *testing.T) {
	f := newFixture(t)
	f.status.Store(http.StatusServiceUnavailable)
	f.s.Emit(t.Context(), ConnectionEvent("connection.revoked", storage.Connection{API: "fed", ID: "c1", ClientID: "app"}))
	for attempt := 1; attempt < deliveryAttempts; attempt++ {
		f.s.deliverDue(t.Context())
		evs := f.pending(t)
		if len(evs) != 1 || evs[0].Attempts != attempt {
			t.Fatalf("after attempt %d: got %+v", attempt, evs)
		}
		want := min(time.Second<<(attempt-1), maxDeliveryDelay)
		if got := evs[0].NextAt.Sub(f.now); got != want {
			t.Errorf("delay after attempt %d: got %v, want %v", attempt, got, want)
		}
		f.s.deliverDue(t.Context()) // not yet due: nothing sent
		f.now = evs[0].NextAt
	}
	f.s.deliverDue(t.Context())
	if evs := f.pending(t); len(evs) != 1 || evs[0].Status != DeliveryFailed || evs[0].LastStatus != http.StatusServiceUnavailable ||
		evs[0].Attempts != deliveryAttempts {
		t.Errorf("after the last attempt: got %+v, want the event kept as given up", evs)
	}
	f.s.deliverDue(t.Context()) // given up: not sent again
	if n := f.calls.Load(); n != deliveryAttempts {
		t.Errorf("calls: got %d, want %d", n, deliveryAttempts)
	}
}

// Of two replicas that read the same due event, one alone delivers it.
func TestClaimOneReplica(t *testing.T) {
	f := newFixture(t)
	other := f.stream(t)
	f.s.Emit(t.Context(), ConnectionEvent("connection.created", storage.Connection{API: "fed", ID: "c1", ClientID: "app"}))
	e := f.pending(t)[0]
	if !f.s.claim(t.Context(), e) {
		t.Fatal("the first claim failed")
	}
	if other.claim(t.Context(), e) {
		t.Error("a second replica claimed the event read before the first claim")
	}
	other.deliverDue(t.Context())
	if n := f.calls.Load(); n != 0 {
		t.Errorf("calls while claimed: got %d, want 0", n)
	}
}

// A deleted client's pending deliveries are dropped.
func TestDropClient(t *testing.T) {
	f := newFixture(t)
	f.s.Emit(t.Context(), ConnectionEvent("connection.created", storage.Connection{API: "fed", ID: "c1", ClientID: "app"}))
	f.s.DropClient(t.Context(), "fed", "app")
	if evs := f.pending(t); len(evs) != 0 {
		t.Errorf("after DropClient: got %+v", evs)
	}
}
