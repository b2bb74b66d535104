package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/oauth2broker/oauth2broker/broker/admin"
	"github.com/oauth2broker/oauth2broker/broker/connections"
	"github.com/oauth2broker/oauth2broker/broker/connectpage"
	"github.com/oauth2broker/oauth2broker/broker/console"
	"github.com/oauth2broker/oauth2broker/broker/events"
	"github.com/oauth2broker/oauth2broker/broker/grants"
	"github.com/oauth2broker/oauth2broker/broker/jobs"
	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/broker/proxy"
	"github.com/oauth2broker/oauth2broker/broker/reseal"
	"github.com/oauth2broker/oauth2broker/broker/seal"
	"github.com/oauth2broker/oauth2broker/broker/tokens"
	"github.com/oauth2broker/oauth2broker/outbound"
	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/providers/catalog"
	"github.com/oauth2broker/oauth2broker/providers/oauth"
	"github.com/oauth2broker/oauth2broker/storage"
	"github.com/oauth2broker/oauth2broker/storage/cached"
	"github.com/oauth2broker/oauth2broker/storage/lastknown"
)

// Config configures a Server.
type Config struct {
	// Store is the persistence backend. Required.
	Store storage.Storage
	// Keyring seals secrets at rest. Required.
	Keyring *seal.Keyring
	// PublicURL is the external base URL of the broker, without a
	// trailing slash: issuers are PublicURL/{api}. Required.
	PublicURL string
	// AdminToken enables the admin API when non-empty.
	AdminToken string
	// Logger receives the access log and errors; slog.Default when nil.
	Logger *slog.Logger
	// Catalog resolves provider templates and opens providers; cmd
	// passes catalog.Load(). Required.
	Catalog *catalog.Catalog
	// OpenProvider builds upstream providers; Catalog.Opener(a client of
	// the Outbound policy, Now) when nil.
	OpenProvider connections.Opener
	// WebhookRetry is the first delay before a failed webhook delivery is
	// tried again (it doubles per attempt); one second when zero.
	WebhookRetry time.Duration
	// RefreshAhead, when positive, renews connections whose access token
	// expires within it, in the background (every RefreshAhead/2, at most
	// every minute, four at a time).
	RefreshAhead time.Duration
	// StateTTL is the lifetime of an upstream authorization state;
	// connections.DefaultStateTTL when zero.
	StateTTL time.Duration
	// GCInterval is how often expired states, token records, keys and
	// audit events are deleted; one minute when zero, never when negative.
	GCInterval time.Duration
	// AuditRetention is how long audit events are kept;
	// DefaultAuditRetention when zero, for ever when negative.
	AuditRetention time.Duration
	// Outbound is the policy of the calls the broker makes to providers
	// (token, refresh, revocation, discovery, JWKS) and webhooks; when nil,
	// DefaultOutbound: https only, outbound.DefaultDeny refused.
	Outbound *outbound.Policy
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
	// TrustedProxies lists the reverse proxies (IP addresses or CIDR
	// prefixes) whose X-Forwarded-For header names the client, for the
	// password grant's throttling; with none, the client is the TCP peer.
	TrustedProxies []string
	// Password bounds the password grant's hashing and failed logins
	// (zero values: the defaults).
	Password grants.PasswordLimits
	// Proxy bounds the upstream API proxy (zero values: the defaults of
	// broker/proxy).
	Proxy ProxyLimits
}

// ProxyLimits bound the upstream API proxy's calls.
type ProxyLimits struct {
	// MaxBody bounds a request body (proxy.DefaultMaxBody, 10 MiB);
	// ReplayBody is the part buffered so that a call can be retried
	// after an upstream 401 (proxy.DefaultReplayBody, 1 MiB).
	MaxBody, ReplayBody int64
	// MaxAnswer bounds an answer body (proxy.DefaultMaxAnswer, 64 MiB).
	MaxAnswer int64
	// Timeout bounds a call until its answer is read
	// (proxy.DefaultTimeout, 30s); StreamTimeout replaces it once a
	// text/event-stream answer starts (proxy.DefaultStreamTimeout, 10m).
	Timeout, StreamTimeout time.Duration
}

