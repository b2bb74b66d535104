package mcp

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/oauth2broker/oauth2broker/outbound"
	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/providers/oauth"
)

// Config configures an MCP provider.
type Config struct {
	// Config holds the provider's settings (Type providers.TypeMCP,
	// ServerURL, optional ClientID, ClientSecret and Scopes) and what the
	// broker sets when it opens it: Registration and ClientMetadataURL.
	providers.Config
	// Discoverer finds the server's metadata; a new one when nil.
	Discoverer *Discoverer
	// HTTPClient makes the upstream calls (guarded: no redirect, bounded
	// answers); one with DefaultTimeout when nil.
	HTTPClient *http.Client
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
}

// Provider is an MCP server as an upstream: an OAuth 2.1 authorization
// server found by discovery, with the RFC 8707 resource on every
// request.
type Provider struct {
	cfg Config
	md  *Metadata
	reg providers.Registration
	// inner runs the flows once the client is known; nil until the broker
	// has registered (Registration says so).
	inner  *oauth.Provider
	client *http.Client
	now    func() time.Time
}

var (
	_ providers.Provider        = (*Provider)(nil)
	_ providers.Revoker         = (*Provider)(nil)
	_ providers.CallbackChecker = (*Provider)(nil)
	_ providers.Registrar       = (*Provider)(nil)
	_ providers.Expiring        = (*Provider)(nil)
	_ providers.ScopeAdvertiser = (*Provider)(nil)
)

// New discovers cfg.ServerURL and returns the provider, with the client
// pre-registered in cfg.ClientID, else the one in cfg.Registration when
// it belongs to the discovered authorization server. It fails for a
// server whose authorization server does not advertise PKCE S256
// (ErrNoPKCE).
func New(ctx context.Context, cfg Config) (*Provider, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Discoverer == nil {
		cfg.Discoverer = NewDiscoverer(cfg.HTTPClient, cfg.Now)
	}
	md, err := cfg.Discoverer.Discover(ctx, cfg.ServerURL)
	if err != nil {
		return nil, err
	}
	if err := checkIssuerKept(cfg, md); err != nil {
		return nil, err
	}
	p := &Provider{cfg: cfg, md: md, now: cfg.Now, client: outbound.Guard(cfg.HTTPClient, DefaultTimeout, outbound.NoRedirect)}
	p.reg = providers.Registration{Issuer: md.AS.Issuer, Resource: md.Resource}
	switch {
	case cfg.ClientID != "":
		p.reg.Kind, p.reg.ClientID, p.reg.ClientSecret = providers.RegistrationPreRegistered, cfg.ClientID, cfg.ClientSecret
	case cfg.Registration != nil && p.belongs(*cfg.Registration):
		p.reg = *cfg.Registration
	default:
		return p, nil // the broker registers first
	}
	if p.inner, err = oauth.New(p.oauthConfig()); err != nil {
		return nil, err
	}
	return p, nil
}

// checkIssuerKept refuses a server whose protected resource metadata
// now names another authorization server than the one the stored
// registration (or the pre-registered client, as first noted) belongs
// to: the client's secret and the users' refresh tokens were issued by
// that one and are never sent to another's token endpoint, nor the
// broker silently registered there (an MCP server that changed hands, or
// a mix-up: RFC 9700 §4.4). An admin trusts the new one by deleting and
// re-creating the provider; a changed server_url or client_id is a new
// client anyway.
func checkIssuerKept(cfg Config, md *Metadata) error {
	r := cfg.Registration
	if r == nil || r.Issuer == "" || r.Issuer == md.AS.Issuer || r.Resource != md.Resource ||
		(cfg.ClientID != "" && r.ClientID != cfg.ClientID) {
		return nil
	}
	return &providers.UnusableError{Reason: clip(fmt.Sprintf("mcp: the MCP server's authorization server is no longer %s, "+
		"where the broker's client and its users' tokens belong, but %s; an admin must delete and re-create the provider to trust it", r.Issuer, md.AS.Issuer))}
}

// belongs reports whether a stored registration is for the discovered
// server and authorization server, and still of a kind it supports.
func (p *Provider) belongs(r providers.Registration) bool {
	if r.Issuer != p.md.AS.Issuer || r.Resource != p.md.Resource || r.ClientID == "" {
		return false
	}
	switch r.Kind {
	case providers.RegistrationMetadataDocument:
		return p.md.AS.MetadataDocument && r.ClientID == p.cfg.ClientMetadataURL
	case providers.RegistrationDynamic:
		return true
	}
	return false
}

