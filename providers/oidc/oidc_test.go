package oidc_test

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/providers/oauth"
	"github.com/oauth2broker/oauth2broker/providers/oidc"
	"github.com/oauth2broker/oauth2broker/providers/providertest"
)

// redirectURL is the broker callback registered at the OP; nothing listens
// there: Login returns the redirect without following it.
const redirectURL = "http://127.0.0.1:9/connections/callback"

// RFC 7636 Appendix B verifier.
const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

// sentinels are the providers errors a call can be classified as.
var sentinels = []error{
	providers.ErrInvalidGrant,
	providers.ErrInvalidClient,
	providers.ErrUnavailable,
	providers.ErrUpstream,
	providers.ErrRevocationUnsupported,
}

// startOP starts the example OP and returns it with a provider discovered
// from its issuer, asking for offline_access; the provider's clock is
// frozen at the start.
func startOP(t *testing.T) (*providertest.OP, *oidc.Provider, time.Time) {
	t.Helper()
	op := providertest.StartOP(t, providertest.OPConfig{RedirectURIs: []string{redirectURL}})
	now := time.Now()
	p, err := oidc.New(t.Context(), opConfig(op, now))
	if err != nil {
		t.Fatalf("oidc.New: %v", err)
	}
	return op, p, now
}

func opConfig(op *providertest.OP, now time.Time) oauth.Config {
	return oauth.Config{
		Config: providers.Config{
			Name: "op", Type: providers.TypeOIDC, Issuer: op.Issuer,
			ClientID: op.ClientID, ClientSecret: op.ClientSecret,
			AuthStyle: providers.AuthStyleHeader,
			Scopes:    []string{"offline_access", "email"},
		},
		HTTPClient: &http.Client{Timeout: 10 * time.Second},
		Now:        func() time.Time { return now },
	}
}

// authRequest returns a flow's request with its own state and nonce.
func authRequest(n string) providers.AuthRequest {
	return providers.AuthRequest{State: "state-" + n, Nonce: "nonce-" + n, Verifier: verifier, RedirectURL: redirectURL}
}

// login signs in at the OP for r and returns the code.
func login(t *testing.T, op *providertest.OP, p *oidc.Provider, r providers.AuthRequest) string {
	t.Helper()
	u := op.Login(t, p.AuthCodeURL(r))
	if got := u.Query().Get("state"); got != r.State {
		t.Fatalf("login state = %q, want %q", got, r.State)
	}
	code := u.Query().Get("code")
	if code == "" {
		t.Fatalf("login redirected to %s, want a code", u)
	}
	return code
}

// connect runs a whole flow and returns the tokens.
func connect(t *testing.T, op *providertest.OP, p *oidc.Provider) *providers.TokenSet {
	t.Helper()
	r := authRequest("connect")
	ts, err := p.Exchange(t.Context(), login(t, op, p, r), r)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	return ts
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

// checkExpiry checks that expiry is the injected clock plus the whole
// seconds of expires_in the OP answers: its access-token lifetime, less the
// time already spent (expires_in is rounded down).
func checkExpiry(t *testing.T, expiry, now time.Time) {
	t.Helper()
	d := expiry.Sub(now)
	lt := providertest.OPAccessTokenLifetime
	if d%time.Second != 0 || d < lt-5*time.Second || d > lt {
		t.Errorf("got expiry now+%v, want now + whole seconds in [%v, %v]", d, lt-5*time.Second, lt)
	}
}

// TestDiscovery checks that New takes the authorization, token and
// revocation endpoints from discovery, and adds the openid scope.
func TestDiscovery(t *testing.T) {
	op, p, _ := startOP(t)
	tests := []struct {
		name      string
		scopes    []string
		wantScope string
	}{
		{"configured scopes", nil, "openid offline_access email"},
		{"requested scopes", []string{"profile"}, "openid profile"},
		{"requested scopes with openid", []string{"email", "openid"}, "email openid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := authRequest("d")
			r.Scopes = tt.scopes
			u, err := url.Parse(p.AuthCodeURL(r))
			if err != nil {
				t.Fatalf("AuthCodeURL: %v", err)
			}
			if got := u.Scheme + "://" + u.Host + u.Path; got != op.AuthURL {
				t.Errorf("got authorization endpoint %s, want %s", got, op.AuthURL)
			}
			q := u.Query()
			if got := q.Get("scope"); got != tt.wantScope {
				t.Errorf("got scope %q, want %q", got, tt.wantScope)
			}
			for k, want := range map[string]string{"nonce": r.Nonce, "state": r.State, "code_challenge_method": "S256", "client_id": op.ClientID, "redirect_uri": redirectURL} {
				if got := q.Get(k); got != want {
					t.Errorf("got %s %q, want %q", k, got, want)
				}
			}
		})
	}

	// A flow naming no scope asks for openid and the configured ones,
	// which the broker records as the requested scope.
	if got := strings.Join(p.DefaultScopes(), " "); got != "openid offline_access email" {
		t.Errorf("DefaultScopes: got %q, want %q", got, "openid offline_access email")
	}

	// The token endpoint comes from discovery: the exchange reaches the OP.
	ts := connect(t, op, p)
	if n := op.ExchangeCount(); n != 1 {
		t.Errorf("got %d exchanges at the OP, want 1", n)
	}
	// So does the revocation endpoint: nothing was configured.
	if err := p.Revoke(t.Context(), ts); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if n := op.RevokeCount(); n != 1 {
		t.Errorf("got %d revocations at the OP, want 1", n)
	}
}

