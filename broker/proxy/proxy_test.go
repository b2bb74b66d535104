package proxy_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/broker"
	"github.com/oauth2broker/oauth2broker/broker/seal"
	"github.com/oauth2broker/oauth2broker/providers/catalog"
	"github.com/oauth2broker/oauth2broker/providers/providertest"
	"github.com/oauth2broker/oauth2broker/storage/bbolt"
)

const adminToken = "test-admin-token-0123456789"

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// env is a broker on bbolt behind a real server, with API "fed", the
// fake upstream as provider "fake" (its API at Upstream/v1) and user
// "u1" connected by the proxy client.
type env struct {
	t            testing.TB
	URL          string
	Logs         *syncBuffer
	Fake         *providertest.Fake
	ID, Secret   string // a client with grant_types [proxy]
	Upstream     *httptest.Server
	upstreamHits atomic.Int32
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func newEnv(t testing.TB, upstream http.HandlerFunc) *env {
	t.Helper()
	e := newBroker(t)
	e.Fake = providertest.NewFake(t)
	e.Upstream = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.upstreamHits.Add(1)
		upstream(w, r)
	}))
	t.Cleanup(e.Upstream.Close)
	e.admin(200, "PUT", "/apis/fed/providers/fake", map[string]any{
		"type": "oauth2", "auth_url": e.Fake.AuthURL, "token_url": e.Fake.TokenURL, "client_id": e.Fake.ClientID,
		"client_secret": e.Fake.ClientSecret, "scopes": []string{"read"}, "api_base_urls": []string{e.Upstream.URL + "/v1"},
	})
	e.connect("u1")
	return e
}

