package providertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"golang.org/x/oauth2"

	"github.com/oauth2broker/oauth2broker/examples/demoop"
)

// Facts about the example OP of github.com/zitadel/oidc/v3 (v3.51.17),
// hard-coded in its example/server/storage package.
const (
	// OPAccessTokenLifetime is the lifetime the example storage gives every
	// access token; [OPConfig.AccessTokenLifetime] can only shorten the
	// expires_in the OP reports.
	OPAccessTokenLifetime = 5 * time.Minute
	// OPRefreshTokenLifetime is the lifetime of a refresh token, renewed on
	// every refresh.
	OPRefreshTokenLifetime = 5 * time.Hour
	// OPIDTokenLifetime is the lifetime of every ID token.
	OPIDTokenLifetime = time.Hour
)

// Default client credentials used by [StartOP] when [OPConfig] leaves them
// empty.
const (
	DefaultOPClientID     = "broker"
	DefaultOPClientSecret = "broker-secret"
)

// OPConfig configures [StartOP].
type OPConfig struct {
	// RedirectURIs are the registered redirect URIs of the client, usually
	// the broker's callback URL. Required: the OP redirects only to these.
	RedirectURIs []string
	// ClientID and ClientSecret identify the single confidential web client
	// (client_secret_basic, RFC 6749 §2.3.1). Empty means
	// DefaultOPClientID and DefaultOPClientSecret.
	ClientID     string
	ClientSecret string
	// AccessTokenLifetime, when positive and below OPAccessTokenLifetime,
	// caps the expires_in of token answers, so that a client sees its
	// access token expire early and refreshes. The OP itself still honours
	// the token for OPAccessTokenLifetime (userinfo, introspection).
	// expires_in is whole seconds (the lifetime rounded down); values under
	// 1s would be answered as expires_in 0, which clients read as "no
	// expiry", so StartOP rejects them.
	AccessTokenLifetime time.Duration
}

// OP is a running example OpenID provider, see [StartOP]. Its fields are
// set once by StartOP and must not be changed.
//
// Facts: the authorization_code and refresh_token grants are allowed;
// PKCE (S256 and plain) is accepted and checked when a code_challenge was
// sent, but not required; a refresh token is issued only when the scope
// contains offline_access; refresh tokens rotate (the old one then answers
// invalid_grant); access tokens are opaque; ID tokens are RS256 JWTs with
// the client ID as audience; RFC 7009 revocation is supported.
type OP struct {
	// Issuer is the OP's issuer URL, http://127.0.0.1:PORT (no trailing
	// slash). Discovery is at Issuer + "/.well-known/openid-configuration".
	Issuer string
	// ClientID and ClientSecret are the registered client's credentials.
	ClientID     string
	ClientSecret string
	// RedirectURIs are the client's registered redirect URIs.
	RedirectURIs []string
	// Username and Password belong to an example user that can log in.
	Username string
	Password string
	// AuthURL, TokenURL, RevocationURL (RFC 7009) and UserinfoURL are the
	// endpoints announced by discovery.
	AuthURL       string
	TokenURL      string
	RevocationURL string
	UserinfoURL   string
	// RotatesRefreshTokens reports that every refresh answer carries a new
	// refresh token and invalidates the one that was used (always true for
	// the example storage).
	RotatesRefreshTokens bool

	next http.Handler
	// revokeMu lets a revocation run alone: the example storage reads its
	// refresh-token map without its lock in GetRefreshTokenInfo.
	revokeMu sync.RWMutex

	mu         sync.Mutex
	tokenPath  string
	revokePath string
	grants     map[string]int
	tokens     int
	revokes    int
}