// DefaultAuditRetention is how long audit events are kept by default.
const DefaultAuditRetention = events.DefaultAuditRetention

// Server is the broker's HTTP handler.
type Server struct {
	store  storage.Storage // reads through lastKnown on a shared store
	shared storage.Storage // the store as configured, for its optional interfaces
	// lastKnown answers settings reads while a shared store is
	// unavailable; nil on a store of one process.
	lastKnown *lastknown.Store
	keyring   *seal.Keyring
	tokens    *tokens.Issuer
	grants    *grants.Dispatcher
	conns     *connections.Manager
	catalog   *catalog.Catalog
	events    *events.Stream  // audit trail and webhook delivery
	outbound  outbound.Policy // checks provider and webhook URLs when saved
	metrics   *metrics
	log       *slog.Logger
	now       func() time.Time
	engine    *gin.Engine
	paths     tokenPathIndex
	admin     *admin.API // the admin API and declarations
	ready     *readiness // what /readyz answers (readiness.go)
	stopGC    context.CancelFunc
	gcDone    chan struct{}
	proxies   *protocol.TrustedProxies // whose X-Forwarded-For is believed
	resealer  *reseal.Resealer         // seals again after a key rotation
	connect   *connectpage.Page        // the end users' connect page
	proxy     *proxy.Proxy             // the upstream API proxy
	console   *console.Console         // the admin console; nil without the admin API

	// cache answers the API, client and provider reads of every request
	// (storage/cached); store reads through it.
	cache *cached.Store
}

