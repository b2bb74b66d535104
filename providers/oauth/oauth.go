package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2broker/oauth2broker/outbound"
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
	// Quirks are the provider's departures from RFC 6749.
	Quirks Quirks
	// ClientSecretFunc, when set, makes the client secret for each token
	// request (Apple's signed JWT); it wins over ClientSecret.
	ClientSecretFunc func() (string, error)
	// HTTPClient makes the upstream calls; one with DefaultTimeout when
	// nil. Whatever it is, the provider follows no redirect with it and
	// bounds every answer (outbound.Guard): a token endpoint answering 307
	// must not get the code, the verifier and the secret re-sent elsewhere.
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
	cfg      Config
	client   *http.Client
	lifetime time.Duration
	now      func() time.Time
}

var (
	_ providers.Provider       = (*Provider)(nil)
	_ providers.Revoker        = (*Provider)(nil)
	_ providers.RefreshAdvisor = (*Provider)(nil)
)

// New returns a Provider for cfg; cfg must have its endpoints.
func New(cfg Config) (*Provider, error) {
	cfg.Config = cfg.Config.WithVars()
	if cfg.AuthURL == "" || cfg.TokenURL == "" || cfg.ClientID == "" {
		return nil, errors.New("oauth: auth_url, token_url and client_id are required")
	}
	cfg.Quirks, cfg.DefaultLifetime = callQuirks(cfg.Quirks, cfg.Config.Quirks, cfg.DefaultLifetime)
	p := &Provider{cfg: cfg, client: outbound.Guard(cfg.HTTPClient, DefaultTimeout, outbound.NoRedirect), lifetime: cfg.DefaultLifetime, now: cfg.Now}
	if p.lifetime == 0 {
		p.lifetime = DefaultLifetime
	}
	if p.now == nil {
		p.now = time.Now
	}
	return p, nil
}

var separators = map[string]string{"space": " ", "comma": ",", "plus": "+"}

// callQuirks completes the catalog's quirks with those the provider
// configuration sets (each set field wins): scope separator and
// parameter, kept fields, revocation and default lifetime.
func callQuirks(q Quirks, pq providers.Quirks, lifetime time.Duration) (Quirks, time.Duration) {
	if pq.ScopeSeparator != "" {
		q.ScopeSeparator = separators[pq.ScopeSeparator]
	}
	if pq.ScopeParam != "" {
		q.ScopeParam = pq.ScopeParam
	}
	if pq.Keep != nil {
		q.Keep = pq.Keep
	}
	if pq.CallbackKeep != nil {
		q.CallbackKeep = pq.CallbackKeep
	}
	if r := pq.Revocation; r != nil {
		q.Revocation = Revocation{Revocation: *r, URL: q.Revocation.URL}
	}
	switch l := pq.Lifetime; l {
	case "":
	case "never":
		lifetime = -1
	default:
		if d, err := time.ParseDuration(l); err == nil && d > 0 {
			lifetime = d
		}
	}
	return q, lifetime
}

// noPKCE reports whether the provider refuses PKCE.
func (p *Provider) noPKCE() bool {
	return p.cfg.Quirks.NoPKCE || p.cfg.Config.Quirks.PKCE == "unsupported"
}

// pkceChallenge returns the authorize parameters of the PKCE challenge:
// S256 by default, the verifier itself with quirks.pkce "plain" (RFC 7636
// §4.2), none with "unsupported".
func (p *Provider) pkceChallenge(verifier string) []oauth2.AuthCodeOption {
	switch {
	case p.noPKCE():
		return nil
	case p.cfg.Config.Quirks.PKCE == "plain":
		return []oauth2.AuthCodeOption{
			oauth2.SetAuthURLParam("code_challenge", verifier),
			oauth2.SetAuthURLParam("code_challenge_method", "plain"),
		}
	}
	return []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
}

// DefaultScopes implements providers.DefaultScoper: the scopes
// AuthCodeURL asks for when the request names none.
func (p *Provider) DefaultScopes() []string { return slices.Clone(p.cfg.Scopes) }

