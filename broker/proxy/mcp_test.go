package proxy_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/oauth2broker/oauth2broker/examples/demomcp"
)

// mcpEnv is a broker whose provider "demo" is the demo MCP server's
// authorization server (a type oauth2 provider with a pre-registered
// client, sending resource on every flow), with its MCP endpoint as the
// proxy's API base.
type mcpEnv struct {
	*env
	Demo *demomcp.Demo
	// Seen records what reached the MCP server.
	Seen *seenRequests
}

// seenRequest is one request as the MCP server got it.
type seenRequest struct {
	Method, Session, Version, Auth, Identity string
}

type seenRequests struct {
	mu   sync.Mutex
	list []seenRequest
}

func (s *seenRequests) add(r seenRequest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.list = append(s.list, r)
}

// find returns the first request with method, waiting for it up to a
// generous bound (the SDK sends its GET and DELETE asynchronously).
func (s *seenRequests) find(t *testing.T, method string) seenRequest {
	t.Helper()
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		s.mu.Lock()
		i := slices.IndexFunc(s.list, func(r seenRequest) bool { return r.Method == method })
		var r seenRequest
		if i >= 0 {
			r = s.list[i]
		}
		s.mu.Unlock()
		if i >= 0 {
			return r
		}
	}
	t.Fatalf("the MCP server saw no %s", method)
	return seenRequest{}
}

// demoClientID is the broker's client at the demo authorization server.
const demoClientID, demoSecret = "broker", "broker-secret"

func newMCPEnv(t testing.TB, cfg demomcp.Config) *mcpEnv {
	t.Helper()
	e := &mcpEnv{env: newBroker(t), Seen: &seenRequests{}}
	var h http.Handler = http.NotFoundHandler()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/mcp" {
			e.Seen.add(seenRequest{r.Method, r.Header.Get("Mcp-Session-Id"), r.Header.Get("Mcp-Protocol-Version"),
				r.Header.Get("Authorization"), r.Header.Get("X-Client-User-Identity")})
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(up.Close)
	cfg.BaseURL = up.URL
	cfg.Clients = []demomcp.Client{{ID: demoClientID, Secret: demoSecret, RedirectURIs: []string{e.URL + "/fed/oauth2/provider/callback/demo"}}}
	d, err := demomcp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h, e.Demo = d.Handler, d
	resource := map[string]string{"resource": d.Resource}
	view := e.admin(200, "PUT", "/apis/fed/providers/demo", map[string]any{
		"type": "oauth2", "auth_url": d.AuthorizeURL, "token_url": d.TokenURL, "revocation_url": d.RevocationURL,
		"client_id": demoClientID, "client_secret": demoSecret, "scopes": []string{demomcp.ToolsScope},
		"allowed_scopes": []string{demomcp.AdminScope}, "auth_params": resource,
		"quirks":        map[string]any{"token_params": resource, "refresh_params": resource},
		"api_base_urls": []string{d.BaseURL},
	})
	if view["callback_url"] != cfg.Clients[0].RedirectURIs[0] {
		t.Fatalf("callback_url: got %v, want %s", view["callback_url"], cfg.Clients[0].RedirectURIs[0])
	}
	return e
}

// connectDemo connects identity to the demo provider.
func (e *mcpEnv) connectDemo(identity string) {
	e.t.Helper()
	e.callback(e.loginDemo(e.authorizationURL(url.Values{"client_user_identity": {identity}, "provider": {"demo"}})))
}

// loginDemo opens an authorization URL of the demo, whose login is not
// interactive: it answers the redirect to the broker's callback at once,
// which loginDemo returns.
func (e *mcpEnv) loginDemo(authURL string) string {
	e.t.Helper()
	resp, err := noRedirect.Get(authURL)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		e.t.Fatalf("demo authorize: got %d, want 302", resp.StatusCode)
	}
	return resp.Header.Get("Location")
}

// proxyReqTo builds a raw MCP request through the proxy to provider as
// identity.
func (e *mcpEnv) proxyReqTo(provider, identity, method, path, body string) *http.Request {
	e.t.Helper()
	req, err := http.NewRequest(method, e.URL+"/fed/oauth2/proxy/"+provider+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.SetBasicAuth(e.ID, e.Secret)
	req.Header.Set("X-Client-User-Identity", identity)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	return req
}

// proxyTransport authenticates to the broker's proxy as the client, for
// identity, and records the answers' headers.
type proxyTransport struct {
	id, secret, identity string
	// base bounds the wait for an answer's headers, so that a stream the
	// proxy holds back fails the test instead of hanging it.
	base    http.RoundTripper
	mu      sync.Mutex
	answers []http.Header
}

func (p *proxyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.SetBasicAuth(p.id, p.secret)
	r.Header.Set("X-Client-User-Identity", p.identity)
	resp, err := p.base.RoundTrip(r)
	if err == nil {
		p.mu.Lock()
		p.answers = append(p.answers, resp.Header.Clone())
		p.mu.Unlock()
	}
	return resp, err
}

// mcpSession opens an MCP session through the broker's proxy as
// identity, with protocol version (empty: the SDK's latest).
func (e *mcpEnv) mcpSession(t testing.TB, identity, version string, opts *mcp.ClientOptions) (*mcp.ClientSession, *proxyTransport) {
	t.Helper()
	pt := &proxyTransport{id: e.ID, secret: e.Secret, identity: identity,
		base: &http.Transport{ResponseHeaderTimeout: 20 * time.Second}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := mcp.NewClient(&mcp.Implementation{Name: "app", Version: "1"}, opts)
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: e.URL + "/fed/oauth2/proxy/demo/mcp",
		HTTPClient: &http.Client{Transport: pt}, MaxRetries: -1}, &mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatalf("connect through the proxy: %v", err)
	}
	// Closed before the servers are (cleanups run last first): its
	// DELETE ends the GET stream they would otherwise wait for.
	t.Cleanup(func() { _ = cs.Close() })
	return cs, pt
}