// TestConfiguredEndpointWins checks that a configured revocation URL is
// used instead of the discovered one.
func TestConfiguredEndpointWins(t *testing.T) {
	op := providertest.StartOP(t, providertest.OPConfig{RedirectURIs: []string{redirectURL}})
	f := providertest.NewFake(t)
	cfg := opConfig(op, time.Now())
	cfg.RevocationURL = f.RevocationURL
	p, err := oidc.New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("oidc.New: %v", err)
	}
	// The Fake does not know the OP's client: it refuses the credentials.
	err = p.Revoke(t.Context(), &providers.TokenSet{AccessToken: "at", RefreshToken: "rt"})
	checkSentinel(t, err, providers.ErrInvalidClient)
	if got, want := [2]int{f.RevokeCount(), op.RevokeCount()}, [2]int{1, 0}; got != want {
		t.Errorf("got revocations (configured, discovered) %v, want %v", got, want)
	}
}

// TestExchange runs the authorization-code flow at the OP with the right
// and wrong nonces and verifiers. Codes are one-use: each case logs in.
func TestExchange(t *testing.T) {
	op, p, now := startOP(t)
	tests := []struct {
		name   string
		change func(*providers.AuthRequest) // at the exchange, after login
		want   error
	}{
		{"right nonce and verifier", func(*providers.AuthRequest) {}, nil},
		{"other nonce", func(r *providers.AuthRequest) { r.Nonce = "nonce-other" }, providers.ErrUpstream},
		{"no nonce", func(r *providers.AuthRequest) { r.Nonce = "" }, providers.ErrUpstream},
		{"wrong verifier", func(r *providers.AuthRequest) { r.Verifier = strings.Repeat("x", 43) }, providers.ErrInvalidGrant},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := authRequest(string(rune('a' + i)))
			code := login(t, op, p, r)
			tt.change(&r)
			ts, err := p.Exchange(t.Context(), code, r)
			if tt.want != nil {
				checkSentinel(t, err, tt.want)
				if err != nil && strings.Contains(err.Error(), code) {
					t.Errorf("error %q contains the code", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			if ts.AccessToken == "" || ts.IDToken == "" || ts.RefreshToken == "" {
				t.Errorf("got access %q id_token %q refresh %q, want all three", ts.AccessToken, ts.IDToken, ts.RefreshToken)
			}
			if ts.TokenType != "Bearer" {
				t.Errorf("got token type %q, want Bearer", ts.TokenType)
			}
			checkExpiry(t, ts.Expiry, now)
			if scopes := strings.Fields(ts.Scope); ts.Scope != "" && !slices.Contains(scopes, "offline_access") {
				t.Errorf("got scope %q, want offline_access in it", ts.Scope)
			}
		})
	}
	if n := op.ExchangeCount(); n != len(tests) {
		t.Errorf("got %d exchanges at the OP, want %d", n, len(tests))
	}
}

// TestRefreshAndRevoke refreshes at the OP (which rotates refresh
// tokens), replays the old refresh token, then revokes.
func TestRefreshAndRevoke(t *testing.T) {
	op, p, now := startOP(t)
	first := connect(t, op, p)

	second, err := p.Refresh(t.Context(), first)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if n := op.RefreshCount(); n != 1 {
		t.Errorf("got %d refreshes at the OP, want 1", n)
	}
	if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken {
		t.Errorf("got refresh token %q, want a rotated one (old %q)", second.RefreshToken, first.RefreshToken)
	}
	if second.AccessToken == "" || second.AccessToken == first.AccessToken {
		t.Errorf("got access token %q, want a new one", second.AccessToken)
	}
	if second.IDToken == "" {
		t.Error("got no id_token after refresh, want the new or the old one")
	}
	checkExpiry(t, second.Expiry, now)

	// The rotated-out refresh token is dead.
	_, err = p.Refresh(t.Context(), first)
	checkSentinel(t, err, providers.ErrInvalidGrant)
	if err != nil && strings.Contains(err.Error(), first.RefreshToken) {
		t.Errorf("error %q contains the refresh token", err)
	}

	if err := p.Revoke(t.Context(), second); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if n := op.RevokeCount(); n != 1 {
		t.Errorf("got %d revocations at the OP, want 1", n)
	}
	_, err = p.Refresh(t.Context(), second)
	checkSentinel(t, err, providers.ErrInvalidGrant)
}

// TestNewUnreachable checks that discovery of an issuer that does not
// answer (a closed port, or a server that hangs past the HTTP client's
// timeout) fails with ErrUnavailable.
func TestNewUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()

	hang := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	t.Cleanup(hang.Close)

	tests := []struct {
		name   string
		issuer string
	}{
		{"closed port", closed},
		{"hanging issuer", hang.URL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			p, err := oidc.New(t.Context(), oauth.Config{
				Config:     providers.Config{Issuer: tt.issuer, ClientID: "c", ClientSecret: "s"},
				HTTPClient: &http.Client{Timeout: 300 * time.Millisecond},
			})
			if !errors.Is(err, providers.ErrUnavailable) {
				t.Errorf("got %v, %v, want an error wrapping %v", p, err, providers.ErrUnavailable)
			}
			if d := time.Since(start); d > 30*time.Second { // the issuer hangs for ever
				t.Errorf("New took %v, want it bounded by the client timeout", d)
			}
		})
	}
}