// AuthCodeURL implements providers.Provider.
func (p *Provider) AuthCodeURL(r providers.AuthRequest) string {
	q := p.cfg.Quirks
	conf := oauth2.Config{ClientID: p.cfg.ClientID, RedirectURL: r.RedirectURL, Endpoint: oauth2.Endpoint{AuthURL: p.cfg.AuthURL}}
	opts := p.pkceChallenge(r.Verifier)
	scopes := r.Scopes
	if len(scopes) == 0 {
		scopes = p.cfg.Scopes
	}
	if len(scopes) > 0 {
		opts = append(opts, oauth2.SetAuthURLParam(orDefault(q.ScopeParam, "scope"), strings.Join(scopes, orDefault(q.ScopeSeparator, " "))))
	}
	for k, v := range p.cfg.AuthParams {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	if r.Nonce != "" {
		opts = append(opts, oauth2.SetAuthURLParam("nonce", r.Nonce))
	}
	return p.renameAuthorize(conf.AuthCodeURL(r.State, opts...))
}

// renameAuthorize applies quirks.authorize_rename and authorize_drop.
func (p *Provider) renameAuthorize(raw string) string {
	q := p.cfg.Config.Quirks
	if len(q.AuthorizeRename) == 0 && len(q.AuthorizeDrop) == 0 {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	v := u.Query()
	for from, to := range q.AuthorizeRename {
		if vals, ok := v[from]; ok {
			delete(v, from)
			v[to] = vals
		}
	}
	for _, k := range q.AuthorizeDrop {
		v.Del(k)
	}
	u.RawQuery = v.Encode()
	return u.String()
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Exchange implements providers.Provider (RFC 6749 §4.1.3 with the PKCE
// code_verifier of RFC 7636 §4.5).
func (p *Provider) Exchange(ctx context.Context, code string, r providers.AuthRequest) (*providers.TokenSet, error) {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {r.RedirectURL}}
	if !p.noPKCE() {
		form.Set("code_verifier", r.Verifier)
	}
	q := p.cfg.Config.Quirks
	perCall := map[string]string{"state": r.State, "redirect_uri": r.RedirectURL}
	for k, v := range q.TokenParams {
		form.Set(k, providers.FillVars(v, perCall))
	}
	for _, name := range q.CallbackParams {
		if v := r.Callback.Get(name); v != "" {
			form.Set(name, v)
		}
	}
	ts, err := p.retrieve(ctx, call{op: "exchange", url: p.cfg.TokenURL, auth: q.TokenAuth, headers: q.TokenHeaders}, form)
	if err != nil {
		return nil, err
	}
	if p.refreshNeedsRedirect() {
		ts.RedirectURI = r.RedirectURL
	}
	if ts, err = p.longLived(ctx, ts); err != nil {
		return nil, err
	}
	return ts, p.metadata(ctx, ts)
}

// Refresh implements providers.Provider (RFC 6749 §6).
func (p *Provider) Refresh(ctx context.Context, ts *providers.TokenSet) (*providers.TokenSet, error) {
	q := p.cfg.Config.Quirks
	if ts.RefreshToken == "" || q.RefreshTokens == "none" {
		return nil, fmt.Errorf("oauth: refresh: %w: no refresh token", providers.ErrInvalidGrant)
	}
	if ll := q.LongLived; ll != nil && ll.Refresh != nil {
		return p.refreshLongLived(ctx, ts, *ll.Refresh)
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {ts.RefreshToken}}
	for k, v := range q.RefreshParams {
		if strings.Contains(v, "{redirect_uri}") && ts.RedirectURI == "" {
			// A connection made before the provider repeated it: the
			// refresh goes as it did then, without the parameter.
			continue
		}
		form.Set(k, providers.FillVars(v, map[string]string{"redirect_uri": ts.RedirectURI}))
	}
	out, err := p.retrieve(ctx, call{op: "refresh", url: orDefault(q.RefreshURL, p.cfg.TokenURL), auth: q.RefreshAuth, headers: q.RefreshHeaders}, form)
	if err != nil {
		return nil, err
	}
	return p.refreshed(ctx, out, ts), nil
}

// refreshed completes a refresh answer with what the previous token set
// keeps (the refresh token, ID token, scope, kept fields and redirect URI
// when the answer has none) and makes the metadata call of
// quirks.metadata.on_refresh.
func (p *Provider) refreshed(ctx context.Context, out, ts *providers.TokenSet) *providers.TokenSet {
	q := p.cfg.Config.Quirks
	if out.RefreshToken == "" {
		out.RefreshToken = ts.RefreshToken
	}
	if out.IDToken == "" {
		out.IDToken = ts.IDToken
	}
	if out.Scope == "" {
		out.Scope = ts.Scope
	}
	out.RedirectURI = ts.RedirectURI
	for k, v := range ts.Extra {
		if _, ok := out.Extra[k]; !ok {
			if out.Extra == nil {
				out.Extra = map[string]any{}
			}
			out.Extra[k] = v
		}
	}
	if m := q.Metadata; m != nil && m.OnRefresh {
		// The provider may have rotated the refresh token already: a
		// failed metadata call must not lose the answer. The fields kept
		// before stay.
		_ = p.metadata(ctx, out)
	}
	return out
}

// refreshNeedsRedirect reports whether a refresh repeats the exchange's
// redirect_uri: only then does the token set keep it.
func (p *Provider) refreshNeedsRedirect() bool {
	for _, v := range p.cfg.Config.Quirks.RefreshParams {
		if strings.Contains(v, "{redirect_uri}") {
			return true
		}
	}
	return false
}

// RefreshPolicy implements providers.RefreshAdvisor: the configured
// policy (a catalog template has completed it with its entry's).
func (p *Provider) RefreshPolicy() providers.RefreshPolicy { return p.cfg.Refresh() }

// CallbackKeep implements providers.CallbackKeeper.
func (p *Provider) CallbackKeep() []string { return p.cfg.Quirks.CallbackKeep }