// StartOP starts the zitadel example OpenID provider on an httptest server
// bound to 127.0.0.1, with one confidential web client whose redirect URIs
// are cfg.RedirectURIs. The server is closed by t.Cleanup. StartOP fails
// the test on any error; it takes well under a second (an RSA-2048 key is
// generated).
func StartOP(t testing.TB, cfg OPConfig) *OP {
	t.Helper()
	if len(cfg.RedirectURIs) == 0 {
		t.Fatal("providertest: OPConfig.RedirectURIs is empty")
	}
	if cfg.AccessTokenLifetime > 0 && cfg.AccessTokenLifetime < time.Second {
		t.Fatalf("providertest: OPConfig.AccessTokenLifetime %v is under 1s", cfg.AccessTokenLifetime)
	}
	o := &OP{
		ClientID:             cfg.ClientID,
		ClientSecret:         cfg.ClientSecret,
		RedirectURIs:         append([]string(nil), cfg.RedirectURIs...),
		RotatesRefreshTokens: true,
		grants:               map[string]int{},
	}
	if o.ClientID == "" {
		o.ClientID = DefaultOPClientID
	}
	if o.ClientSecret == "" {
		o.ClientSecret = DefaultOPClientSecret
	}

	srv := httptest.NewUnstartedServer(http.HandlerFunc(o.serve))
	o.Issuer = "http://" + srv.Listener.Addr().String()

	wrap := func(st *storage.Storage) exampleop.Storage { return st }
	if lt := cfg.AccessTokenLifetime; lt > 0 && lt < OPAccessTokenLifetime {
		wrap = func(st *storage.Storage) exampleop.Storage {
			return &cappedStorage{Storage: st, lifetime: lt, now: time.Now}
		}
	}
	demo, err := demoop.New(demoop.Config{Issuer: o.Issuer, ClientID: o.ClientID, ClientSecret: o.ClientSecret, RedirectURIs: o.RedirectURIs, Wrap: wrap})
	if err != nil {
		t.Fatalf("providertest: %v", err)
	}
	o.Username, o.Password, o.next = demo.Username, demo.Password, demo.Handler
	srv.Start()
	t.Cleanup(srv.Close)

	if err := o.discover(srv.Client()); err != nil {
		t.Fatalf("providertest: %v", err)
	}
	return o
}

// discover reads the OP's discovery document and sets the endpoint URLs.
func (o *OP) discover(c *http.Client) error {
	resp, err := c.Get(o.Issuer + "/.well-known/openid-configuration")
	if err != nil {
		return fmt.Errorf("discovery: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("discovery: status %d", resp.StatusCode)
	}
	var doc struct {
		Issuer        string `json:"issuer"`
		Authorization string `json:"authorization_endpoint"`
		Token         string `json:"token_endpoint"`
		Revocation    string `json:"revocation_endpoint"`
		Userinfo      string `json:"userinfo_endpoint"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return fmt.Errorf("discovery: %w", err)
	}
	if doc.Issuer != o.Issuer {
		return fmt.Errorf("discovery: issuer %q, want %q", doc.Issuer, o.Issuer)
	}
	tok, err := url.Parse(doc.Token)
	if err != nil {
		return fmt.Errorf("discovery: token_endpoint: %w", err)
	}
	rev, err := url.Parse(doc.Revocation)
	if err != nil {
		return fmt.Errorf("discovery: revocation_endpoint: %w", err)
	}
	o.AuthURL, o.TokenURL = doc.Authorization, doc.Token
	o.RevocationURL, o.UserinfoURL = doc.Revocation, doc.Userinfo
	o.mu.Lock()
	o.tokenPath, o.revokePath = tok.Path, rev.Path
	o.mu.Unlock()
	return nil
}

// Endpoint returns the OP's endpoints for an [oauth2.Config]. The client
// authenticates with HTTP Basic (client_secret_basic).
func (o *OP) Endpoint() oauth2.Endpoint {
	return oauth2.Endpoint{AuthURL: o.AuthURL, TokenURL: o.TokenURL, AuthStyle: oauth2.AuthStyleInHeader}
}

// serve counts token and revocation requests, then hands the request to the
// example OP.
func (o *OP) serve(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	tokenPath, revokePath := o.tokenPath, o.revokePath
	o.mu.Unlock()
	if r.Method == http.MethodPost {
		switch r.URL.Path {
		case tokenPath:
			o.countToken(r)
		case revokePath:
			o.mu.Lock()
			o.revokes++
			o.mu.Unlock()
			o.revokeMu.Lock()
			defer o.revokeMu.Unlock()
			o.next.ServeHTTP(w, r)
			return
		}
	}
	o.revokeMu.RLock()
	defer o.revokeMu.RUnlock()
	o.next.ServeHTTP(w, r)
}

// countToken counts a token request by grant_type, leaving the body
// readable for the OP.
func (o *OP) countToken(r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	grant := r.URL.Query().Get("grant_type")
	if vals, perr := url.ParseQuery(string(body)); err == nil && perr == nil && vals.Has("grant_type") {
		grant = vals.Get("grant_type")
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.tokens++
	o.grants[grant]++
}

// TokenCount returns the number of POSTs to the token endpoint so far,
// whatever their grant_type or outcome.
func (o *OP) TokenCount() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.tokens
}

// GrantCount returns the number of POSTs to the token endpoint with the
// given grant_type so far, whatever their outcome.
func (o *OP) GrantCount(grantType string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.grants[grantType]
}

// ExchangeCount returns the number of authorization_code token requests.
func (o *OP) ExchangeCount() int { return o.GrantCount("authorization_code") }

// RefreshCount returns the number of refresh_token token requests.
func (o *OP) RefreshCount() int { return o.GrantCount("refresh_token") }

// RevokeCount returns the number of POSTs to the revocation endpoint.
func (o *OP) RevokeCount() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.revokes
}