// newBroker is a broker on bbolt behind a real server, with API "fed"
// and a client allowed the proxy (grant_types [proxy]).
func newBroker(t testing.TB) *env {
	t.Helper()
	db, err := bbolt.Open(bbolt.Config{Path: filepath.Join(t.TempDir(), "broker.db")})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	key, _ := seal.GenerateKey()
	ring, _ := seal.NewKeyring(key)
	e := &env{t: t, Logs: &syncBuffer{}}
	ts := httptest.NewServer(nil)
	srv, err := broker.New(context.Background(), broker.Config{Catalog: cat,
		Store: db, Keyring: ring, PublicURL: ts.URL, AdminToken: adminToken, Outbound: broker.DevOutbound(),
		Proxy:  broker.ProxyLimits{MaxBody: 64 << 10, ReplayBody: 16 << 10, Timeout: 3 * time.Second},
		Logger: slog.New(slog.NewTextHandler(e.Logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv
	t.Cleanup(func() { ts.Close(); srv.Close(); db.Close() })
	e.URL = ts.URL
	e.admin(201, "POST", "/apis", map[string]any{"name": "fed"})
	a := e.admin(201, "POST", "/apis/fed/clients", map[string]any{"grant_types": []string{"proxy"}, "return_urls": []string{"https://app.example/back"}})
	e.ID, e.Secret = a["client_id"].(string), a["client_secret"].(string)
	return e
}

func (e *env) admin(want int, method, path string, body any) map[string]any {
	e.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, e.URL+"/admin/v1"+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		e.t.Fatalf("%s %s: got %d %s, want %d", method, path, resp.StatusCode, raw, want)
	}
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return m
}

// connect runs authorize → fake provider → callback for identity.
func (e *env) connect(identity string) {
	e.t.Helper()
	cb := e.Fake.Authorize(e.t, e.authorizationURL(url.Values{"client_user_identity": {identity}, "provider": {"fake"}}))
	e.callback(cb.String())
}

// authorizationURL asks the broker's authorize for an upstream
// authorization URL (return_url set).
func (e *env) authorizationURL(v url.Values) string {
	e.t.Helper()
	v.Set("return_url", "https://app.example/back")
	req, _ := http.NewRequest("POST", e.URL+"/fed/oauth2/provider/authorize", strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(e.ID, e.Secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	var a struct {
		AuthorizationURL string `json:"authorization_url"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&a)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		e.t.Fatalf("authorize: got %d, want 200", resp.StatusCode)
	}
	return a.AuthorizationURL
}

// callback follows the provider's redirect to the broker's callback,
// which must connect.
func (e *env) callback(cb string) {
	e.t.Helper()
	if loc := e.callbackTo(cb); !strings.Contains(loc, "status=connected") {
		e.t.Fatalf("callback: got %s, want connected", loc)
	}
}

// callbackTo follows the provider's redirect to the broker's callback
// and returns where the broker sends the user back.
func (e *env) callbackTo(cb string) string {
	e.t.Helper()
	back, err := noRedirect.Get(cb)
	if err != nil {
		e.t.Fatal(err)
	}
	back.Body.Close()
	if back.StatusCode != http.StatusFound {
		e.t.Fatalf("callback: got %d, want 302", back.StatusCode)
	}
	return back.Header.Get("Location")
}

// proxyReq builds a proxy request for path (escaped, after the provider).
func (e *env) proxyReq(method, path string, body io.Reader) *http.Request {
	e.t.Helper()
	req, err := http.NewRequest(method, e.URL+"/fed/oauth2/proxy/fake"+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	req.SetBasicAuth(e.ID, e.Secret)
	req.Header.Set("X-Client-User-Identity", "u1")
	return req
}

type answer struct {
	Status int
	Header http.Header
	Body   string
}

func (e *env) do(req *http.Request) answer {
	e.t.Helper()
	resp, err := noRedirect.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(raw)}
}

var tokenRE = regexp.MustCompile(`\bat-[0-9]+\b`)

// noToken fails if an upstream access token shows in s.
func noToken(t *testing.T, where, s string) {
	t.Helper()
	if m := tokenRE.FindString(s); m != "" {
		t.Errorf("%s holds the upstream token %q", where, m)
	}
}

func TestProxyForwardsWithFreshToken(t *testing.T) {
	type seen struct {
		method, path, query, auth, cookie, identity, conn, xkeep, body string
	}
	got := make(chan seen, 1)
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Get("Authorization"), r.Header.Get("Cookie"),
			r.Header.Get("X-Client-User-Identity"), r.Header.Get("X-Hop"), r.Header.Get("X-Keep"), string(b)}
		w.Header().Set("Set-Cookie", "session=upstream")
		w.Header().Set("Retry-After", "7")
		w.Header().Set("X-RateLimit-Remaining", "41")
		w.Header().Set("RateLimit-Policy", "100;w=60")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"ok":true}`)
	})
	req := e.proxyReq("POST", "/repos/a%20b/issues?state=open&code=x", strings.NewReader(`{"title":"t"}`))
	req.Header.Set("Cookie", "broker=secret")
	req.Header.Set("Connection", "X-Hop")
	req.Header.Set("X-Hop", "1")
	req.Header.Set("X-Keep", "yes")
	a := e.do(req)
	if a.Status != http.StatusCreated || a.Body != `{"ok":true}` {
		t.Fatalf("got %d %s, want the upstream's 201", a.Status, a.Body)
	}
	s := <-got
	want := seen{"POST", "/v1/repos/a%20b/issues", "state=open&code=x", "Bearer at-1", "", "", "", "yes", `{"title":"t"}`}
	if s != want {
		t.Errorf("upstream saw %+v, want %+v", s, want)
	}
	if a.Header.Get("Set-Cookie") != "" {
		t.Errorf("Set-Cookie passed back: %q", a.Header.Get("Set-Cookie"))
	}
	for k, v := range map[string]string{"Retry-After": "7", "X-Ratelimit-Remaining": "41", "Ratelimit-Policy": "100;w=60"} {
		if a.Header.Get(k) != v {
			t.Errorf("%s: got %q, want %q passed through", k, a.Header.Get(k), v)
		}
	}
	noToken(t, "answer", a.Body+headerText(a.Header))
	noToken(t, "log", e.Logs.String())
	m, err := http.Get(e.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Body.Close()
	metrics, _ := io.ReadAll(m.Body)
	if want := `oauth2broker_proxy_requests_total{provider="fake",status="201"} 1`; !strings.Contains(string(metrics), want) {
		t.Errorf("metrics: want %s", want)
	}
}

func headerText(h http.Header) string {
	var b strings.Builder
	_ = h.Write(&b)
	return b.String()
}

func TestProxyStreamsEvents(t *testing.T) {
	release := make(chan struct{})
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: first\n\n")
		w.(http.Flusher).Flush()
		<-release // the client must see the first event before this
		_, _ = io.WriteString(w, "data: second\n\n")
	})
	resp, err := noRedirect.Do(e.proxyReq("GET", "/events", nil))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	line, err := r.ReadString('\n')
	if err != nil || line != "data: first\n" {
		close(release)
		t.Fatalf("first line: got %q %v, want the first event before the upstream finished", line, err)
	}
	close(release)
	rest, _ := io.ReadAll(r)
	if string(rest) != "\ndata: second\n\n" {
		t.Errorf("rest: got %q", rest)
	}
}

func TestProxyRefreshesOnceOn401(t *testing.T) {
	var auths []string
	var mu sync.Mutex
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		mu.Unlock()
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get("Authorization") != "Bearer at-2" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write(b)
	})
	a := e.do(e.proxyReq("PUT", "/x", strings.NewReader("replayed")))
	if a.Status != 200 || a.Body != "replayed" {
		t.Fatalf("got %d %q, want 200 with the replayed body", a.Status, a.Body)
	}
	if n := e.Fake.RefreshCount(); n != 1 {
		t.Errorf("refreshes: got %d, want 1", n)
	}
	if want := []string{"Bearer at-1", "Bearer at-2"}; strings.Join(auths, ",") != strings.Join(want, ",") {
		t.Errorf("upstream calls: got %q, want %q", auths, want)
	}
}

