package connections

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/oauth2broker/oauth2broker/broker/connerr"
	"github.com/oauth2broker/oauth2broker/broker/seal"
	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/storage"
)

// Defaults of Config.
const (
	DefaultStateTTL = 10 * time.Minute
	DefaultLeeway   = 60 * time.Second
	// refreshTimeout bounds one shared upstream refresh.
	refreshTimeout = 30 * time.Second
)

// Opener builds a usable upstream from its configuration (with the client
// secret opened). It may make network calls (OIDC discovery).
type Opener func(ctx context.Context, cfg providers.Config) (providers.Provider, error)

// Config configures a Manager.
type Config struct {
	Store   storage.Storage
	Keyring *seal.Keyring
	// Open builds providers; required.
	Open Opener
	// CallbackURL returns the broker's callback URL of an API; required.
	CallbackURL func(api string) string
	// ClientMetadataURL, when set, returns the URL where the broker
	// serves a provider's client ID metadata document (its client_id at
	// an MCP server's authorization server that supports them).
	ClientMetadataURL func(api, provider string) string
	// StateTTL is how long an authorization state lives.
	StateTTL time.Duration
	// Leeway: a token expiring within it is refreshed before it is served.
	Leeway time.Duration
	Logger *slog.Logger
	Now    func() time.Time
	// OnEvent, when set, is told of connection events: "connection.created",
	// "connection.refresh_failed", "connection.needs_reauth",
	// "connection.revoked". c never carries usable tokens to it.
	OnEvent func(ctx context.Context, event string, c storage.Connection)
	// Replicated makes refreshes take a lease on the connection record
	// first, so that broker replicas sharing the store (etcd) refresh each
	// connection exactly once; one process alone needs no lease (the
	// in-process single-flight suffices) and saves that write. The broker
	// sets it to storage.Shared of its store.
	Replicated bool
	// OnRefresh, when set, is told of every upstream refresh: its
	// outcome ("ok", "invalid_grant", "upstream_unavailable", …) and
	// duration.
	OnRefresh func(api, provider, outcome string, d time.Duration)
}

// Manager runs connections. It is safe for concurrent use.
type Manager struct {
	store    storage.Storage
	keyring  *seal.Keyring
	open     Opener
	callback func(string) string
	// metadataURL is Config.ClientMetadataURL.
	metadataURL func(api, provider string) string
	stateTTL    time.Duration
	leeway      time.Duration
	log         *slog.Logger
	now         func() time.Time
	onRefresh   func(api, provider, outcome string, d time.Duration)
	replicated  bool
	onEvent     func(ctx context.Context, event string, c storage.Connection)
	flight      flight
	cacheMu     sync.Mutex
	cache       map[string]openedProvider
	// holds keep refresh ahead away from throttling providers
	// (ahead_pass.go).
	holdMu sync.Mutex
	holds  map[string]providerHold
}

type openedProvider struct {
	updatedAt    time.Time
	registration []byte
	p            providers.Provider
}

// New returns a Manager.
func New(cfg Config) (*Manager, error) {
	if cfg.Store == nil || cfg.Keyring == nil || cfg.Open == nil || cfg.CallbackURL == nil {
		return nil, errors.New("connections: Store, Keyring, Open and CallbackURL are required")
	}
	m := &Manager{
		store: cfg.Store, keyring: cfg.Keyring, open: cfg.Open, callback: cfg.CallbackURL, metadataURL: cfg.ClientMetadataURL,
		stateTTL: cfg.StateTTL, leeway: cfg.Leeway, log: cfg.Logger, now: cfg.Now, onRefresh: cfg.OnRefresh,
		replicated: cfg.Replicated, onEvent: cfg.OnEvent,
		flight: flight{calls: map[string]*call{}}, cache: map[string]openedProvider{}, holds: map[string]providerHold{},
	}
	if m.stateTTL <= 0 {
		m.stateTTL = DefaultStateTTL
	}
	if m.leeway <= 0 {
		m.leeway = DefaultLeeway
	}
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.onEvent == nil {
		m.onEvent = func(context.Context, string, storage.Connection) {}
	}
	if m.onRefresh == nil {
		m.onRefresh = func(string, string, string, time.Duration) {}
	}
	return m, nil
}

// ConnectionID is the record id of the connection of (client, identity,
// provider): derived, so that one combination has one record.
func ConnectionID(clientID, identity, provider string) string {
	sum := sha256.Sum256([]byte(clientID + "\x00" + identity + "\x00" + provider))
	return hex.EncodeToString(sum[:16])
}

// resolveProvider finds the provider a request names, or the API's only
// one when it names none.
func (m *Manager) resolveProvider(ctx context.Context, api, name string) (storage.Provider, error) {
	if name != "" {
		p, err := m.store.GetProvider(ctx, api, name)
		if errors.Is(err, storage.ErrNotFound) {
			return p, connerr.New(connerr.Invalid, "unknown provider")
		}
		return p, err
	}
	all, err := m.store.ListProviders(ctx, api)
	if err != nil {
		return storage.Provider{}, err
	}
	switch len(all) {
	case 0:
		return storage.Provider{}, connerr.New(connerr.Invalid, "this API has no providers")
	case 1:
		return all[0], nil
	}
	return storage.Provider{}, connerr.New(connerr.Invalid, "provider is required: this API has more than one")
}

