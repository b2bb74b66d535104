package oauth_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/providers/oauth"
	"github.com/oauth2broker/oauth2broker/providers/providertest"
)

// redirectURL is the broker callback; nothing listens there: the Fake's
// Authorize returns the redirect without following it.
const redirectURL = "http://127.0.0.1:9/connections/callback"

// RFC 7636 Appendix B: a code verifier and its S256 code challenge.
const (
	rfcVerifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	rfcChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
)

// testNow is the injected clock: far from the real time, so an expiry
// computed from time.Now cannot pass for one computed from Config.Now.
var testNow = time.Date(2031, time.May, 6, 7, 8, 9, 0, time.UTC)

// sentinels are the providers errors a call can be classified as.
var sentinels = []error{
	providers.ErrInvalidGrant,
	providers.ErrInvalidClient,
	providers.ErrUnavailable,
	providers.ErrUpstream,
	providers.ErrRevocationUnsupported,
}

// fakeConfig returns a Config for f with the given client auth style and
// the injected clock.
func fakeConfig(f *providertest.Fake, style string) oauth.Config {
	return oauth.Config{
		Config: providers.Config{
			Name:          "fake",
			Type:          providers.TypeOAuth2,
			AuthURL:       f.AuthURL,
			TokenURL:      f.TokenURL,
			RevocationURL: f.RevocationURL,
			AuthStyle:     style,
			ClientID:      f.ClientID,
			ClientSecret:  f.ClientSecret,
			Scopes:        []string{"read", "write"},
		},
		HTTPClient: &http.Client{Timeout: 5 * time.Second},
		Now:        func() time.Time { return testNow },
	}
}

// newProvider returns a Provider for cfg or fails the test.
func newProvider(t *testing.T, cfg oauth.Config) *oauth.Provider {
	t.Helper()
	p, err := oauth.New(cfg)
	if err != nil {
		t.Fatalf("oauth.New: %v", err)
	}
	return p
}

// authRequest is a flow's request with the RFC 7636 verifier.
func authRequest() providers.AuthRequest {
	return providers.AuthRequest{State: "state-0123456789", Verifier: rfcVerifier, RedirectURL: redirectURL}
}

// code runs the authorization step at the Fake and returns the code.
func code(t *testing.T, f *providertest.Fake, p *oauth.Provider, r providers.AuthRequest) string {
	t.Helper()
	u := f.Authorize(t, p.AuthCodeURL(r))
	c := u.Query().Get("code")
	if c == "" {
		t.Fatalf("authorize redirected to %s, want a code", u)
	}
	if got := u.Query().Get("state"); got != r.State {
		t.Fatalf("authorize state = %q, want %q", got, r.State)
	}
	return c
}

// exchange runs a whole flow at the Fake and returns the tokens.
func exchange(t *testing.T, f *providertest.Fake, p *oauth.Provider) *providers.TokenSet {
	t.Helper()
	r := authRequest()
	ts, err := p.Exchange(t.Context(), code(t, f, p, r), r)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if ts.RefreshToken == "" {
		t.Fatal("Exchange gave no refresh token")
	}
	return ts
}

// lastRequest returns the last request the Fake received at endpoint.
func lastRequest(t *testing.T, f *providertest.Fake, endpoint string) providertest.Request {
	t.Helper()
	reqs := f.Requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Endpoint == endpoint {
			return reqs[i]
		}
	}
	t.Fatalf("the Fake received no %s request", endpoint)
	return providertest.Request{}
}

// checkSentinel fails the test unless err wraps want and no other
// sentinel.
func checkSentinel(t *testing.T, err, want error) {
	t.Helper()
	if err == nil {
		t.Fatalf("got nil error, want %v", want)
	}
	for _, s := range sentinels {
		if got := errors.Is(err, s); got != (s == want) {
			t.Errorf("errors.Is(%q, %v) = %v, want %v", err, s, got, s == want)
		}
	}
}