// New builds a Server. Background work (garbage collection) runs until
// Close.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Keyring == nil || cfg.PublicURL == "" {
		return nil, errors.New("broker: Store, Keyring and PublicURL are required")
	}
	s := &Server{
		store: cfg.Store, shared: cfg.Store, keyring: cfg.Keyring,
		log: cfg.Logger, now: cfg.Now,
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	proxies, err := protocol.ParseTrustedProxies(cfg.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	s.proxies = proxies
	s.log = slog.New(requestIDHandler{Handler: s.log.Handler()})
	if s.now == nil {
		s.now = time.Now
	}
	s.ready = &readiness{store: cfg.Store, now: s.now, log: s.log}
	if storage.Shared(cfg.Store) {
		// A shared store: its watch keeps what lastKnown remembers current.
		s.lastKnown = lastknown.Wrap(cfg.Store, lastknown.Config{Now: s.now})
		s.store = s.lastKnown
	}
	s.cache = cached.Wrap(s.store, cached.Config{TTL: settingsCacheTTL(cfg.Store), Now: s.now})
	s.store = s.cache
	s.metrics = newMetrics()
	s.outbound = DefaultOutbound()
	if cfg.Outbound != nil {
		s.outbound = *cfg.Outbound
	}
	s.events, err = events.New(events.Config{Store: s.store, Keyring: cfg.Keyring, Outbound: s.outbound,
		Retry: cfg.WebhookRetry, AuditRetention: cfg.AuditRetention, Logger: s.log, Now: s.now})
	if err != nil {
		return nil, err
	}
	iss, err := tokens.New(tokens.Config{Store: s.store, Keyring: cfg.Keyring, PublicURL: strings.TrimRight(cfg.PublicURL, "/"), Now: s.now})
	if err != nil {
		return nil, err
	}
	s.tokens = iss
	s.catalog = cfg.Catalog
	if s.catalog == nil {
		return nil, errors.New("broker: Catalog is required")
	}
	open := cfg.OpenProvider
	if open == nil {
		open = s.catalog.Opener(s.outbound.Client(oauth.DefaultTimeout), s.now)
	}
	s.conns, err = connections.New(connections.Config{
		Store: s.store, Keyring: cfg.Keyring, Open: open, StateTTL: cfg.StateTTL, Logger: s.log, Now: s.now,
		OnRefresh:  s.metrics.onRefresh,
		Replicated: storage.Shared(cfg.Store),
		OnEvent: func(ctx context.Context, event string, c storage.Connection) {
			s.events.Emit(ctx, events.ConnectionEvent(event, c))
		},
		CallbackURL:       func(api string) string { return iss.IssuerURL(api) + "/oauth2/provider/callback" },
		ClientMetadataURL: s.clientMetadataURL,
	})
	if err != nil {
		return nil, err
	}
	s.grants = grants.New(grants.Config{Store: s.store, Keyring: cfg.Keyring, Tokens: iss, Connections: s.conns, Now: s.now,
		Password: cfg.Password})
	s.paths = tokenPathIndex{store: s.store, now: s.now}
	backup, _ := cfg.Store.(admin.Backuper)
	s.admin, err = admin.New(admin.Config{Store: s.store, Backup: backup, Keyring: cfg.Keyring, Tokens: iss, Events: s.events,
		Connections: s.conns, Catalog: s.catalog, Logins: s.grants, Outbound: s.outbound, AdminToken: cfg.AdminToken,
		LoadAPI: s.loadAPI, OnAPIChange: s.paths.invalidate, Logger: s.log, Now: s.now})
	if err != nil {
		return nil, err
	}
	s.resealer = reseal.New(reseal.Config{Store: s.cache.Forgetting(cfg.Store), Keyring: cfg.Keyring, Connections: s.conns, Logger: s.log})
	s.connect, err = connectpage.New(connectpage.Config{Store: s.store, Keyring: cfg.Keyring, Connections: s.conns,
		Authenticate: s.connectionClient, API: currentAPI, PublicURL: cfg.PublicURL, Logger: s.log, Now: s.now})
	if err != nil {
		return nil, err
	}
	s.proxy, err = proxy.New(proxy.Config{Store: s.store, Connections: s.conns, Authenticate: s.proxyClient, API: currentAPI,
		APIBases: s.catalog.APIBaseURLs, Outbound: s.outbound, MaxBody: cfg.Proxy.MaxBody, ReplayBody: cfg.Proxy.ReplayBody,
		MaxAnswer: cfg.Proxy.MaxAnswer, Timeout: cfg.Proxy.Timeout, StreamTimeout: cfg.Proxy.StreamTimeout,
		OnAnswer: s.metrics.onProxy, Logger: s.log, Now: s.now})
	if err != nil {
		return nil, err
	}
	if cfg.AdminToken != "" {
		// The console's pages call the admin API through the router.
		router := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.engine.ServeHTTP(w, r) })
		s.console, err = console.New(console.Config{Admin: router, Keyring: cfg.Keyring, Catalog: s.catalog,
			PublicURL: cfg.PublicURL, Logger: s.log, Now: s.now})
		if err != nil {
			return nil, err
		}
	}
	s.engine = s.routes()
	s.startGC(ctx, cfg.GCInterval, cfg.RefreshAhead)
	return s, nil
}

// sharedCacheTTL bounds how long a replica answers an API, client or
// provider from memory without reading it again, on a store that several
// replicas share: their watch makes it forget a record another replica
// changed as soon as the change is heard; the TTL bounds the staleness
// when the watch is not open yet, or is cut off from the cluster.
const sharedCacheTTL = time.Second

// settingsCacheTTL is sharedCacheTTL on a shared store; a store only this
// process writes (bbolt) needs none: every write goes through the cache.
func settingsCacheTTL(s storage.Storage) time.Duration {
	if storage.Shared(s) {
		return sharedCacheTTL
	}
	return 0
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.engine.ServeHTTP(w, r) }

// Close stops background work and waits for upstream refreshes in flight
// to store their results. It does not close the store.
func (s *Server) Close() {
	if s.stopGC != nil {
		s.stopGC()
		<-s.gcDone
	}
	s.conns.Close()
	s.grants.Wait()
}

