package demomcp

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Default values of Config.
const (
	// DefaultUser is the subject the authorization server logs in when
	// neither Config.User nor a login_hint names one.
	DefaultUser = "demo-user"
	// ToolsScope is the default base scope: every request to the MCP
	// endpoint needs it.
	ToolsScope = "mcp:tools"
	// AdminScope is the default scope of the admin_echo tool, the one a
	// client gets only by asking for it (step-up).
	AdminScope = "mcp:admin"
	// DefaultTokenTTL is the default access-token lifetime.
	DefaultTokenTTL = time.Hour
	// codeTTL bounds the life of an authorization code (RFC 6749 §4.1.2
	// recommends at most 10 minutes).
	codeTTL = time.Minute
)

// Paths under Config.BaseURL.
const (
	mcpPath           = "/mcp"
	issuerPath        = "/as"
	resourceMetaPath  = "/.well-known/oauth-protected-resource"
	authServerMetaPfx = "/.well-known/oauth-authorization-server"
)

// Config configures New. Only BaseURL is required.
type Config struct {
	// BaseURL is where Handler will be served: http://127.0.0.1:PORT (or
	// an https URL), without a trailing slash. Required.
	BaseURL string
	// User is the subject logged in when the authorization request has no
	// login_hint. Default DefaultUser.
	User string
	// BaseScope is needed by every MCP request and granted when an
	// authorization request names no scope. Default ToolsScope.
	BaseScope string
	// AdminScope is the extra scope the admin_echo tool needs. Default
	// AdminScope.
	AdminScope string
	// TokenTTL is the access-token lifetime. Default DefaultTokenTTL.
	TokenTTL time.Duration
	// ClientSecretTTL is the lifetime of the secrets handed out by dynamic
	// registration (client_secret_expires_at); zero means they never
	// expire. An expired secret is refused with invalid_client.
	ClientSecretTTL time.Duration
	// DisableCIMD turns client ID metadata documents off: the metadata no
	// longer advertises them and URL client ids are unknown.
	DisableCIMD bool
	// DisableDCR turns RFC 7591 dynamic registration off: no
	// registration_endpoint, and the route answers 404.
	DisableDCR bool
	// OmitResourceMetadataHint leaves resource_metadata out of the 401
	// challenge, so a client must find the protected resource metadata at
	// its well-known URL (RFC 9728 §3).
	OmitResourceMetadataHint bool
	// Clients are pre-registered clients.
	Clients []Client
	// Approve, when set, decides an authorization request instead of the
	// automatic approval: it returns the subject to log in, or an error to
	// answer access_denied. The default approves as the login_hint, else
	// as User.
	Approve func(AuthorizeRequest) (subject string, err error)
	// HTTPClient fetches client ID metadata documents. Default: a client
	// with a 10 s timeout that follows no redirect.
	HTTPClient *http.Client
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Client is a pre-registered client. With an empty Secret it is a public
// client (token_endpoint_auth_method "none").
type Client struct {
	ID, Secret   string
	RedirectURIs []string
}

// AuthorizeRequest is what Config.Approve is asked to decide.
type AuthorizeRequest struct {
	ClientID, RedirectURI, LoginHint, Resource string
	Scopes                                     []string
}

// Demo is a ready MCP server and authorization server: serve Handler at
// BaseURL.
type Demo struct {
	// BaseURL is Config.BaseURL.
	BaseURL string
	// Resource is the MCP endpoint, BaseURL+"/mcp": the URL clients
	// connect to and the RFC 8707 resource its tokens must be bound to.
	Resource string
	// ResourceMetadataURL is the RFC 9728 protected resource metadata
	// (path-based: /.well-known/oauth-protected-resource/mcp; the same
	// document is also served at /.well-known/oauth-protected-resource).
	ResourceMetadataURL string
	// Issuer is the authorization server, BaseURL+"/as".
	Issuer string
	// AuthServerMetadataURL is the RFC 8414 metadata,
	// BaseURL+"/.well-known/oauth-authorization-server/as".
	AuthServerMetadataURL string
	// The authorization server's endpoints.
	AuthorizeURL, TokenURL, RegistrationURL, RevocationURL string
	// Scopes are the scopes supported: the base scope, then the admin one.
	Scopes []string
	// Handler serves everything above.
	Handler http.Handler
	// MCPServer is the SDK server behind Resource; tests may add tools
	// (which notifies connected clients over their GET stream).
	MCPServer *mcp.Server

	cfg   Config
	store *store
}

// New builds the demo. It does not listen: serve d.Handler at cfg.BaseURL.
func New(cfg Config) (*Demo, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	d := &Demo{
		BaseURL:               cfg.BaseURL,
		Resource:              cfg.BaseURL + mcpPath,
		ResourceMetadataURL:   cfg.BaseURL + resourceMetaPath + mcpPath,
		Issuer:                cfg.BaseURL + issuerPath,
		AuthServerMetadataURL: cfg.BaseURL + authServerMetaPfx + issuerPath,
		AuthorizeURL:          cfg.BaseURL + issuerPath + "/authorize",
		TokenURL:              cfg.BaseURL + issuerPath + "/token",
		RevocationURL:         cfg.BaseURL + issuerPath + "/revoke",
		Scopes:                []string{cfg.BaseScope, cfg.AdminScope},
		cfg:                   cfg,
		store:                 newStore(),
	}
	if !cfg.DisableDCR {
		d.RegistrationURL = cfg.BaseURL + issuerPath + "/register"
	}
	for _, c := range cfg.Clients {
		if c.ID == "" || len(c.RedirectURIs) == 0 {
			return nil, errors.New("demomcp: a pre-registered client needs an ID and redirect URIs")
		}
		d.store.addClient(clientRecord{id: c.ID, secret: c.Secret, redirectURIs: slices.Clone(c.RedirectURIs)})
	}
	d.MCPServer = d.newMCPServer()
	d.Handler = d.routes()
	return d, nil
}

// defaults checks cfg and fills in its defaults.
func (cfg *Config) defaults() error {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		strings.HasSuffix(cfg.BaseURL, "/") || u.RawQuery != "" || u.Fragment != "" {
		return errors.New("demomcp: BaseURL must be an absolute http(s) URL without a trailing slash")
	}
	if cfg.User == "" {
		cfg.User = DefaultUser
	}
	if cfg.BaseScope == "" {
		cfg.BaseScope = ToolsScope
	}
	if cfg.AdminScope == "" {
		cfg.AdminScope = AdminScope
	}
	if cfg.BaseScope == cfg.AdminScope {
		return errors.New("demomcp: BaseScope and AdminScope must differ")
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = DefaultTokenTTL
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return nil
}

// routes is the demo's HTTP surface.
func (d *Demo) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(mcpPath, d.protect(d.scopeGate(mcp.NewStreamableHTTPHandler(
		func(*http.Request) *mcp.Server { return d.MCPServer }, nil))))
	prm := d.resourceMetadataHandler()
	mux.Handle(resourceMetaPath+mcpPath, prm)
	mux.Handle(resourceMetaPath, prm)
	mux.HandleFunc("GET "+authServerMetaPfx+issuerPath, d.serveAuthServerMetadata)
	mux.HandleFunc("GET "+issuerPath+"/authorize", d.serveAuthorize)
	mux.HandleFunc("POST "+issuerPath+"/token", d.serveToken)
	mux.HandleFunc("POST "+issuerPath+"/revoke", d.serveRevoke)
	if !d.cfg.DisableDCR {
		mux.HandleFunc("POST "+issuerPath+"/register", d.serveRegister)
	}
	return mux
}

// Stats counts what the authorization server did, for tests that must
// tell which registration path a client took.
type Stats struct {
	// Registrations counts successful RFC 7591 registrations.
	Registrations int
	// MetadataDocumentFetches counts client ID metadata documents fetched
	// (successfully or not).
	MetadataDocumentFetches int
	// CodeExchanges and Refreshes count successful token requests.
	CodeExchanges, Refreshes int
	// Revocations counts tokens revoked.
	Revocations int
}

// Stats returns the counters so far.
func (d *Demo) Stats() Stats { return d.store.stats() }

// IssueToken mints an access token for subject with scopes, bound to
// Resource, without a flow: for tests of the resource server and for
// clients that seed a connection directly.
func (d *Demo) IssueToken(subject, clientID string, scopes []string) string {
	g := grant{subject: subject, clientID: clientID, scopes: slices.Clone(scopes), resource: d.Resource}
	return d.store.newAccessToken(g, d.cfg.Now().Add(d.cfg.TokenTTL))
}
