package events

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/oauth2broker/oauth2broker/broker/seal"
	"github.com/oauth2broker/oauth2broker/outbound"
	"github.com/oauth2broker/oauth2broker/storage"
)

// Event is one thing that happened in an API: an administrative change
// ("client.created", actor "admin") or a connection event
// ("connection.created", actor the client; see ConnectionEvent).
type Event struct {
	API     string
	Actor   string
	Type    string
	Target  string
	Details map[string]string // never secrets
	// Connection, when set, is the connection a connection event is
	// about: the event is also delivered to its client's webhook.
	Connection *storage.Connection
}

// ConnectionEvent is the event typ ("connection.created",
// "connection.needs_reauth", …) about c.
func ConnectionEvent(typ string, c storage.Connection) Event {
	return Event{
		API: c.API, Actor: c.ClientID, Type: typ, Target: c.ID, Connection: &c,
		Details: map[string]string{
			"provider": c.Provider, "client_user_identity": c.Identity, "status": c.Status, "last_error": c.LastError,
		},
	}
}

// Emitter takes events. Emit records an event; a failure to record is
// logged, not returned: what the event tells of has happened.
type Emitter interface {
	Emit(ctx context.Context, e Event)
}

// Config configures a Stream.
type Config struct {
	// Store keeps the audit trail and the pending deliveries. Required.
	Store storage.Storage
	// Keyring opens the webhook secrets. Required.
	Keyring *seal.Keyring
	// Outbound is the policy of webhook deliveries (the zero Policy: https
	// to any address).
	Outbound outbound.Policy
	// Retry is the first delay before a failed delivery is tried again (it
	// doubles per attempt); one second when zero.
	Retry time.Duration
	// AuditRetention is how long audit events are kept;
	// DefaultAuditRetention when zero, for ever when negative.
	AuditRetention time.Duration
	// Logger receives delivery failures; slog.Default when nil.
	Logger *slog.Logger
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
}

// Stream is the broker's stream of events: it audits them and delivers
// connection events to webhooks.
type Stream struct {
	store    storage.Storage
	keyring  *seal.Keyring
	client   *http.Client
	log      *slog.Logger
	now      func() time.Time
	retry    time.Duration
	auditTTL time.Duration // 0: keep for ever
	wake     chan struct{}
}

var _ Emitter = (*Stream)(nil)

// New builds a Stream. Nothing is delivered until Run.
func New(cfg Config) (*Stream, error) {
	if cfg.Store == nil || cfg.Keyring == nil {
		return nil, errors.New("events: Store and Keyring are required")
	}
	s := &Stream{store: cfg.Store, keyring: cfg.Keyring, log: cfg.Logger, now: cfg.Now, retry: cfg.Retry,
		wake: make(chan struct{}, 1)}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.retry <= 0 {
		s.retry = time.Second
	}
	switch {
	case cfg.AuditRetention == 0:
		s.auditTTL = DefaultAuditRetention
	case cfg.AuditRetention > 0:
		s.auditTTL = cfg.AuditRetention
	}
	s.client = cfg.Outbound.Client(deliveryTimeout)
	return s, nil
}

// emitTimeout bounds the store writes of one Emit.
const emitTimeout = 10 * time.Second

// Emit audits e and, for a connection event of a client with a webhook,
// stores the delivery and wakes the deliverer.
func (s *Stream) Emit(ctx context.Context, e Event) {
	// The change is made: its record must not go with the request (a
	// caller closing its connection cancels ctx), nor wait forever.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), emitTimeout)
	defer cancel()
	s.audit(ctx, e)
	if e.Connection != nil {
		s.enqueue(ctx, e.Type, *e.Connection)
	}
}

// newID is a time-ordered unique id of an audit event or delivery.
func newID(now time.Time) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%013x-%s", now.UnixMilli(), hex.EncodeToString(b))
}