// startGC runs the background work until Close: garbage collection every
// `every`, and, with ahead set, refreshing connections ahead of expiry.
func (s *Server) startGC(ctx context.Context, every, ahead time.Duration) {
	if every == 0 {
		every = time.Minute
	}
	ctx, s.stopGC = context.WithCancel(ctx)
	s.gcDone = make(chan struct{})
	var wg sync.WaitGroup
	if every > 0 {
		wg.Add(1)
		go func() { defer wg.Done(); jobs.Every(ctx, every, s.collect) }()
	}
	wg.Add(1)
	go func() { defer wg.Done(); s.events.Run(ctx) }()
	if s.keyring.HasOldKeys() {
		wg.Add(1)
		go func() { defer wg.Done(); s.resealer.RunAtStart(ctx) }()
	}
	if w, ok := s.shared.(storage.Watcher); ok {
		wg.Add(1)
		go func() { defer wg.Done(); s.watchStore(ctx, w) }()
	}
	if ahead > 0 {
		job := func(ctx context.Context) {
			jobs.Every(ctx, min(ahead/2, time.Minute), func(ctx context.Context) {
				if n, err := s.conns.RefreshAhead(ctx, ahead, 4); err != nil {
					s.log.Error("refresh ahead failed", "err", err)
				} else if n > 0 {
					s.log.Info("refreshed ahead of expiry", "connections", n)
				}
			})
		}
		wg.Add(1)
		elector, _ := s.shared.(storage.Elector)
		leader := jobs.Leader{Elector: elector, Logger: s.log, Leading: s.metrics.onLeading}
		go func() { defer wg.Done(); leader.Run(ctx, "refresh-ahead", job) }()
	}
	go func() { wg.Wait(); close(s.gcDone) }()
}

// ResealResult counts the values Reseal sealed again, by kind.
type ResealResult = reseal.Result

// Reseal seals again under the primary encryption key every value sealed
// under an older key of the ring (see reseal.Resealer.Run), so that after
// a key rotation the old key can be dropped. Safe to run on several
// replicas at once; with no old keys in the ring it does nothing.
func (s *Server) Reseal(ctx context.Context) (ResealResult, error) {
	return s.resealer.Run(ctx)
}

// watchStore drops what this replica caches of the APIs, their signing
// keys, clients, users and providers when the store says another replica
// changed them, or everything when it says changes were lost, until ctx
// ends.
func (s *Server) watchStore(ctx context.Context, w storage.Watcher) {
	kinds := []string{storage.KindAPIs, storage.KindSigningKeys, storage.KindClients, storage.KindUsers, storage.KindProviders}
	_ = w.Watch(ctx, kinds, func(c storage.Change) {
		if s.lastKnown != nil {
			s.lastKnown.Changed(c)
		}
		s.cache.Changed(c)
		switch c.Kind {
		case storage.KindAPIs:
			s.paths.invalidate()
			s.tokens.Forget(c.API)
		case storage.KindSigningKeys:
			s.tokens.Forget(c.API)
		case "": // changes were lost
			s.paths.invalidate()
			s.tokens.Forget("")
		}
	})
}

// collect deletes expired states, token records and keys.
func (s *Server) collect(ctx context.Context) {
	n, err := s.store.GarbageCollect(ctx, s.now())
	if err != nil {
		s.ready.note(err)
		s.log.Error("garbage collection failed", "err", err)
	} else if n.States+n.IssuedTokens+n.SigningKeys+n.AuditEvents > 0 {
		s.log.Info("garbage collected", "states", n.States, "issued_tokens", n.IssuedTokens, "signing_keys", n.SigningKeys,
			"audit_events", n.AuditEvents)
	}
}

// ImportConnection stores a token set obtained elsewhere as the active
// connection of (clientID, identity, provider) in api (see
// connections.Manager.Import).
func (s *Server) ImportConnection(ctx context.Context, api, clientID, identity, provider string, ts *providers.TokenSet) error {
	a, err := s.store.GetAPI(ctx, api)
	if err != nil {
		return err
	}
	return s.conns.Import(ctx, a, clientID, identity, provider, ts)
}

// Apply makes the store match a declarative set-up (see
// admin.API.Declare).
func (s *Server) Apply(ctx context.Context, d admin.Declaration) error {
	return s.admin.Declare(ctx, d)
}

// Route is one method and path pattern the server answers.
type Route struct{ Method, Path string }

// Routes lists the server's routes (path parameters as :name), for
// documentation checks.
func (s *Server) Routes() []Route {
	var out []Route
	for _, r := range s.engine.Routes() {
		out = append(out, Route{Method: r.Method, Path: r.Path})
	}
	return out
}