// ProviderSecretAD is the additional data sealing a provider's client
// secret, binding it to its record.
func ProviderSecretAD(api, name string) []byte { return seal.ProviderSecret.AD(api, name) }

// ProviderConfig converts a stored provider, opening its client secret.
func ProviderConfig(ring *seal.Keyring, p storage.Provider) (providers.Config, error) {
	cfg, err := providers.Decode(p.Name, p.Config)
	if err != nil {
		return cfg, fmt.Errorf("connections: %w", err)
	}
	if len(p.SealedClientSecret) > 0 {
		secret, err := ring.Open(p.SealedClientSecret, ProviderSecretAD(p.API, p.Name))
		if err != nil {
			return cfg, fmt.Errorf("connections: provider %s: client secret: %w", p.Name, err)
		}
		cfg.ClientSecret = string(secret)
	}
	if cfg.Registration, err = OpenRegistration(ring, p); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// settings reads a stored provider's settings; a record that cannot be
// read has none, and fails when opened (ProviderConfig).
func settings(p storage.Provider) providers.Config {
	cfg, _ := providers.Decode(p.Name, p.Config)
	return cfg
}

// provider returns the opened upstream of a stored provider, ready for
// flows: cached until the record changes (or the provider's metadata
// goes stale, providers.Expiring), and registered at the provider first
// when it needs that (providers.Registrar, registration.go).
func (m *Manager) provider(ctx context.Context, p storage.Provider) (providers.Provider, error) {
	work, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
	defer cancel()
	up, fresh, err := m.opened(work, p)
	if err != nil {
		return nil, err
	}
	if !fresh {
		return up, nil // registered when it was opened
	}
	return m.registered(work, ctx, p, up)
}

// opened returns the opened upstream of a stored provider, from the
// cache while it holds the record's version; fresh reports that it was
// opened now.
func (m *Manager) opened(ctx context.Context, p storage.Provider) (up providers.Provider, fresh bool, err error) {
	key := p.API + "\x00" + p.Name
	m.cacheMu.Lock()
	cached, ok := m.cache[key]
	m.cacheMu.Unlock()
	if ok && cached.updatedAt.Equal(p.UpdatedAt) && bytes.Equal(cached.registration, p.SealedRegistration) && !m.stale(cached.p, p) {
		return cached.p, false, nil
	}
	cfg, err := ProviderConfig(m.keyring, p)
	if err != nil {
		return nil, false, err
	}
	if m.metadataURL != nil {
		cfg.ClientMetadataURL = m.metadataURL(p.API, p.Name)
	}
	opened, err := m.open(ctx, cfg)
	if err != nil {
		return nil, false, openError(err)
	}
	if _, ok := opened.(providers.Registrar); ok {
		// Cached once registered (registered), so that a provider that
		// still needs its registration is never served from the cache.
		return opened, true, nil
	}
	m.remember(key, p, opened)
	return opened, true, nil
}

// remember caches an opened provider for the record's version.
func (m *Manager) remember(key string, p storage.Provider, up providers.Provider) {
	m.cacheMu.Lock()
	m.cache[key] = openedProvider{updatedAt: p.UpdatedAt, registration: p.SealedRegistration, p: up}
	m.cacheMu.Unlock()
}

// stale reports whether an opened provider must be opened again: its
// metadata has expired (providers.Expiring), or its registration is due
// for renewal (providers.Registrar).
func (m *Manager) stale(up providers.Provider, p storage.Provider) bool {
	if e, ok := up.(providers.Expiring); ok && !e.Expires().IsZero() && !m.now().Before(e.Expires()) {
		return true
	}
	if r, ok := up.(providers.Registrar); ok {
		_, needed := r.Registration(m.RedirectURI(p), RegistrationLead)
		return needed
	}
	return false
}

// sealTokens seals a token set for a connection record.
func (m *Manager) sealTokens(api, id string, ts *providers.TokenSet) ([]byte, error) {
	plain, err := json.Marshal(ts)
	if err != nil {
		return nil, err
	}
	return m.keyring.Seal(plain, seal.ConnectionTokens.AD(api, id))
}

// openTokens opens a connection's token set.
func (m *Manager) openTokens(c storage.Connection) (*providers.TokenSet, error) {
	plain, err := m.keyring.Open(c.SealedTokens, seal.ConnectionTokens.AD(c.API, c.ID))
	if err != nil {
		return nil, fmt.Errorf("connections: connection %s: %w", c.ID, err)
	}
	var ts providers.TokenSet
	if err := json.Unmarshal(plain, &ts); err != nil {
		return nil, fmt.Errorf("connections: connection %s: %w", c.ID, err)
	}
	return &ts, nil
}

// randomString returns n random bytes, URL-safe base64.
func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Close waits for refreshes in flight to finish (and store their
// results); call it before closing the store.
func (m *Manager) Close() { m.flight.wait() }
