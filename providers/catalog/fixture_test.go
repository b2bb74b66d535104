package catalog

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"gopkg.in/yaml.v3"

	"github.com/oauth2broker/oauth2broker/providers"
)

// The fixture format is described in /work/notes/q1-fixture-format.md
// (and summarised here): one file fixtures/<entry>.yaml per catalog
// entry, transcribed from the provider's documentation, run against an
// httptest server standing in for the provider.

// Fixed inputs of every fixture, so that documented URLs can be written
// out in full.
const (
	fixtureClientID     = "cid"
	fixtureClientSecret = "csecret"
	fixtureRedirectURL  = "https://broker.example.com/acme/oauth2/provider/callback"
	fixtureState        = "af0ifjsldkj"
	// RFC 7636 Appendix B.
	fixtureVerifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	fixtureChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	fixtureNonce     = "n-0S6_WzA2Mj"
	// fixtureIDToken in an answer body is replaced by an ID token signed
	// by the runner for the entry's issuer, the client and the nonce.
	fixtureIDToken = "$ID_TOKEN"
)

// fixtureNow is the runner's clock; expires_in in a fixture's want is
// counted from it.
var fixtureNow = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

// withoutFixtures lists the catalog entries that have no fixtures yet.
// It must be exact: an entry that gains fixtures/<name>.yaml is removed
// from it, and nothing is ever added.
var withoutFixtures = []string{}

// Fixture is one file of fixtures/.
type Fixture struct {
	// Entry is the catalog entry's name (the file's name without .yaml).
	Entry string `yaml:"entry"`
	// Config is the provider configuration the steps run with: vars,
	// scopes, auth_params, quirks a user may set. client_id is "cid",
	// client_secret "csecret" and template the entry unless set here.
	Config providers.Config `yaml:"config"`
	// Discovery (OIDC entries) is merged over the discovery document the
	// runner serves at {issuer}/.well-known/openid-configuration; the
	// runner sets issuer and jwks_uri.
	Discovery map[string]any `yaml:"discovery"`
	Steps     []Step         `yaml:"steps"`
}

// Step is one call of the provider interface and the upstream calls it
// must make.
type Step struct {
	// Name describes the step; Doc is the documentation URL it was
	// transcribed from (required).
	Name string `yaml:"name"`
	Doc  string `yaml:"doc"`
	// Kind is authorize, exchange, refresh or revoke.
	Kind string `yaml:"kind"`
	// Scopes requested at authorize (the config's when empty).
	Scopes []string `yaml:"scopes"`
	// URL is the authorization URL authorize must build: scheme, host and
	// path byte for byte, the query as parsed key/values.
	URL string `yaml:"url"`
	// Code is the authorization code an exchange trades.
	Code string `yaml:"code"`
	// Callback is the callback query (exchange), for kept parameters
	// and quirks.callback_params.
	Callback map[string]string `yaml:"callback"`
	// Before is the stored token set a refresh or a revoke starts from.
	Before *WantTokens `yaml:"before"`
	// Calls are the upstream requests the step must make, in order, and
	// the documented answers.
	Calls []Call `yaml:"calls"`
	// Want is the token set the broker keeps (exchange, refresh).
	Want *WantTokens `yaml:"want"`
	// Error is the classified error: invalid_grant, invalid_client,
	// unavailable, upstream or revocation_unsupported.
	Error string `yaml:"error"`
}

// Call is one upstream request and its answer.
type Call struct {
	Request Request `yaml:"request"`
	Answer  Answer  `yaml:"answer"`
}

// Request is what the upstream must receive.
type Request struct {
	Method string `yaml:"method"`
	// URL: scheme, host and path compared byte for byte, the query as
	// parsed key/values.
	URL string `yaml:"url"`
	// Headers listed must match exactly. Authorization is always
	// compared: absent here means the request must carry none.
	Headers map[string]string `yaml:"headers"`
	// Form (a form body, compared as parsed key/values), JSON (compared
	// as JSON) or Body (raw, byte for byte); none of them means an empty
	// body.
	Form map[string]string `yaml:"form"`
	JSON any               `yaml:"json"`
	Body string            `yaml:"body"`
}

