package oidc

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/oauth2broker/oauth2broker/outbound"
	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/providers/oauth"
)

// Provider is an OpenID Connect upstream.
type Provider struct {
	inner    *oauth.Provider
	verifier *gooidc.IDTokenVerifier
	// issuer is the discovered issuer, which an iss parameter must name
	// even when discovery does not advertise it (RFC 9207 §2.4).
	issuer string
}

var (
	_ providers.Provider        = (*Provider)(nil)
	_ providers.Revoker         = (*Provider)(nil)
	_ providers.RefreshAdvisor  = (*Provider)(nil)
	_ providers.CallbackChecker = (*Provider)(nil)
	_ providers.CallbackKeeper  = (*Provider)(nil)
)

// discovered holds discovery fields go-oidc does not expose directly.
type discovered struct {
	RevocationURL string `json:"revocation_endpoint"`
	UserinfoURL   string `json:"userinfo_endpoint"`
	Issuer        string `json:"issuer"`
	// IssParameter advertises the iss parameter of RFC 9207.
	IssParameter bool `json:"authorization_response_iss_parameter_supported"`
}

// New discovers cfg.Issuer (OpenID Connect Discovery 1.0) and returns the
// provider. Configured endpoints win over discovered ones. The "openid"
// scope is always requested.
//
// Discovery and the JWKS fetches carry no credential: they follow
// redirects that stay on the same origin (a path moved on the issuer's
// own host), and no other, with every answer bounded (outbound.Guard).
func New(ctx context.Context, cfg oauth.Config) (*Provider, error) {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: oauth.DefaultTimeout}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Config = cfg.Config.WithVars()
	ctx = gooidc.ClientContext(ctx, outbound.Guard(cfg.HTTPClient, oauth.DefaultTimeout, outbound.SameOriginGET))
	op, err := gooidc.NewProvider(ctx, cfg.Issuer)
	if err != nil {
		// go-oidc's error can quote the discovery answer; keep only its
		// kind.
		return nil, fmt.Errorf("oidc: discovery of %s failed: %w", cfg.Issuer, discoveryError(err))
	}
	var d discovered
	_ = op.Claims(&d)
	ep := op.Endpoint()
	cfg.AuthURL = firstNonEmpty(cfg.AuthURL, ep.AuthURL)
	cfg.TokenURL = firstNonEmpty(cfg.TokenURL, ep.TokenURL)
	cfg.RevocationURL = firstNonEmpty(cfg.RevocationURL, d.RevocationURL)
	cfg.UserinfoURL = firstNonEmpty(cfg.UserinfoURL, d.UserinfoURL)
	if d.IssParameter && d.Issuer != "" {
		cfg.Quirks.CallbackIssuer = d.Issuer
	}
	if !slices.Contains(cfg.Scopes, gooidc.ScopeOpenID) {
		cfg.Scopes = append([]string{gooidc.ScopeOpenID}, cfg.Scopes...)
	}
	inner, err := oauth.New(cfg)
	if err != nil {
		return nil, err
	}
	return &Provider{inner: inner, verifier: op.Verifier(&gooidc.Config{ClientID: cfg.ClientID, Now: cfg.Now}), issuer: firstNonEmpty(d.Issuer, cfg.Issuer)}, nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// DefaultScopes implements providers.DefaultScoper: openid and the
// configured scopes.
func (p *Provider) DefaultScopes() []string { return p.inner.DefaultScopes() }

// AuthCodeURL implements providers.Provider.
func (p *Provider) AuthCodeURL(r providers.AuthRequest) string {
	if len(r.Scopes) > 0 && !slices.Contains(r.Scopes, gooidc.ScopeOpenID) {
		r.Scopes = append([]string{gooidc.ScopeOpenID}, r.Scopes...)
	}
	return p.inner.AuthCodeURL(r)
}

// Exchange implements providers.Provider: it requires an ID token and
// checks it and its nonce.
func (p *Provider) Exchange(ctx context.Context, code string, r providers.AuthRequest) (*providers.TokenSet, error) {
	ts, err := p.inner.Exchange(ctx, code, r)
	if err != nil {
		return nil, err
	}
	if ts.IDToken == "" {
		return nil, fmt.Errorf("oidc: exchange: %w: no id_token in the answer", providers.ErrUpstream)
	}
	idt, err := p.verifier.Verify(ctx, ts.IDToken)
	if err != nil {
		return nil, fmt.Errorf("oidc: exchange: %w", verifyError(err))
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(r.Nonce)) != 1 {
		return nil, fmt.Errorf("oidc: exchange: %w: id_token nonce does not match", providers.ErrUpstream)
	}
	return ts, nil
}