func TestProxyRefusesEscapes(t *testing.T) {
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {})
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("evil host reached: %s", r.URL)
	}))
	defer evil.Close()
	host := strings.TrimPrefix(evil.URL, "http://")
	for _, p := range []string{
		"/../x", "/a/../../x", "//" + host + "/x", "/%2F%2F" + host, "/%2f..%2fx", "/%2e%2e/x", "//evil@" + host + "/x", "/%2F%2Fevil@" + host,
		"/" + evil.URL + "/x", "/a%5c..%5cb", "/a\\..\\b", "/./x", "/..;/x", "/a/..%3B/..%3B/x", "/http:%2F%2F" + host,
	} {
		req, err := http.NewRequest("GET", e.URL+"/fed/oauth2/proxy/fake"+p, nil)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		req.URL.RawPath = "" // keep the escapes as written
		req.URL.Opaque = "//" + strings.TrimPrefix(e.URL, "http://") + "/fed/oauth2/proxy/fake" + p
		req.SetBasicAuth(e.ID, e.Secret)
		req.Header.Set("X-Client-User-Identity", "u1")
		a := e.do(req)
		if a.Status != http.StatusBadRequest || !strings.Contains(a.Body, "proxy path refused") {
			t.Errorf("%s: got %d %s, want 400 proxy path refused", p, a.Status, a.Body)
		}
	}
	if n := e.upstreamHits.Load(); n != 0 {
		t.Errorf("upstream reached %d times", n)
	}
}

func TestProxyRedirects(t *testing.T) {
	var e *env
	e = newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/inside" {
			http.Redirect(w, r, "/v1/elsewhere", http.StatusFound)
			return
		}
		http.Redirect(w, r, "https://evil.example/x", http.StatusFound)
	})
	// Passed back resolved against the upstream (as checked), not as a
	// relative URL the client would resolve against the broker.
	if a := e.do(e.proxyReq("GET", "/inside", nil)); a.Status != http.StatusFound || a.Header.Get("Location") != e.Upstream.URL+"/v1/elsewhere" {
		t.Errorf("redirect on the base: got %d %q, want 302 to %s/v1/elsewhere", a.Status, a.Header.Get("Location"), e.Upstream.URL)
	}
	if a := e.do(e.proxyReq("GET", "/out", nil)); a.Status != http.StatusBadGateway {
		t.Errorf("redirect off the base: got %d %s, want 502", a.Status, a.Body)
	}
}