// Answer is the documented answer the upstream gives.
type Answer struct {
	// Status defaults to 200.
	Status int `yaml:"status"`
	// Headers default to Content-Type: application/json when Body starts
	// with { or [.
	Headers map[string]string `yaml:"headers"`
	Body    string            `yaml:"body"`
}

// WantTokens is a token set as the broker keeps it. Every field is
// compared; an empty one must be empty.
type WantTokens struct {
	AccessToken  string `yaml:"access_token"`
	RefreshToken string `yaml:"refresh_token"`
	TokenType    string `yaml:"token_type"`
	Scope        string `yaml:"scope"`
	// ExpiresIn is seconds from the runner's clock; 0 means the token
	// does not expire.
	ExpiresIn int64 `yaml:"expires_in"`
	// IDToken: true when an ID token is kept (its value is the runner's).
	IDToken bool `yaml:"id_token"`
	// Extra is the kept fields handed to the app.
	Extra map[string]any `yaml:"extra"`
	// RedirectURI is the exchange's redirect_uri, kept when a refresh
	// repeats it ({redirect_uri} in quirks.refresh_params).
	RedirectURI string `yaml:"redirect_uri"`
}

func (w *WantTokens) tokenSet() *providers.TokenSet {
	if w == nil {
		return &providers.TokenSet{}
	}
	ts := &providers.TokenSet{AccessToken: w.AccessToken, RefreshToken: w.RefreshToken, TokenType: w.TokenType, Scope: w.Scope, Extra: w.Extra, RedirectURI: w.RedirectURI}
	if w.ExpiresIn != 0 {
		ts.Expiry = fixtureNow.Add(time.Duration(w.ExpiresIn) * time.Second)
	}
	return ts
}

func loadFixture(t *testing.T, path string) *Fixture {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var f Fixture
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &f
}

// TestFixtures runs every entry's fixtures against an httptest server
// standing in for the provider.
func TestFixtures(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join("fixtures", "*.yaml"))
	have := map[string]bool{}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		have[name] = true
		t.Run(name, func(t *testing.T) {
			f := loadFixture(t, path)
			e, ok := c.Get(name)
			if !ok || f.Entry != name {
				t.Fatalf("fixture %s: entry %q: want the name of a catalog entry, equal to the file name", path, f.Entry)
			}
			checkFixtureCoverage(t, e, f)
			runFixture(t, c, e, f)
		})
	}
	var missing []string
	for _, n := range c.Names() {
		if !have[n] {
			missing = append(missing, n)
		}
	}
	want := slices.Clone(withoutFixtures)
	sort.Strings(want)
	if !slices.Equal(missing, want) {
		t.Errorf("entries without fixtures = %q\nwithoutFixtures = %q\n(an entry with fixtures leaves withoutFixtures; a new entry comes with fixtures)", missing, want)
	}
}

// checkFixtureCoverage requires what every fixture file must show: the
// authorization URL, a code exchange, a refresh when the entry refreshes,
// a revocation when it revokes, an error answer, and a doc on each step.
func checkFixtureCoverage(t *testing.T, e *Entry, f *Fixture) {
	t.Helper()
	kinds := map[string]bool{}
	errorAnswer := false
	for i, s := range f.Steps {
		if u, err := url.Parse(s.Doc); err != nil || u.Scheme != "https" {
			t.Errorf("step %d (%s): doc %q: cite the documentation page (https URL)", i, s.Name, s.Doc)
		}
		kinds[s.Kind] = true
		if s.Error != "" && s.Kind != "revoke" {
			errorAnswer = true
		}
	}
	need := []string{"authorize", "exchange"}
	if e.Token.Refresh != "none" {
		need = append(need, "refresh")
	}
	if k := e.revocationKind(); k != "none" && k != "discovered" {
		need = append(need, "revoke")
	}
	for _, k := range need {
		if !kinds[k] {
			t.Errorf("no %s step", k)
		}
	}
	if !errorAnswer {
		t.Error("no step with an error answer (error: invalid_grant …)")
	}
}

