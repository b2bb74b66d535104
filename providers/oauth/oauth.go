package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2broker/oauth2broker/providers"
)

// DefaultTimeout bounds every upstream call when Config.HTTPClient is nil.
const DefaultTimeout = 15 * time.Second

// DefaultLifetime is assumed for an access token whose answer has no
// expires_in, unless the Config says otherwise. An hour is the common
// lifetime; assuming "never expires" would hand out dead tokens.
const DefaultLifetime = time.Hour

// Config configures a generic OAuth 2.0 upstream.
type Config struct {
	providers.Config
	// HTTPClient makes the upstream calls; one with DefaultTimeout when
	// nil.
	HTTPClient *http.Client
	// DefaultLifetime is the access-token lifetime when the answer has no
	// expires_in: DefaultLifetime when zero; negative means the provider
	// documents non-expiring tokens.
	DefaultLifetime time.Duration
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
}

// Provider is a generic OAuth 2.0 upstream.
type Provider struct {
	conf          oauth2.Config
	client        *http.Client
	authParams    map[string]string
	revocationURL string
	authStyle     oauth2.AuthStyle
	lifetime      time.Duration
	now           func() time.Time
}

var (
	_ providers.Provider = (*Provider)(nil)
	_ providers.Revoker  = (*Provider)(nil)
)

// New returns a Provider for cfg; cfg must have its endpoints.
func New(cfg Config) (*Provider, error) {
	if cfg.AuthURL == "" || cfg.TokenURL == "" || cfg.ClientID == "" {
		return nil, errors.New("oauth: auth_url, token_url and client_id are required")
	}
	p := &Provider{
		client: cfg.HTTPClient, authParams: cfg.AuthParams, revocationURL: cfg.RevocationURL,
		lifetime: cfg.DefaultLifetime, now: cfg.Now,
	}
	if p.client == nil {
		p.client = &http.Client{Timeout: DefaultTimeout}
	}
	if p.lifetime == 0 {
		p.lifetime = DefaultLifetime
	}
	if p.now == nil {
		p.now = time.Now
	}
	switch cfg.AuthStyle {
	case providers.AuthStyleHeader:
		p.authStyle = oauth2.AuthStyleInHeader
	case providers.AuthStyleBody:
		p.authStyle = oauth2.AuthStyleInParams
	default:
		p.authStyle = oauth2.AuthStyleAutoDetect
	}
	p.conf = oauth2.Config{
		ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Scopes: cfg.Scopes,
		Endpoint: oauth2.Endpoint{AuthURL: cfg.AuthURL, TokenURL: cfg.TokenURL, AuthStyle: p.authStyle},
	}
	return p, nil
}

// config returns the oauth2.Config of one request.
func (p *Provider) config(r providers.AuthRequest) *oauth2.Config {
	c := p.conf
	c.RedirectURL = r.RedirectURL
	if len(r.Scopes) > 0 {
		c.Scopes = r.Scopes
	}
	return &c
}

// AuthCodeURL implements providers.Provider.
func (p *Provider) AuthCodeURL(r providers.AuthRequest) string {
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(r.Verifier)}
	for k, v := range p.authParams {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	if r.Nonce != "" {
		opts = append(opts, oauth2.SetAuthURLParam("nonce", r.Nonce))
	}
	return p.config(r).AuthCodeURL(r.State, opts...)
}

func (p *Provider) ctx(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, p.client)
}

// Exchange implements providers.Provider.
func (p *Provider) Exchange(ctx context.Context, code string, r providers.AuthRequest) (*providers.TokenSet, error) {
	tok, err := p.config(r).Exchange(p.ctx(ctx), code, oauth2.VerifierOption(r.Verifier))
	if err != nil {
		return nil, Classify("exchange", err)
	}
	return p.tokenSet(tok), nil
}

// Refresh implements providers.Provider.
func (p *Provider) Refresh(ctx context.Context, ts *providers.TokenSet) (*providers.TokenSet, error) {
	if ts.RefreshToken == "" {
		return nil, fmt.Errorf("oauth: refresh: %w: no refresh token", providers.ErrInvalidGrant)
	}
	tok, err := p.conf.TokenSource(p.ctx(ctx), &oauth2.Token{RefreshToken: ts.RefreshToken}).Token()
	if err != nil {
		return nil, Classify("refresh", err)
	}
	out := p.tokenSet(tok)
	if out.RefreshToken == "" {
		out.RefreshToken = ts.RefreshToken
	}
	if out.IDToken == "" {
		out.IDToken = ts.IDToken
	}
	if out.Scope == "" {
		out.Scope = ts.Scope
	}
	return out, nil
}

// tokenSet converts an x/oauth2 token, applying the default lifetime.
func (p *Provider) tokenSet(tok *oauth2.Token) *providers.TokenSet {
	ts := &providers.TokenSet{AccessToken: tok.AccessToken, TokenType: tok.TokenType, RefreshToken: tok.RefreshToken}
	ts.IDToken, _ = tok.Extra("id_token").(string)
	ts.Scope, _ = tok.Extra("scope").(string)
	switch {
	case tok.ExpiresIn > 0:
		ts.Expiry = p.now().Add(time.Duration(tok.ExpiresIn) * time.Second)
	case !tok.Expiry.IsZero():
		ts.Expiry = tok.Expiry
	case p.lifetime > 0:
		ts.Expiry = p.now().Add(p.lifetime)
	}
	if ts.TokenType == "" || strings.EqualFold(ts.TokenType, "bearer") {
		ts.TokenType = "Bearer"
	}
	return ts
}