func TestProxyClientAndConnectionErrors(t *testing.T) {
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) })
	c := e.admin(201, "POST", "/apis/fed/clients", map[string]any{"grant_types": []string{"connection"}})
	req := e.proxyReq("GET", "/x", nil)
	req.SetBasicAuth(c["client_id"].(string), c["client_secret"].(string))
	if a := e.do(req); a.Status != http.StatusForbidden || !strings.Contains(a.Body, "unauthorized_client") {
		t.Errorf("client without proxy: got %d %s, want 403 unauthorized_client", a.Status, a.Body)
	}
	req = e.proxyReq("GET", "/x", nil)
	req.SetBasicAuth(e.ID, "wrong")
	if a := e.do(req); a.Status != http.StatusUnauthorized || a.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("wrong secret: got %d %v, want 401 with a challenge", a.Status, a.Header)
	}
	req = e.proxyReq("GET", "/x", nil)
	req.Header.Set("X-Client-User-Identity", "nobody")
	if a := e.do(req); a.Status < 400 || a.Status >= 500 {
		t.Errorf("no connection: got %d %s, want a 4xx", a.Status, a.Body)
	}
	// The user's grant dies: the forced refresh answers invalid_grant,
	// and the proxy answers what /token answers.
	e.Fake.Update(func(b *providertest.Behavior) { b.RefreshFail = providertest.FailInvalidGrant })
	tokenAnswer := func() answer {
		v := url.Values{"grant_type": {"urn:oauth2broker:grant-type:connection"}, "client_user_identity": {"u1"}, "provider": {"fake"}}
		req, _ := http.NewRequest("POST", e.URL+"/fed/oauth2/token", strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(e.ID, e.Secret)
		return e.do(req)
	}
	// The answer /token gives for a dead grant (RFC 6749 §5.2 through
	// connerr.Answer), on this call and the next.
	for i := range 2 {
		a := e.do(e.proxyReq("GET", "/unauthorized", nil))
		var body map[string]any
		_ = json.Unmarshal([]byte(a.Body), &body)
		if a.Status != http.StatusBadRequest || body["error"] != "invalid_grant" || body["connection_status"] != "needs_reauth" {
			t.Errorf("needs_reauth, call %d: got %d %s, want 400 invalid_grant with connection_status needs_reauth", i, a.Status, a.Body)
		}
	}
	// A proxy-only client never reads the token.
	if a := tokenAnswer(); a.Status != http.StatusBadRequest || !strings.Contains(a.Body, "unauthorized_client") {
		t.Errorf("/token for a proxy-only client: got %d %s, want unauthorized_client", a.Status, a.Body)
	}
	noToken(t, "log", e.Logs.String())
}

func TestProxyBodyLimit(t *testing.T) {
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) })
	a := e.do(e.proxyReq("POST", "/upload", bytes.NewReader(make([]byte, 65<<10))))
	if a.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("65 KiB body: got %d %s, want 413", a.Status, a.Body)
	}
	// No length announced (chunked): the bound cuts the stream.
	a = e.do(e.proxyReq("POST", "/upload", io.MultiReader(bytes.NewReader(make([]byte, 65<<10)))))
	if a.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("65 KiB chunked body: got %d %s, want 413", a.Status, a.Body)
	}
	// Between the replay bound and the limit: forwarded, streamed.
	if a := e.do(e.proxyReq("POST", "/upload", bytes.NewReader(make([]byte, 40<<10)))); a.Status != 200 {
		t.Errorf("40 KiB body: got %d %s, want 200", a.Status, a.Body)
	}
}

func TestProxyTimeout(t *testing.T) {
	done := make(chan struct{})
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done(): // the broker gave up
		case <-done:
		}
	})
	defer close(done)
	if a := e.do(e.proxyReq("GET", "/slow", nil)); a.Status != http.StatusGatewayTimeout {
		t.Errorf("hanging upstream: got %d %s, want 504", a.Status, a.Body)
	}
}

func TestProxyBaseURLPolicy(t *testing.T) {
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {})
	body := map[string]any{"type": "oauth2", "auth_url": e.Fake.AuthURL, "token_url": e.Fake.TokenURL, "client_id": "c",
		"api_base_urls": []string{"http://api.example.com"}}
	e.admin(400, "PUT", "/apis/fed/providers/other", body) // plain http off loopback
	body["api_base_urls"] = []string{"https://api.example.com/v1?x=1"}
	e.admin(400, "PUT", "/apis/fed/providers/other", body)
	body["api_base_urls"] = []string{"https://api.example.com/v1"}
	e.admin(200, "PUT", "/apis/fed/providers/other", body)
	// A template's default base: GitHub's API.
	e.admin(200, "PUT", "/apis/fed/providers/gh", map[string]any{"template": "github", "client_id": "c", "client_secret": "s"})
	req := e.proxyReq("GET", "/user", nil)
	req.URL.Path = "/fed/oauth2/proxy/gh/user"
	req.Header.Set("X-Client-User-Identity", "u1")
	if a := e.do(req); a.Status < 400 || a.Status >= 500 || !strings.Contains(a.Body, "no connection") {
		t.Errorf("github template, no connection: got %d %s, want the connection error (its base resolved)", a.Status, a.Body)
	}
}