func runFixture(t *testing.T, c *Catalog, e *Entry, f *Fixture) {
	up := newFixtureUpstream(t)
	cfg := f.Config
	cfg.Name = "p"
	cfg.Template = e.Name
	if cfg.ClientID == "" {
		cfg.ClientID = fixtureClientID
	}
	if cfg.ClientSecret == "" && e.ClientSecret == "apple_jwt" {
		// A generated client secret: configure a fresh key and let
		// $CLIENT_SECRET_JWT stand for the JWT it signs.
		key, pemKey := newSecretKey(t)
		cfg.ClientSecret = pemKey
		up.secretJWT = &secretJWT{key: &key.PublicKey, kid: cfg.Vars["key_id"], iss: cfg.Vars["team_id"], sub: cfg.ClientID}
	}
	if cfg.ClientSecret == "" {
		cfg.ClientSecret = fixtureClientSecret
	}
	if e.Type == "oidc" {
		oc, err := e.config(cfg)
		if err != nil {
			t.Fatal(err)
		}
		up.serveDiscovery(t, oc.Issuer, cfg.ClientID, f.Discovery)
	}
	p, err := c.Open(t.Context(), cfg, up.client(), func() time.Time { return fixtureNow })
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	for i, s := range f.Steps {
		t.Run(fmt.Sprintf("%d-%s-%s", i, s.Kind, s.Name), func(t *testing.T) {
			up.expect(s.Calls)
			runStep(t, p, s, e.Type == "oidc")
			up.check(t)
		})
	}
}

func runStep(t *testing.T, p providers.Provider, s Step, oidc bool) {
	ar := providers.AuthRequest{State: fixtureState, Verifier: fixtureVerifier, Scopes: s.Scopes, RedirectURL: fixtureRedirectURL}
	if oidc {
		ar.Nonce = fixtureNonce // the broker sends a nonce to OIDC providers only
	}
	var ts *providers.TokenSet
	var err error
	switch s.Kind {
	case "authorize":
		compareURL(t, "authorization URL", p.AuthCodeURL(ar), s.URL)
		return
	case "exchange":
		ar.Callback = url.Values{}
		for k, v := range s.Callback {
			ar.Callback.Set(k, v)
		}
		ts, err = p.Exchange(t.Context(), s.Code, ar)
		if err == nil && len(s.Callback) > 0 {
			err = keepCallback(p, ts, s.Callback)
		}
	case "refresh":
		ts, err = p.Refresh(t.Context(), s.Before.tokenSet())
	case "revoke":
		r, ok := p.(providers.Revoker)
		if !ok {
			err = providers.ErrRevocationUnsupported
		} else {
			err = r.Revoke(t.Context(), s.Before.tokenSet())
		}
	default:
		t.Fatalf("kind %q: want authorize, exchange, refresh or revoke", s.Kind)
	}
	checkError(t, err, s.Error)
	if err == nil && s.Kind != "revoke" {
		compareTokens(t, ts, s.Want)
	}
}

// keepCallback applies the provider's callback_keep as the broker does.
func keepCallback(p providers.Provider, ts *providers.TokenSet, q map[string]string) error {
	k, ok := p.(providers.CallbackKeeper)
	if !ok {
		return nil
	}
	for _, name := range k.CallbackKeep() {
		if v, ok := q[name]; ok {
			if ts.Extra == nil {
				ts.Extra = map[string]any{}
			}
			ts.Extra[name] = v
		}
	}
	return nil
}

var fixtureErrors = map[string]error{
	"invalid_grant":          providers.ErrInvalidGrant,
	"invalid_client":         providers.ErrInvalidClient,
	"unavailable":            providers.ErrUnavailable,
	"upstream":               providers.ErrUpstream,
	"revocation_unsupported": providers.ErrRevocationUnsupported,
}

func checkError(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("got error %v, want none", err)
		}
		return
	}
	sentinel, ok := fixtureErrors[want]
	if !ok {
		t.Fatalf("error %q: want one of invalid_grant, invalid_client, unavailable, upstream, revocation_unsupported", want)
	}
	if !errors.Is(err, sentinel) {
		t.Fatalf("got error %v, want %s", err, want)
	}
}

