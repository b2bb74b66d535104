package proxy

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/oauth2broker/oauth2broker/broker/connections"
	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/outbound"
	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/storage"
)

// Route is the proxy's route under an API's group.
const Route = "/oauth2/proxy/:provider/*path"

// RouteBase is the proxy's route to the API base URL itself, no path
// after it: an MCP server's URL (the default base of an MCP provider)
// is its endpoint.
const RouteBase = "/oauth2/proxy/:provider"

// Defaults of the bounds.
const (
	DefaultMaxBody       = 10 << 20 // request body
	DefaultReplayBody    = 1 << 20  // buffered to retry after a 401
	DefaultMaxAnswer     = 64 << 20 // answer body
	DefaultTimeout       = 30 * time.Second
	DefaultStreamTimeout = 10 * time.Minute
	// DefaultIdlePerHost is how many idle connections to one upstream
	// host the proxy keeps for its next calls, unless Config.Outbound
	// sets its own.
	DefaultIdlePerHost = 64
)

// ProviderStore reads provider settings (storage.Storage has it).
type ProviderStore interface {
	GetProvider(ctx context.Context, api, name string) (storage.Provider, error)
}

// Config builds a Proxy. Store, Connections, Authenticate, API and
// APIBases are required; zero bounds take the defaults.
type Config struct {
	Store       ProviderStore
	Connections *connections.Manager
	// Authenticate authenticates the client of the request and checks
	// that it may use the proxy; on false it has recorded the error.
	Authenticate func(c *gin.Context) (storage.Client, bool)
	// API returns the API the request's path named (already loaded).
	API func(c *gin.Context) storage.API
	// APIBases returns a provider's API base URLs, template defaults
	// and {var}s resolved (catalog.Catalog.APIBaseURLs).
	APIBases func(providers.Config) ([]string, error)
	// Outbound is the policy every upstream call obeys (schemes, denied
	// addresses); its MaxBody is replaced by MaxAnswer.
	Outbound outbound.Policy
	// MaxBody bounds the request body (413 above); MaxAnswer the answer
	// body; ReplayBody is what is buffered so that the request can be
	// sent again after a 401 (a larger body passes the 401 through).
	MaxBody, ReplayBody, MaxAnswer int64
	// Timeout bounds an exchange until the whole answer is read;
	// StreamTimeout replaces it once a text/event-stream answer starts.
	Timeout, StreamTimeout time.Duration
	// OnAnswer, when set, is told of every proxied call: the provider
	// and the status the client got (0 when the upstream was not
	// reached or failed).
	OnAnswer func(provider string, status int, elapsed time.Duration)
	Logger   *slog.Logger
	Now      func() time.Time
}

// Proxy serves the upstream API proxy.
type Proxy struct {
	cfg    Config
	client *http.Client
}

// New returns a Proxy.
func New(cfg Config) (*Proxy, error) {
	if cfg.Store == nil || cfg.Connections == nil || cfg.Authenticate == nil || cfg.API == nil || cfg.APIBases == nil {
		return nil, errors.New("proxy: Store, Connections, Authenticate, API and APIBases are required")
	}
	def := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&cfg.MaxBody, DefaultMaxBody)
	def(&cfg.ReplayBody, DefaultReplayBody)
	def(&cfg.MaxAnswer, DefaultMaxAnswer)
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.StreamTimeout <= 0 {
		cfg.StreamTimeout = DefaultStreamTimeout
	}
	cfg.ReplayBody = min(cfg.ReplayBody, cfg.MaxBody)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	policy := cfg.Outbound
	policy.MaxBody = cfg.MaxAnswer
	if policy.IdlePerHost == 0 {
		// Proxied calls go to a few API hosts, many at once: keep a
		// connection for each rather than dial per call.
		policy.IdlePerHost = DefaultIdlePerHost
	}
	// Redirects come back to ServeHTTP, which passes on only those that
	// stay on an allowed base.
	client := &http.Client{Transport: policy.Transport(), CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	return &Proxy{cfg: cfg, client: client}, nil
}

// Routes mounts the proxy, for each of Methods, on an API's group.
func (p *Proxy) Routes(api gin.IRoutes) {
	for _, m := range Methods {
		api.Handle(m, Route, p.serve)
		api.Handle(m, RouteBase, p.serve)
	}
}

// Methods are the methods the proxy forwards (CONNECT and TRACE are not).
var Methods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodOptions}

// IsProxyRoute reports whether a matched route (gin's FullPath) is the
// proxy's, whose body bound is MaxBody rather than the broker's.
func IsProxyRoute(fullPath string) bool {
	return strings.HasSuffix(fullPath, Route) || strings.HasSuffix(fullPath, RouteBase)
}

// providerKey holds, in the gin context, the provider name once it is
// known to exist.
const providerKey = "proxy.provider"

// call is one proxied request being served.
type call struct {
	api      storage.API
	client   storage.Client
	identity string
	provider string
	bases    []*url.URL
	target   *url.URL
	body     *body
	// granted is the connection's scope, once its token was read.
	granted string
	// sent is the connections.TokenHash of the access token sent last.
	sent []byte
}

func (p *Proxy) serve(c *gin.Context) {
	start := p.cfg.Now()
	status := 0
	defer func() {
		if p.cfg.OnAnswer != nil {
			// Only a provider that exists names a series: a made-up
			// name in the path must not grow the metrics.
			p.cfg.OnAnswer(c.GetString(providerKey), status, p.cfg.Now().Sub(start))
		}
	}()
	k, err := p.prepare(c)
	if err != nil {
		fail(c, err)
		return
	}
	if k == nil {
		return // Authenticate recorded its error
	}
	status, err = p.forward(c, k)
	if err != nil {
		fail(c, err)
	}
}

// fail records err for the broker's error renderer.
func fail(c *gin.Context, err error) {
	_ = c.Error(err)
	c.Abort()
}

// prepare authenticates the client and resolves identity, provider,
// target and body; nil with no error when Authenticate refused.
func (p *Proxy) prepare(c *gin.Context) (*call, error) {
	client, ok := p.cfg.Authenticate(c)
	if !ok {
		return nil, nil
	}
	k := &call{api: p.cfg.API(c), client: client, identity: c.GetHeader(HeaderIdentity), provider: c.Param("provider")}
	if k.identity == "" {
		return nil, protocol.ErrInvalidRequest.WithDescription("the " + HeaderIdentity + " header is required")
	}
	if err := connections.CheckIdentity(k.identity); err != nil {
		return nil, err
	}
	if err := p.resolve(c, k); err != nil {
		return nil, err
	}
	b, err := readBody(c, p.cfg.MaxBody, p.cfg.ReplayBody)
	if err != nil {
		return nil, err
	}
	k.body = b
	return k, nil
}