func TestProxy401RetriesOnce(t *testing.T) {
	var calls atomic.Int32
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
	})
	a := e.do(e.proxyReq("POST", "/x", strings.NewReader("small")))
	if a.Status != http.StatusUnauthorized || calls.Load() != 2 || e.Fake.RefreshCount() != 1 {
		t.Errorf("replayable body: got %d after %d calls and %d refreshes, want the 401 after 2 calls and 1 refresh",
			a.Status, calls.Load(), e.Fake.RefreshCount())
	}
	calls.Store(0)
	// Over the replay bound (16 KiB here): the body streams once, and
	// the 401 passes through without a retry.
	a = e.do(e.proxyReq("POST", "/x", bytes.NewReader(make([]byte, 20<<10))))
	if a.Status != http.StatusUnauthorized || calls.Load() != 1 || e.Fake.RefreshCount() != 1 {
		t.Errorf("large body: got %d after %d calls and %d refreshes in all, want the 401 after 1 call, no new refresh",
			a.Status, calls.Load(), e.Fake.RefreshCount())
	}
}

// TestProxyAnswerVariesByIdentity: the upstream's answer is per user,
// but its Vary names an Authorization the broker sends for every user
// of the client; a cache must key on the identity header.
func TestProxyAnswerVariesByIdentity(t *testing.T) {
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "private, max-age=60")
		w.Header().Set("Vary", "Accept, Authorization")
		_, _ = io.WriteString(w, `{"login":"u1"}`)
	})
	a := e.do(e.proxyReq("GET", "/user", nil))
	if a.Status != 200 {
		t.Fatalf("got %d %s, want 200", a.Status, a.Body)
	}
	vary := strings.ToLower(strings.Join(a.Header.Values("Vary"), ","))
	for _, want := range []string{"authorization", "x-client-user-identity", "x-proxy-base-url"} {
		if !strings.Contains(vary, want) {
			t.Errorf("Vary: got %q, want it to name %s", a.Header.Values("Vary"), want)
		}
	}
}

// TestProxyConcurrent401sRefreshOnce: calls that the upstream refused
// with the same token, one after another, cause one forced refresh: a
// call whose refused token was already replaced retries with the new
// one.
func TestProxyConcurrent401sRefreshOnce(t *testing.T) {
	const n = 6
	arrived, release, retried := make(chan struct{}, n), make(chan struct{}), make(chan struct{}, n)
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer at-1" {
			arrived <- struct{}{}
			<-release
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		retried <- struct{}{}
	})
	statuses := make(chan int, n)
	for range n {
		go func() {
			resp, err := http.DefaultClient.Do(e.proxyReq("GET", "/x", nil))
			if err != nil {
				statuses <- 0
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	wait := func(ch chan struct{}, what string) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(20 * time.Second):
			t.Fatalf("timed out waiting for %s", what)
		}
	}
	for range n {
		wait(arrived, "the calls with the old token")
	}
	// Each 401 is answered after the previous call retried: a forced
	// refresh per 401 would not share a flight with the one before.
	for range n {
		release <- struct{}{}
		wait(retried, "a retry")
	}
	for range n {
		if s := <-statuses; s != 200 {
			t.Errorf("got %d, want 200", s)
		}
	}
	if got := e.Fake.RefreshCount(); got != 1 {
		t.Errorf("refreshes: got %d, want 1 for %d calls refused the same token", got, n)
	}
}

// TestProxyAtSignStaysOnBase: "@" and "%40" in a path reach the
// configured host with that path (Microsoft Graph's
// /users/name@domain); forms meant to turn the path into userinfo
// reach no other host.
func TestProxyAtSignStaysOnBase(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
	})
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("evil host reached: %s", r.URL)
	}))
	defer evil.Close()
	host := strings.TrimPrefix(evil.URL, "http://")
	for _, tt := range []struct{ path, want string }{
		{"/users/a@b.com", "/v1/users/a@b.com"},
		{"/users/a%40b.com/messages", "/v1/users/a@b.com/messages"},
		{"/@" + host + "/x", "/v1/@" + host + "/x"},
		{"/..@" + host, "/v1/..@" + host},
		{"/u:p@" + host + "/x", "/v1/u:p@" + host + "/x"},
		{"/%40" + host, "/v1/@" + host},
	} {
		mu.Lock()
		paths = nil
		mu.Unlock()
		req := e.proxyReq("GET", "", nil)
		req.URL.Opaque = "//" + strings.TrimPrefix(e.URL, "http://") + "/fed/oauth2/proxy/fake" + tt.path
		if a := e.do(req); a.Status != 200 {
			t.Errorf("%s: got %d %s, want 200", tt.path, a.Status, a.Body)
			continue
		}
		mu.Lock()
		if len(paths) != 1 || paths[0] != tt.want {
			t.Errorf("%s: upstream got %q, want %q", tt.path, paths, tt.want)
		}
		mu.Unlock()
	}
}
