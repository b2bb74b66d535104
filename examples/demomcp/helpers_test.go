package demomcp_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/oauth2"

	"github.com/oauth2broker/oauth2broker/examples/demomcp"
)

const (
	testClient   = "app"
	testSecret   = "app-secret"
	testRedirect = "http://127.0.0.1:9/callback"
)

// start serves a demo built from cfg (BaseURL filled in) on a loopback
// httptest server.
func start(t *testing.T, cfg demomcp.Config) *demomcp.Demo {
	t.Helper()
	var h http.Handler = http.NotFoundHandler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	cfg.BaseURL = srv.URL
	if cfg.Clients == nil {
		cfg.Clients = []demomcp.Client{{ID: testClient, Secret: testSecret, RedirectURIs: []string{testRedirect}}}
	}
	d, err := demomcp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h = d.Handler
	return d
}

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{Timeout: 30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// oauthConfig is an x/oauth2 client of the demo.
func oauthConfig(d *demomcp.Demo, id, secret string, scopes ...string) *oauth2.Config {
	return &oauth2.Config{ClientID: id, ClientSecret: secret, RedirectURL: testRedirect, Scopes: scopes,
		Endpoint: oauth2.Endpoint{AuthURL: d.AuthorizeURL, TokenURL: d.TokenURL}}
}

// authorize runs the authorization request and returns the redirect's
// query (code or error, iss, state).
func authorize(t *testing.T, authURL string) url.Values {
	t.Helper()
	resp, err := noRedirect.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: got status %d, want 302", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != testRedirect {
		t.Fatalf("authorize redirected to %s, want %s", got, testRedirect)
	}
	return loc.Query()
}

// login runs the whole code flow with PKCE and resource for client
// (id, secret) and returns the token.
func login(t *testing.T, d *demomcp.Demo, id, secret string, scopes ...string) *oauth2.Token {
	t.Helper()
	return loginWith(t, d, oauthConfig(d, id, secret, scopes...))
}

// postForm posts a form to u, with Basic credentials when id is set, and
// returns the status and the decoded JSON body.
func postForm(t *testing.T, u, id, secret string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(id, secret)
	}
	return do(t, req)
}

// do sends req and decodes a JSON answer.
func do(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	return resp.StatusCode, m
}

// bearer is an http.Client that sends token as a Bearer.
func bearer(token string) *http.Client {
	return &http.Client{Transport: &oauth2.Transport{Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token})}}
}

// connect opens an MCP session with the SDK's Streamable HTTP client.
func connect(t *testing.T, endpoint string, hc *http.Client) (*mcp.ClientSession, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil)
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: endpoint, HTTPClient: hc, MaxRetries: -1}, nil)
	if err == nil {
		t.Cleanup(func() { cs.Close() })
	}
	return cs, err
}

// callTool calls a tool and decodes its structured answer into out.
func callTool(t *testing.T, cs *mcp.ClientSession, name string, args, out any) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return demomcp.CallTool(ctx, cs, name, args, out)
}

// errDenied is what a refusing Config.Approve answers.
var errDenied = errors.New("the user said no")

// challengeOf is the S256 challenge option of verifier.
func challengeOf(verifier string) oauth2.AuthCodeOption { return oauth2.S256ChallengeOption(verifier) }

// oauthChallenge is an S256 challenge option of a fresh verifier.
func oauthChallenge() oauth2.AuthCodeOption { return challengeOf(oauth2.GenerateVerifier()) }

// resourceParam is the RFC 8707 resource parameter.
func resourceParam(r string) oauth2.AuthCodeOption { return oauth2.SetAuthURLParam("resource", r) }

// loginHint is the login_hint parameter.
func loginHint(h string) oauth2.AuthCodeOption { return oauth2.SetAuthURLParam("login_hint", h) }

// loginWith runs the code flow with conf and extra authorization options.
func loginWith(t *testing.T, d *demomcp.Demo, conf *oauth2.Config, opts ...oauth2.AuthCodeOption) *oauth2.Token {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	opts = append(opts, challengeOf(verifier), resourceParam(d.Resource))
	q := authorize(t, conf.AuthCodeURL("st", opts...))
	if q.Get("code") == "" {
		t.Fatalf("authorize answered %v, want a code", q)
	}
	tok, err := conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier), resourceParam(d.Resource))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return tok
}

// with is a copy of v with key set to value (removed when value is empty).
func with(v url.Values, key, value string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = vs
	}
	if value == "" {
		out.Del(key)
	} else {
		out.Set(key, value)
	}
	return out
}

// mustGet is a GET request for u.
func mustGet(u string) *http.Request {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		panic(err)
	}
	return req
}

// sameList reports whether a decoded JSON array holds exactly want.
func sameList(v any, want ...string) bool {
	list, _ := v.([]any)
	if len(list) != len(want) {
		return false
	}
	for i, w := range want {
		if list[i] != w {
			return false
		}
	}
	return true
}
