package providertest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// Endpoint names of the Fake, as recorded in [Request.Endpoint].
const (
	EndpointAuthorize = "authorize"
	EndpointToken     = "token"
	EndpointRevoke    = "revoke"
)

// Default client credentials the Fake accepts.
const (
	DefaultFakeClientID     = "fake-client"
	DefaultFakeClientSecret = "fake-secret"
)

// Format selects how the Fake encodes successful token answers.
type Format int

const (
	// FormatJSON answers application/json (RFC 6749 §5.1). The default.
	FormatJSON Format = iota
	// FormatForm answers application/x-www-form-urlencoded, as GitHub does
	// without an Accept header.
	FormatForm
)

// Failure selects how the token endpoint fails a grant.
type Failure int

const (
	// FailNone answers normally. The default.
	FailNone Failure = iota
	// FailInvalidGrant answers 400 {"error":"invalid_grant"} (RFC 6749 §5.2).
	FailInvalidGrant
	// FailServerError answers 500 {"error":"server_error"}.
	FailServerError
	// FailUnavailable answers 503 {"error":"temporarily_unavailable"} with
	// Retry-After: 1, or Behavior.RetryAfter when set.
	FailUnavailable
	// FailHang holds the request for Behavior.Hang, then answers normally.
	// With Hang zero it holds it until the client gives up or the Fake is
	// closed, and never answers.
	FailHang
	// FailTooManyRequests answers 429 {"error":"too_many_requests"} (RFC
	// 6585 §4) with Behavior.RetryAfter as its Retry-After header, if set.
	FailTooManyRequests
)

// RefreshTokenMode selects what a refresh answer says about the refresh
// token (RFC 6749 §6).
type RefreshTokenMode int

const (
	// RefreshOmit leaves refresh_token out of refresh answers, like Google:
	// the client keeps using the one it has. The default.
	RefreshOmit RefreshTokenMode = iota
	// RefreshRotate issues a new refresh token on every refresh; the one
	// used answers invalid_grant from then on.
	RefreshRotate
	// RefreshEcho answers the refresh token that was used.
	RefreshEcho
)

// Behavior is what the Fake does; the zero value is a well-behaved
// upstream. Change it with [Fake.SetBehavior] or [Fake.Update]; each
// request reads it once, when it arrives.
type Behavior struct {
	// Format encodes successful token answers.
	Format Format
	// ContentType, when set, replaces the Content-Type of successful token
	// answers, e.g. "text/plain" for JSON with a wrong content type.
	ContentType string
	// OmitExpiresIn leaves expires_in out of token answers.
	OmitExpiresIn bool
	// OmitScope leaves scope out of token answers, as RFC 6749 §5.1
	// allows when the granted scope is the requested one.
	OmitScope bool
	// ExpiresIn is the access-token lifetime announced; zero means 1h.
	ExpiresIn time.Duration
	// RefreshTokens says what refresh answers do with the refresh token.
	RefreshTokens RefreshTokenMode
	// ExchangeFail and RefreshFail make authorization_code and
	// refresh_token grants fail, after client authentication.
	ExchangeFail Failure
	RefreshFail  Failure
	// RetryAfter is the Retry-After header of FailTooManyRequests and
	// FailUnavailable answers: delay-seconds or an HTTP date.
	RetryAfter string
	// Hang is how long FailHang holds a request.
	Hang time.Duration
	// RevokeStatus is the revocation endpoint's status: 0 or 200 answers
	// 200 and forgets the token (RFC 7009 §2.2); others answer that status
	// with a JSON error.
	RevokeStatus int
	// AuthorizeError, when set, makes the authorization endpoint redirect
	// with this error code (e.g. "access_denied") and the state instead of
	// a code (RFC 6749 §4.1.2.1).
	AuthorizeError string
	// Delay holds every token and revocation request this long before it
	// is handled.
	Delay time.Duration
}

// Request is one request the Fake received.
type Request struct {
	// Endpoint is EndpointAuthorize, EndpointToken or EndpointRevoke.
	Endpoint string
	Method   string
	// Query is the URL query: the authorization request's parameters
	// (response_type, client_id, redirect_uri, scope, state, nonce,
	// code_challenge, code_challenge_method and any extra ones).
	Query url.Values
	// Form is the POST body of token and revocation requests.
	Form url.Values
	// Authorization is the raw Authorization header; BasicUser and
	// BasicPassword are its client_secret_basic credentials, form-decoded
	// as RFC 6749 §2.3.1 requires, if it is a Basic header.
	Authorization string
	BasicUser     string
	BasicPassword string
	// Header holds all request headers.
	Header http.Header
}

