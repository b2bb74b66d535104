package providers

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Errors of upstream calls. Providers wrap them; callers test with
// errors.Is. None of them carries the upstream answer body, which can hold
// tokens.
var (
	// ErrInvalidGrant: the upstream refused the grant (RFC 6749 §5.2
	// invalid_grant): the code or refresh token is dead. The connection
	// needs the user to reconnect.
	ErrInvalidGrant = errors.New("providers: upstream refused the grant (invalid_grant)")
	// ErrInvalidClient: the upstream refused the broker's client
	// credentials (invalid_client, unauthorized_client). The fault is the
	// broker's provider configuration (a wrong or expired client secret, a
	// disabled app), not the user's grant: an admin must fix the provider,
	// and connections keep their tokens meanwhile.
	ErrInvalidClient = errors.New("providers: upstream refused the client credentials")
	// ErrUnavailable: the upstream failed transiently (timeout, network
	// error, 5xx, 429). Retrying later may work; stored tokens stay.
	ErrUnavailable = errors.New("providers: upstream unavailable")
	// ErrUpstream: the upstream answered with another error or an answer
	// that cannot be used (no access_token, bad ID token).
	ErrUpstream = errors.New("providers: upstream error")
	// ErrRevocationUnsupported: the provider offers no way to revoke.
	ErrRevocationUnsupported = errors.New("providers: provider has no revocation")
)

// RetryAfterError is an upstream refusal that says when to come back: an
// HTTP 429 (Too Many Requests), or a 503 with a Retry-After header
// (RFC 9110 §10.2.3, §15.6.4; RFC 6585 §4). It wraps ErrUnavailable, so
// errors.Is(err, ErrUnavailable) holds; find it with errors.As.
type RetryAfterError struct {
	// Status is the upstream's HTTP status (429 or 503).
	Status int
	// After is how long the upstream asks to wait, from its Retry-After
	// header (delay-seconds or an HTTP date); zero when it sent none.
	After time.Duration
	// Err is the classified error; it wraps ErrUnavailable.
	Err error
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("%v (retry after %v)", e.Err, e.After)
}

// Unwrap returns the classified error.
func (e *RetryAfterError) Unwrap() error { return e.Err }

// RetryAfter returns how long err asks to wait before the next call to
// the upstream, and whether it is a RetryAfterError at all (a 429 without
// a Retry-After header answers 0, true).
func RetryAfter(err error) (time.Duration, bool) {
	var ra *RetryAfterError
	if errors.As(err, &ra) {
		return ra.After, true
	}
	return 0, false
}

// TokenSet is an upstream token answer as the broker keeps it.
type TokenSet struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	// Expiry is when the access token expires; zero means it does not
	// (only when the provider documents non-expiring tokens).
	Expiry time.Time `json:"expiry,omitzero"`
	Scope  string    `json:"scope,omitempty"`
	// Extra holds provider fields handed back to the app (instance_url…).
	Extra map[string]any `json:"extra,omitempty"`
	// RedirectURI is the redirect_uri of the code exchange, kept for a
	// refresh that must repeat it ({redirect_uri} in
	// quirks.refresh_params); never handed to the app.
	RedirectURI string `json:"redirect_uri,omitempty"`
}

// AuthRequest carries what one authorization-code flow binds together.
type AuthRequest struct {
	// State is the one-time state (RFC 6749 §10.12).
	State string
	// Verifier is the PKCE code verifier (RFC 7636); the challenge sent is
	// its S256 hash.
	Verifier string
	// Nonce binds the ID token to the request (OIDC); empty for OAuth2.
	Nonce string
	// Scopes requested; the provider's configured scopes when empty.
	Scopes []string
	// RedirectURL is the broker's callback.
	RedirectURL string
	// Callback is the query of the provider's callback (Exchange only),
	// for quirks.callback_params.
	Callback url.Values
}