// Refresh implements providers.Provider. A new ID token in the answer is
// verified (OIDC Core §12.2; it carries no nonce).
func (p *Provider) Refresh(ctx context.Context, ts *providers.TokenSet) (*providers.TokenSet, error) {
	out, err := p.inner.Refresh(ctx, ts)
	if err != nil {
		return nil, err
	}
	if out.IDToken != "" && out.IDToken != ts.IDToken {
		if _, err := p.verifier.Verify(ctx, out.IDToken); err != nil {
			// The provider has already rotated the refresh token: losing
			// the answer would strand the connection. Keep the tokens,
			// drop the ID token that does not verify.
			out.IDToken = ""
		}
	}
	return out, nil
}

// Revoke implements providers.Revoker with the discovered or configured
// revocation endpoint.
func (p *Provider) Revoke(ctx context.Context, ts *providers.TokenSet) error {
	return p.inner.Revoke(ctx, ts)
}

// CheckCallback implements providers.CallbackChecker: when discovery
// advertised authorization_response_iss_parameter_supported, the
// callback must carry the issuer as iss (RFC 9207); an iss present
// without it must name the issuer all the same (§2.4).
func (p *Provider) CheckCallback(q url.Values) error {
	if err := p.inner.CheckCallback(q); err != nil {
		return err
	}
	if iss, ok := q["iss"]; ok && (len(iss) != 1 || iss[0] != p.issuer) {
		return fmt.Errorf("oidc: callback: %w: iss names another issuer", providers.ErrUpstream)
	}
	return nil
}

// RefreshPolicy implements providers.RefreshAdvisor.
func (p *Provider) RefreshPolicy() providers.RefreshPolicy { return p.inner.RefreshPolicy() }

// CallbackKeep implements providers.CallbackKeeper: the callback
// parameters kept for the app (Apple's one-time "user" form field).
func (p *Provider) CallbackKeep() []string { return p.inner.CallbackKeep() }

// discoveryError classifies a discovery failure without its text: network
// trouble is ErrUnavailable, anything else (404, issuer mismatch, bad JSON)
// a configuration problem, ErrUpstream.
func discoveryError(err error) error {
	if cause := outbound.Cause(err); cause != nil {
		return fmt.Errorf("%w: %w", providers.ErrUpstream, cause)
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) {
		return providers.ErrUnavailable
	}
	return providers.ErrUpstream
}

// keysStatusRE finds the HTTP status in go-oidc's JWKS failure text.
var keysStatusRE = regexp.MustCompile(`get keys failed: ([1-5][0-9][0-9]) `)

// verifyError describes a failed ID-token verification with a fixed
// text and the JWKS answer's status: go-oidc's error quotes the JWKS
// answer's body, which must reach neither a log nor an answer. Keys that
// cannot be fetched are ErrUnavailable; anything else ErrUpstream.
func verifyError(err error) error {
	var expired *gooidc.TokenExpiredError
	msg := err.Error()
	switch {
	case errors.As(err, &expired):
		return fmt.Errorf("%w: id_token expired", providers.ErrUpstream)
	case strings.Contains(msg, "fetching keys"):
		status := "no answer"
		if m := keysStatusRE.FindStringSubmatch(msg); m != nil {
			status = "status " + m[1]
		} else if cause := outbound.Cause(err); cause != nil {
			status = cause.Error()
		}
		return fmt.Errorf("%w: id_token: the provider's signing keys could not be fetched (%s)", providers.ErrUnavailable, status)
	case strings.Contains(msg, "issued by a different provider"):
		return fmt.Errorf("%w: id_token issuer does not match", providers.ErrUpstream)
	case strings.Contains(msg, "expected audience"):
		return fmt.Errorf("%w: id_token audience does not match", providers.ErrUpstream)
	}
	return fmt.Errorf("%w: id_token does not verify", providers.ErrUpstream)
}