func compareTokens(t *testing.T, got *providers.TokenSet, w *WantTokens) {
	t.Helper()
	if w == nil {
		t.Fatal("the step succeeds: give want (the token set the broker keeps)")
	}
	check := func(field, got, want string) {
		if got != want {
			t.Errorf("%s = %q, want %q", field, got, want)
		}
	}
	check("access_token", got.AccessToken, w.AccessToken)
	check("refresh_token", got.RefreshToken, w.RefreshToken)
	check("token_type", got.TokenType, w.TokenType)
	check("scope", got.Scope, w.Scope)
	check("redirect_uri", got.RedirectURI, w.RedirectURI)
	if (got.IDToken != "") != w.IDToken {
		t.Errorf("id_token kept = %v, want %v", got.IDToken != "", w.IDToken)
	}
	var gotIn int64
	if !got.Expiry.IsZero() {
		gotIn = int64(got.Expiry.Sub(fixtureNow) / time.Second)
	}
	if gotIn != w.ExpiresIn {
		t.Errorf("expires_in = %d (expiry %v), want %d", gotIn, got.Expiry, w.ExpiresIn)
	}
	if g, x := normJSON(got.Extra), normJSON(w.Extra); !reflect.DeepEqual(g, x) {
		t.Errorf("extra = %v, want %v", g, x)
	}
}

// normJSON makes values comparable across YAML and JSON decoding.
func normJSON(v any) any {
	if m, ok := v.(map[string]any); ok && len(m) == 0 {
		v = nil
	}
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// compareURL compares scheme, host and path byte for byte and the query
// as parsed key/values.
func compareURL(t *testing.T, what, got, want string) {
	t.Helper()
	g, err1 := url.Parse(got)
	w, err2 := url.Parse(want)
	if err1 != nil || err2 != nil {
		t.Fatalf("%s: got %q, want %q: unparsable", what, got, want)
	}
	if g.Scheme != w.Scheme || g.Host != w.Host || g.EscapedPath() != w.EscapedPath() {
		t.Errorf("%s = %s://%s%s, want %s://%s%s", what, g.Scheme, g.Host, g.EscapedPath(), w.Scheme, w.Host, w.EscapedPath())
	}
	if gq, wq := g.Query(), w.Query(); !reflect.DeepEqual(gq, wq) {
		t.Errorf("%s query:\n got  %v\n want %v", what, gq, wq)
	}
}

// fixtureUpstream is the httptest server standing in for the provider:
// the runner's HTTP client sends every request to it, whatever the host,
// and it answers the step's calls in order.
type fixtureUpstream struct {
	srv *httptest.Server

	mu       sync.Mutex
	calls    []Call
	got      []recorded
	static   map[string]string // URL → JSON answer (discovery, JWKS)
	idToken  func() string
	problems []string
	// secretJWT is what $CLIENT_SECRET_JWT stands for (entries with a
	// generated client secret).
	secretJWT *secretJWT
}

type recorded struct {
	method, url string
	header      http.Header
	body        []byte
}

func newFixtureUpstream(t *testing.T) *fixtureUpstream {
	u := &fixtureUpstream{static: map[string]string{}}
	u.srv = httptest.NewTLSServer(http.HandlerFunc(u.serve))
	t.Cleanup(u.srv.Close)
	return u
}

// originalURL is the header the client's transport records the URL the
// provider asked for in, before sending the request to the server.
const originalURL = "X-Fixture-Original-Url"

func (u *fixtureUpstream) client() *http.Client {
	base := u.srv.Client().Transport
	target, _ := url.Parse(u.srv.URL)
	return &http.Client{Timeout: 5 * time.Second, Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.Header.Set(originalURL, r.URL.String())
		r.URL.Scheme, r.URL.Host, r.Host = target.Scheme, target.Host, ""
		return base.RoundTrip(r)
	})}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func (u *fixtureUpstream) expect(calls []Call) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.calls, u.got, u.problems = calls, nil, nil
}

func (u *fixtureUpstream) serve(w http.ResponseWriter, r *http.Request) {
	orig := r.Header.Get(originalURL)
	r.Header.Del(originalURL)
	body, _ := io.ReadAll(r.Body)
	u.mu.Lock()
	if s, ok := u.static[orig]; ok && r.Method == http.MethodGet {
		u.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, s)
		return
	}
	n := len(u.got)
	u.got = append(u.got, recorded{method: r.Method, url: orig, header: r.Header.Clone(), body: body})
	if n >= len(u.calls) {
		u.problems = append(u.problems, fmt.Sprintf("unexpected call %d: %s %s", n, r.Method, orig))
		u.mu.Unlock()
		http.Error(w, "unexpected call", http.StatusNotImplemented)
		return
	}
	a := u.calls[n].Answer
	idToken := u.idToken
	u.mu.Unlock()
	out := a.Body
	if idToken != nil && strings.Contains(out, fixtureIDToken) {
		out = strings.ReplaceAll(out, fixtureIDToken, idToken())
	}
	for k, v := range a.Headers {
		w.Header().Set(k, v)
	}
	if t := strings.TrimSpace(out); w.Header().Get("Content-Type") == "" && (strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[")) {
		w.Header().Set("Content-Type", "application/json")
	}
	status := a.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	io.WriteString(w, out)
}