// Provider is an upstream authorization server.
//
// Implementations are safe for concurrent use and make no upstream call
// that is not bounded by a timeout.
type Provider interface {
	// AuthCodeURL returns the URL to send the user to. It always carries
	// the state and a PKCE S256 challenge, and the nonce when set.
	AuthCodeURL(r AuthRequest) string
	// Exchange trades an authorization code for tokens (RFC 6749 §4.1.3),
	// sending the PKCE verifier. OIDC providers verify the ID token
	// (signature, issuer, audience, expiry) and its nonce.
	Exchange(ctx context.Context, code string, r AuthRequest) (*TokenSet, error)
	// Refresh uses ts.RefreshToken (RFC 6749 §6). The result keeps the old
	// refresh token when the upstream sends none.
	Refresh(ctx context.Context, ts *TokenSet) (*TokenSet, error)
}

// DefaultScoper is a Provider that reports the scopes an authorization
// request naming none asks for: its configured scopes, or the ones it
// fills in itself (a catalog entry's default_scopes, an MCP server's
// advertised scopes, OIDC's openid). The broker records them as the
// requested scope, which is the granted one when the token answer
// omits scope (RFC 6749 §5.1).
type DefaultScoper interface {
	DefaultScopes() []string
}

// Revoker is a Provider that can revoke tokens at the upstream.
type Revoker interface {
	// Revoke revokes the grant behind ts (RFC 7009 or the provider's own
	// call). It returns ErrRevocationUnsupported when there is no way.
	Revoke(ctx context.Context, ts *TokenSet) error
}

// RefreshPolicy says when a background refresher renews a provider's
// connections before a token request needs it.
type RefreshPolicy struct {
	// Lead renews a connection this long before its access token
	// expires; zero means the broker's global lead.
	Lead time.Duration
	// IdleAfter renews a connection whose grant was last refreshed (or
	// connected) this long ago, even when its access token is far from
	// expiry or never expires: for providers that expire refresh tokens
	// left unused. Zero means never.
	IdleAfter time.Duration
}

// Bounds of a RefreshPolicy, checked by Config.Validate.
const (
	MinRefreshLead      = time.Minute
	MaxRefreshLead      = 24 * time.Hour
	MinRefreshIdleAfter = time.Hour
	MaxRefreshIdleAfter = 365 * 24 * time.Hour
)

// Validate checks the bounds: each field is zero or within them.
func (p RefreshPolicy) Validate() error {
	if p.Lead != 0 && (p.Lead < MinRefreshLead || p.Lead > MaxRefreshLead) {
		return fmt.Errorf("providers: refresh_lead must be between %v and %v", MinRefreshLead, MaxRefreshLead)
	}
	if p.IdleAfter != 0 && (p.IdleAfter < MinRefreshIdleAfter || p.IdleAfter > MaxRefreshIdleAfter) {
		return fmt.Errorf("providers: refresh_idle_after must be between %v and %v", MinRefreshIdleAfter, MaxRefreshIdleAfter)
	}
	return nil
}

// RefreshAdvisor is a Provider that knows its refresh policy: the one
// configured, completed by what its catalog entry documents.
type RefreshAdvisor interface {
	RefreshPolicy() RefreshPolicy
}

// NeedsReauth reports whether err means the user must reconnect: only
// ErrInvalidGrant, the user's grant is dead. ErrInvalidClient does not:
// it says nothing about the user's grant, which works again once the
// provider configuration is fixed.
func NeedsReauth(err error) bool {
	return errors.Is(err, ErrInvalidGrant)
}

// CallbackKeeper is a Provider whose callback carries parameters the app
// needs (Intuit's realmId): the broker keeps them with the connection.
type CallbackKeeper interface {
	CallbackKeep() []string
}

// CallbackChecker is a Provider that can check its authorization
// response before the code is used: the RFC 9207 iss parameter when the
// provider advertises it, a provider's own signature (Shopify's hmac).
type CallbackChecker interface {
	// CheckCallback returns an error wrapping ErrUpstream when the
	// callback's parameters q do not come from this provider.
	CheckCallback(q url.Values) error
}