// oauthConfig is the generic provider's configuration: the discovered
// endpoints, the client, the scopes, and resource on authorize, code
// exchange and refresh (RFC 8707 §2; MCP authorization spec "Resource
// Parameter Implementation").
func (p *Provider) oauthConfig() oauth.Config {
	c := p.cfg.Config
	as := p.md.AS
	c.Type, c.AuthURL, c.TokenURL, c.RevocationURL = providers.TypeOAuth2, as.AuthorizationEndpoint, as.TokenEndpoint, as.RevocationEndpoint
	c.ClientID, c.ClientSecret = p.reg.ClientID, p.reg.ClientSecret
	if len(c.Scopes) == 0 {
		c.Scopes = p.md.Scopes()
	}
	c.AuthParams = withResource(c.AuthParams, p.md.Resource)
	c.Quirks.TokenParams = withResource(c.Quirks.TokenParams, p.md.Resource)
	c.Quirks.RefreshParams = withResource(c.Quirks.RefreshParams, p.md.Resource)
	q := oauth.Quirks{}
	switch p.reg.TokenEndpointAuthMethod {
	case "", "client_secret_basic":
		if c.ClientSecret == "" {
			q.PublicClient = true
			c.Quirks.TokenAuth, c.Quirks.RefreshAuth, c.Quirks.RevocationAuth = "none", "none", "none"
		} else {
			c.AuthStyle = providers.AuthStyleHeader
		}
	case "client_secret_post":
		c.AuthStyle = providers.AuthStyleBody
	default: // "none"
		q.PublicClient = true
		c.Quirks.TokenAuth, c.Quirks.RefreshAuth, c.Quirks.RevocationAuth = "none", "none", "none"
	}
	if as.IssParameter {
		q.CallbackIssuer = as.Issuer
	}
	return oauth.Config{Config: c, Quirks: q, HTTPClient: p.cfg.HTTPClient, Now: p.now}
}

func withResource(m map[string]string, resource string) map[string]string {
	out := maps.Clone(m)
	if out == nil {
		out = map[string]string{}
	}
	out["resource"] = resource
	return out
}

// Registration implements providers.Registrar.
func (p *Provider) Registration(redirectURI string, lead time.Duration) (providers.Registration, bool) {
	r := p.reg
	if r.Kind == providers.RegistrationPreRegistered {
		return r, false
	}
	if p.inner == nil || (r.RedirectURI != redirectURI) {
		return r, true
	}
	return r, !r.ExpiresAt.IsZero() && !p.now().Add(lead).Before(r.ExpiresAt)
}

// Register implements providers.Registrar.
func (p *Provider) Register(ctx context.Context, redirectURI string) (*providers.Registration, error) {
	return register(ctx, p.client, p.now().UTC(), p.md, registerRequest{
		metadataURL: p.cfg.ClientMetadataURL, redirectURI: redirectURI,
	})
}

// Expires implements providers.Expiring: the discovered metadata's
// freshness.
func (p *Provider) Expires() time.Time { return p.md.Expires }

// AdvertisedScopes implements providers.ScopeAdvertiser: the protected
// resource metadata's scopes_supported and the challenge's scopes.
func (p *Provider) AdvertisedScopes() []string {
	out := slices.Clone(p.md.ResourceScopes)
	for _, s := range p.md.ChallengeScopes {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// Metadata returns what discovery found.
func (p *Provider) Metadata() *Metadata { return p.md }

// errNotRegistered answers a flow on a provider the broker has not
// registered yet (the broker registers before any flow).
var errNotRegistered = fmt.Errorf("mcp: %w: the broker is not registered at the authorization server yet", providers.ErrInvalidClient)

// DefaultScopes implements providers.DefaultScoper: the configured
// scopes, else those of the server's challenge or metadata; none before
// registration.
func (p *Provider) DefaultScopes() []string {
	if p.inner == nil {
		return nil
	}
	return p.inner.DefaultScopes()
}

// AuthCodeURL implements providers.Provider; empty before registration.
func (p *Provider) AuthCodeURL(r providers.AuthRequest) string {
	if p.inner == nil {
		return ""
	}
	return p.inner.AuthCodeURL(r)
}

// Exchange implements providers.Provider.
func (p *Provider) Exchange(ctx context.Context, code string, r providers.AuthRequest) (*providers.TokenSet, error) {
	if p.inner == nil {
		return nil, errNotRegistered
	}
	return p.inner.Exchange(ctx, code, r)
}

// Refresh implements providers.Provider.
func (p *Provider) Refresh(ctx context.Context, ts *providers.TokenSet) (*providers.TokenSet, error) {
	if p.inner == nil {
		return nil, errNotRegistered
	}
	return p.inner.Refresh(ctx, ts)
}

// Revoke implements providers.Revoker: RFC 7009 at the discovered
// revocation_endpoint, ErrRevocationUnsupported without one.
func (p *Provider) Revoke(ctx context.Context, ts *providers.TokenSet) error {
	if p.inner == nil {
		return errNotRegistered
	}
	return p.inner.Revoke(ctx, ts)
}

// CheckCallback implements providers.CallbackChecker: RFC 9207 iss,
// required when the authorization server advertises it, compared
// whenever present.
func (p *Provider) CheckCallback(q url.Values) error {
	if p.inner == nil {
		return errNotRegistered
	}
	// A present iss is checked even when not advertised (RFC 9207 §2.4;
	// MCP authorization spec 2026-07-28, SEP-2468).
	if got, ok := q["iss"]; ok && (len(got) != 1 || got[0] != p.md.AS.Issuer) {
		return fmt.Errorf("mcp: callback: %w: iss names another issuer (RFC 9207)", providers.ErrUpstream)
	}
	return p.inner.CheckCallback(q)
}