// check compares what the upstream received with the step's calls.
func (u *fixtureUpstream) check(t *testing.T) {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, p := range u.problems {
		t.Error(p)
	}
	if len(u.got) < len(u.calls) {
		t.Errorf("the upstream received %d calls, want %d", len(u.got), len(u.calls))
	}
	for i := range min(len(u.got), len(u.calls)) {
		checkRequest(t, i, u.got[i], u.calls[i].Request, u.secretJWT)
	}
}

func checkRequest(t *testing.T, i int, got recorded, want Request, secret *secretJWT) {
	t.Helper()
	if got.method != want.Method {
		t.Errorf("call %d: method = %s, want %s", i, got.method, want.Method)
	}
	compareURL(t, fmt.Sprintf("call %d: URL", i), got.url, want.URL)
	hasAuth := false
	for k, v := range want.Headers {
		if strings.EqualFold(k, "Authorization") {
			hasAuth = true
		}
		if g := got.header.Get(k); g != v {
			t.Errorf("call %d: header %s = %q, want %q", i, k, g, v)
		}
	}
	if a := got.header.Get("Authorization"); !hasAuth && a != "" {
		t.Errorf("call %d: Authorization = %q, want none", i, a)
	}
	switch {
	case want.Form != nil:
		q, err := url.ParseQuery(string(got.body))
		gotForm := map[string]string{}
		for k := range q {
			gotForm[k] = q.Get(k)
		}
		for k, v := range want.Form {
			if v != fixtureSecretJWT {
				continue
			}
			if err := checkSecretJWT(gotForm[k], secret); err != nil {
				t.Errorf("call %d: form %s: %v", i, k, err)
			} else {
				gotForm[k] = v
			}
		}
		if err != nil || !reflect.DeepEqual(gotForm, want.Form) {
			t.Errorf("call %d: form body:\n got  %v\n want %v", i, gotForm, want.Form)
		}
	case want.JSON != nil:
		var g any
		if err := json.Unmarshal(got.body, &g); err != nil || !reflect.DeepEqual(g, normJSON(want.JSON)) {
			t.Errorf("call %d: JSON body:\n got  %s\n want %v", i, got.body, normJSON(want.JSON))
		}
	default:
		if string(got.body) != want.Body {
			t.Errorf("call %d: body = %q, want %q", i, got.body, want.Body)
		}
	}
}

// serveDiscovery answers OIDC discovery and JWKS for issuer and signs the
// ID tokens that answers ask for with $ID_TOKEN.
func (u *fixtureUpstream) serveDiscovery(t *testing.T, issuer, clientID string, extra map[string]any) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwk := jose.JSONWebKey{Key: key.Public(), KeyID: "fixture", Algorithm: "RS256", Use: "sig"}
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{jwk}})
	base := strings.TrimSuffix(issuer, "/")
	doc := map[string]any{
		"issuer": issuer, "jwks_uri": base + "/.fixture/jwks",
		"authorization_endpoint": base + "/authorize", "token_endpoint": base + "/token",
		"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
	}
	for k, v := range extra {
		doc[k] = v
	}
	docJSON, _ := json.Marshal(doc)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "fixture"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.static[base+"/.well-known/openid-configuration"] = string(docJSON)
	u.static[base+"/.fixture/jwks"] = string(jwks)
	u.idToken = func() string {
		claims, _ := json.Marshal(map[string]any{"iss": issuer, "aud": clientID, "sub": "fixture-user", "nonce": fixtureNonce,
			"iat": fixtureNow.Unix(), "exp": fixtureNow.Add(time.Hour).Unix()})
		sig, err := signer.Sign(claims)
		if err != nil {
			return "unsigned"
		}
		s, _ := sig.CompactSerialize()
		return s
	}
}