// Fake is a small OAuth 2.0 upstream on an httptest server bound to
// 127.0.0.1: an authorization endpoint that redirects straight back with a
// code, a token endpoint with the authorization_code (PKCE-checked) and
// refresh_token grants, and an RFC 7009 revocation endpoint. It records
// every request. Its fields are set by [NewFake] and must not be changed.
// It is safe for concurrent use.
type Fake struct {
	// URL is the server's base URL; AuthURL, TokenURL and RevocationURL
	// are its endpoints.
	URL           string
	AuthURL       string
	TokenURL      string
	RevocationURL string
	// ClientID and ClientSecret are the only client credentials accepted,
	// by HTTP Basic or in the body.
	ClientID     string
	ClientSecret string

	stop chan struct{} // closed when the test ends; ends hangs

	mu        sync.Mutex
	behavior  Behavior
	requests  []Request
	codes     map[string]authCode
	refresh   map[string]bool // live refresh tokens
	seq       map[string]int  // last number issued per token prefix
	authorize int
	exchanges int
	refreshes int
	revokes   int
}

// authCode is what the Fake remembers about an issued code.
type authCode struct {
	redirectURI, scope, challenge, method string
}

// NewFake starts a Fake with the zero Behavior; t.Cleanup closes it,
// releasing any hanging request.
func NewFake(t testing.TB) *Fake {
	t.Helper()
	f := &Fake{
		ClientID:     DefaultFakeClientID,
		ClientSecret: DefaultFakeClientSecret,
		stop:         make(chan struct{}),
		codes:        map[string]authCode{},
		refresh:      map[string]bool{},
		seq:          map[string]int{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", f.handleAuthorize)
	mux.HandleFunc("POST /token", f.handleToken)
	mux.HandleFunc("POST /revoke", f.handleRevoke)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		close(f.stop)
		srv.Close()
	})
	f.URL = srv.URL
	f.AuthURL, f.TokenURL, f.RevocationURL = srv.URL+"/authorize", srv.URL+"/token", srv.URL+"/revoke"
	return f
}

// AddRefreshToken makes rt a live refresh token, as if the Fake had
// issued it before: a grant made elsewhere and imported into the broker.
func (f *Fake) AddRefreshToken(rt string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refresh[rt] = true
}

// Endpoint returns the Fake's endpoints for an [oauth2.Config], with HTTP
// Basic client authentication.
func (f *Fake) Endpoint() oauth2.Endpoint {
	return oauth2.Endpoint{AuthURL: f.AuthURL, TokenURL: f.TokenURL, AuthStyle: oauth2.AuthStyleInHeader}
}

// Behavior returns the current behaviour.
func (f *Fake) Behavior() Behavior {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.behavior
}

// SetBehavior replaces the behaviour for requests that arrive from now on.
func (f *Fake) SetBehavior(b Behavior) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.behavior = b
}

// Update changes the behaviour in place, under the Fake's lock.
func (f *Fake) Update(change func(*Behavior)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(&f.behavior)
}

// Authorize behaves like a browser at the Fake: it GETs authorizationURL
// and returns the Location of the redirect to its redirect_uri (with code
// and state, or error) without requesting it. Any other answer fails the
// test.
func (f *Fake) Authorize(t testing.TB, authorizationURL string) *url.URL {
	t.Helper()
	au, err := url.Parse(authorizationURL)
	if err != nil {
		t.Fatalf("providertest: authorize: %v", err)
	}
	b := newBrowser([]string{au.Query().Get("redirect_uri")})
	u, err := b.run(authorizationURL, func(page *url.URL, _ []byte) (*http.Request, error) {
		return nil, fmt.Errorf("%s answered 200 instead of redirecting", page)
	})
	if err != nil {
		t.Fatalf("providertest: authorize: %v", err)
	}
	return u
}

// Requests returns copies of all requests received so far, oldest first.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Request, len(f.requests))
	for i, r := range f.requests {
		r.Query, r.Form, r.Header = cloneValues(r.Query), cloneValues(r.Form), r.Header.Clone()
		out[i] = r
	}
	return out
}

// AuthorizeCount returns the number of authorization requests.
func (f *Fake) AuthorizeCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.authorize
}

// ExchangeCount returns the number of authorization_code token requests,
// whatever their outcome.
func (f *Fake) ExchangeCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.exchanges
}

// RefreshCount returns the number of refresh_token token requests,
// whatever their outcome.
func (f *Fake) RefreshCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refreshes
}

// RevokeCount returns the number of revocation requests.
func (f *Fake) RevokeCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.revokes
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