// call calls a tool and decodes its structured answer into out.
func call(t *testing.T, cs *mcp.ClientSession, name string, args, out any) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return demomcp.CallTool(ctx, cs, name, args, out)
}

// An MCP client (the official SDK, Streamable HTTP) talks to an MCP
// server through the proxy as a user who connected through the broker:
// JSON-RPC POSTs with SSE answers, the GET stream, DELETE of the
// session, and the Mcp-Session-Id and MCP-Protocol-Version headers both
// ways. The token stays in the broker.
func TestProxyMCPStreamableHTTP(t *testing.T) {
	// Each login at the demo is a new upstream user: alice is user-1.
	var logins atomic.Int32
	e := newMCPEnv(t, demomcp.Config{Approve: func(demomcp.AuthorizeRequest) (string, error) {
		return fmt.Sprintf("user-%d", logins.Add(1)), nil
	}})
	e.connectDemo("alice")
	changed := make(chan struct{}, 1)
	cs, pt := e.mcpSession(t, "alice", "2025-11-25", &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) {
			select {
			case changed <- struct{}{}:
			default:
			}
		}})
	var who demomcp.WhoamiOutput
	if err := call(t, cs, demomcp.ToolWhoami, map[string]any{}, &who); err != nil {
		t.Fatal(err)
	}
	if who.Subject != "user-1" || who.ClientID != demoClientID || !slices.Equal(who.Scopes, []string{demomcp.ToolsScope}) {
		t.Errorf("whoami through the proxy: got %+v", who)
	}
	var sum demomcp.AddOutput
	if err := call(t, cs, demomcp.ToolAdd, demomcp.AddInput{A: 40, B: 2}, &sum); err != nil || sum.Sum != 42 {
		t.Errorf("add through the proxy: got %+v, %v", sum, err)
	}
	post := e.Seen.find(t, http.MethodPost)
	if post.Auth == "" || post.Identity != "" {
		t.Errorf("the MCP server got Authorization %t, identity %q: want the broker's Bearer and no identity", post.Auth != "", post.Identity)
	}
	sid := cs.ID()
	if sid == "" {
		t.Fatal("no Mcp-Session-Id reached the client")
	}
	checkSSEAnswer(t, pt)
	// Another user's call with alice's session id carries bob's token:
	// the server refuses it (the SDK binds a session to its user).
	e.connectDemo("bob")
	req := e.proxyReqTo("demo", "bob", http.MethodPost, "/mcp", `{"jsonrpc":"2.0","id":9,"method":"tools/list"}`)
	req.Header.Set("Mcp-Session-Id", sid)
	if a := e.do(req); a.Status < 400 {
		t.Errorf("bob on alice's session: got %d %s, want a refusal", a.Status, a.Body)
	}
	get := e.Seen.find(t, http.MethodGet)
	if get.Session != sid || get.Version != "2025-11-25" {
		t.Errorf("GET stream: server saw session %q version %q, want %q 2025-11-25", get.Session, get.Version, sid)
	}
	// A server notification reaches the client over the GET stream.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.Demo.NotifyToolsChanged(ctx, changed); err != nil {
		t.Error(err)
	}
	if err := cs.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if del := e.Seen.find(t, http.MethodDelete); del.Session != sid {
		t.Errorf("DELETE: server saw session %q, want %q", del.Session, sid)
	}
	noToken(t, "log", e.Logs.String())
}

// checkSSEAnswer checks that some answer came back as an event stream
// and that the session id was passed back to the client.
func checkSSEAnswer(t *testing.T, pt *proxyTransport) {
	t.Helper()
	pt.mu.Lock()
	defer pt.mu.Unlock()
	var sse, sid bool
	for _, h := range pt.answers {
		sse = sse || h.Get("Content-Type") == "text/event-stream"
		sid = sid || h.Get("Mcp-Session-Id") != ""
	}
	if !sse || !sid {
		t.Errorf("answers through the proxy: event stream %t, Mcp-Session-Id %t; want both", sse, sid)
	}
}
