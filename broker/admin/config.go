package admin

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/oauth2broker/oauth2broker/broker/connections"
	"github.com/oauth2broker/oauth2broker/broker/events"
	"github.com/oauth2broker/oauth2broker/broker/seal"
	"github.com/oauth2broker/oauth2broker/outbound"
	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/providers/catalog"
	"github.com/oauth2broker/oauth2broker/storage"
)

// Tokens is the part of the token issuer the admin API drives
// (tokens.Issuer).
type Tokens interface {
	// IssuerURL is the issuer of api, shown in the API's view.
	IssuerURL(api string) string
	// Rotate makes a new signing key for api and retires the others
	// once a token of maxTTL signed by them has expired; it returns the
	// new key's id.
	Rotate(ctx context.Context, api storage.API, maxTTL time.Duration) (string, error)
}

// Events is the part of the event stream the admin API drives
// (events.Stream): the audit trail and the clients' webhook secrets.
type Events interface {
	events.Emitter
	// NewSecret makes a client's first webhook secret: the secret, shown
	// once, and its sealed form to store.
	NewSecret(api, clientID string) (secret string, sealed []byte, err error)
	// RotateSecret gives a client a new webhook secret; the old one signs
	// for grace more. It fails with events.ErrNoWebhook for a client
	// without a webhook URL.
	RotateSecret(ctx context.Context, api, clientID string, grace time.Duration) (storage.Client, string, error)
	// DropClient forgets the deliveries queued for a deleted client.
	DropClient(ctx context.Context, api, clientID string)
	// ListAudit returns a page of api's audit trail after the event id
	// after, and the after of the next page ("" on the last).
	ListAudit(ctx context.Context, api, after string, limit int) (page []storage.AuditEvent, next string, err error)
	// ListDeliveries returns a page of the webhook events of api's
	// client, newest first, before the event id before, with status when
	// not empty; and the before of the next page ("" on the last).
	ListDeliveries(ctx context.Context, api, clientID, status, before string, limit int) ([]events.DeliveryView, string, error)
	// RetryNow makes a pending or failed webhook event of the client due
	// now; events.ErrDelivered, events.ErrInFlight or storage.ErrNotFound.
	RetryNow(ctx context.Context, api, clientID, id string) (events.DeliveryView, error)
}

// Connections is the part of the connection manager the admin API
// drives (connections.Manager): deleting a client, a provider or a
// connection revokes its connections upstream first.
type Connections interface {
	// RevokeAll revokes and deletes the connections of api that f selects.
	RevokeAll(ctx context.Context, api storage.API, f storage.ConnectionFilter) (*connections.RevokeResult, error)
	// RevokeByID revokes and deletes one connection of api.
	RevokeByID(ctx context.Context, api storage.API, id string) (*connections.RevokeResult, error)
	// RedirectURI is the callback URL to register at p's provider.
	RedirectURI(p storage.Provider) string
	// Put stores an imported token set, sealed, as the active connection
	// of (clientID, identity, provider), creating or replacing it in one
	// store write; replaced says which.
	Put(ctx context.Context, api storage.API, clientID, identity, provider string, ts *providers.TokenSet) (c storage.Connection, replaced bool, err error)
	// Token returns a connection's tokens, refreshed upstream first when
	// r.Force is set.
	Token(ctx context.Context, api storage.API, r connections.TokenRequest) (*connections.Result, error)
}

// Catalog is the part of the provider catalog that validates a
// provider's template (catalog.Catalog).
type Catalog interface {
	// Check validates cfg against its template.
	Check(cfg providers.Config) error
	// Get returns the template entry called name.
	Get(name string) (*catalog.Entry, bool)
}

// Backuper is a store that can write a consistent copy of itself while
// it serves (the bbolt backend).
type Backuper interface {
	Backup(w io.Writer, size func(int64)) (int64, error)
}

// Config configures an API. Store, Keyring, Tokens, Events, Connections,
// Catalog and LoadAPI are required.
type Config struct {
	// Store holds the records the admin API manages.
	Store storage.Storage
	// Backup, when set, serves GET /backup; without it that route
	// answers 501.
	Backup Backuper
	// Keyring seals provider secrets and keys client-secret hashes.
	Keyring *seal.Keyring
	// Tokens rotates signing keys and names issuers.
	Tokens Tokens
	// Events takes the audit trail and keeps the webhook secrets.
	Events Events
	// Connections revokes the connections of what is deleted.
	Connections Connections
	// Catalog checks provider templates.
	Catalog Catalog
	// Logins tells the login throttle's state; without it
	// GET .../users/{id}/throttle answers 501.
	Logins Logins
	// Outbound is the policy that provider and webhook URLs must pass
	// when they are saved.
	Outbound outbound.Policy
	// AdminToken is the bearer token of the admin API; empty turns the
	// API off (403).
	AdminToken string
	// LoadAPI is the router's middleware that loads the API named by the
	// path parameter :api into the gin context under APIKey, or answers
	// (404 for an unknown API). Required.
	LoadAPI gin.HandlerFunc
	// OnAPIChange, when set, is called after every write of an API (for
	// the router's index of extra token paths).
	OnAPIChange func()
	// Logger receives what the admin API did; slog.Default when nil.
	Logger *slog.Logger
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
}

// API is the admin REST API (/admin/v1) and the declarative apply.
type API struct {
	store       storage.Storage
	backuper    Backuper
	keyring     *seal.Keyring
	tokens      Tokens
	events      Events
	conns       Connections
	catalog     Catalog
	logins      Logins
	outbound    outbound.Policy
	adminToken  string
	loadAPI     gin.HandlerFunc
	onAPIChange func()
	log         *slog.Logger
	now         func() time.Time
	adminMu     sync.Mutex // serialises API writes (token path uniqueness)
	namesMu     sync.Mutex // serialises client and user creation (ids never equal usernames)
}

// New builds the admin API.
func New(cfg Config) (*API, error) {
	if cfg.Store == nil || cfg.Keyring == nil || cfg.Tokens == nil || cfg.Events == nil || cfg.Connections == nil || cfg.Catalog == nil ||
		cfg.LoadAPI == nil {
		return nil, errors.New("admin: Store, Keyring, Tokens, Events, Connections, Catalog and LoadAPI are required")
	}
	s := &API{
		store: cfg.Store, backuper: cfg.Backup, keyring: cfg.Keyring, tokens: cfg.Tokens, events: cfg.Events,
		conns: cfg.Connections, catalog: cfg.Catalog, logins: cfg.Logins, outbound: cfg.Outbound, adminToken: cfg.AdminToken,
		loadAPI: cfg.LoadAPI, onAPIChange: cfg.OnAPIChange, log: cfg.Logger, now: cfg.Now,
	}
	if s.onAPIChange == nil {
		s.onAPIChange = func() {}
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}
