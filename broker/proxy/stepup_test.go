package proxy_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/oauth2broker/oauth2broker/examples/demomcp"
)

// An upstream insufficient_scope 403 reaches the app as an error naming
// the scopes (a JSON-RPC error for a JSON-RPC request, so the MCP session
// survives; RFC 6749-style otherwise). authorize with
// include_granted_scopes=true then asks for the union, and the stored
// connection keeps working until the new grant replaces it, even when
// the user refuses the step-up.
func TestProxyMCPStepUp(t *testing.T) {
	var deny atomic.Bool
	e := newMCPEnv(t, demomcp.Config{Approve: func(demomcp.AuthorizeRequest) (string, error) {
		if deny.Load() {
			return "", errors.New("the user refused")
		}
		return "alice-upstream", nil
	}})
	e.connectDemo("alice")
	cs, _ := e.mcpSession(t, "alice", "2025-11-25", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: demomcp.ToolAdminEcho, Arguments: demomcp.EchoInput{Message: "hi"}})
	if err == nil || !strings.Contains(err.Error(), "insufficient_scope") || !strings.Contains(err.Error(), `lacks "mcp:admin"`) {
		t.Fatalf("admin_echo with mcp:tools: got %v, want an insufficient_scope error naming mcp:admin", err)
	}
	checkOAuthShapedStepUp(t, e)

	// The step-up asks for the union; refused, the old grant still serves.
	authURL := e.authorizationURL(url.Values{"client_user_identity": {"alice"}, "provider": {"demo"},
		"scope": {demomcp.AdminScope}, "include_granted_scopes": {"true"}})
	if got := mustParse(t, authURL).Query().Get("scope"); got != "mcp:admin mcp:tools" {
		t.Errorf("step-up authorization URL scope: got %q, want the union \"mcp:admin mcp:tools\"", got)
	}
	deny.Store(true)
	if loc := e.callbackTo(e.loginDemo(authURL)); !strings.Contains(loc, "status=error") {
		t.Errorf("refused step-up: back at %s, want status=error", loc)
	}
	var who demomcp.WhoamiOutput
	if err := call(t, cs, demomcp.ToolWhoami, map[string]any{}, &who); err != nil || strings.Join(who.Scopes, " ") != "mcp:tools" {
		t.Fatalf("whoami after a refused step-up (the session survived the 403): got %+v, %v", who, err)
	}
	// Approved, the new grant replaces the old one: same session, more scope.
	deny.Store(false)
	e.callback(e.loginDemo(e.authorizationURL(url.Values{"client_user_identity": {"alice"}, "provider": {"demo"},
		"scope": {demomcp.AdminScope}, "include_granted_scopes": {"true"}})))
	var echo demomcp.EchoOutput
	if err := call(t, cs, demomcp.ToolAdminEcho, demomcp.EchoInput{Message: "hi"}, &echo); err != nil || echo.Echo != "hi" {
		t.Errorf("admin_echo after the step-up: got %+v, %v", echo, err)
	}
	if err := call(t, cs, demomcp.ToolWhoami, map[string]any{}, &who); err != nil || strings.Join(who.Scopes, " ") != "mcp:admin mcp:tools" {
		t.Errorf("whoami after the step-up: got %+v, %v, want both scopes", who, err)
	}
}

// checkOAuthShapedStepUp sends a tools/call notification (no id): the
// step-up answer is then the broker's RFC 6749-style error.
func checkOAuthShapedStepUp(t *testing.T, e *mcpEnv) {
	t.Helper()
	a := e.do(e.proxyReqTo("demo", "alice", http.MethodPost, "/mcp",
		`{"jsonrpc":"2.0","method":"tools/call","params":{"name":"admin_echo","arguments":{"message":"hi"}}}`))
	var body map[string]any
	_ = json.Unmarshal([]byte(a.Body), &body)
	want := map[string]any{"error": "insufficient_scope", "provider": "demo", "required_scope": "mcp:tools mcp:admin",
		"granted_scope": "mcp:tools", "missing_scope": "mcp:admin"}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("step-up answer %s: got %v, want %v (status %d)", k, body[k], v, a.Status)
		}
	}
	if a.Status != http.StatusForbidden || a.Header.Get("WWW-Authenticate") != "" {
		t.Errorf("step-up answer: got %d, WWW-Authenticate %q; want 403 without the upstream's challenge", a.Status, a.Header.Get("WWW-Authenticate"))
	}
}

func TestAuthorizeIncludeGrantedScopesMustBeBoolean(t *testing.T) {
	e := newMCPEnv(t, demomcp.Config{})
	v := url.Values{"client_user_identity": {"alice"}, "provider": {"demo"}, "include_granted_scopes": {"maybe"}}
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/fed/oauth2/provider/authorize", strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(e.ID, e.Secret)
	if a := e.do(req); a.Status != http.StatusBadRequest || !strings.Contains(a.Body, "invalid_request") {
		t.Errorf("include_granted_scopes=maybe: got %d %s, want 400 invalid_request", a.Status, a.Body)
	}
}

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// An upstream 403 whose WWW-Authenticate holds a stray "=" (any
// provider's, not only an MCP server's) is passed back at once: the
// challenge parser once looped for ever on it, holding a CPU per call
// (then this test fails at its bound, and the package hangs in the test
// server's Close until go test's -timeout).
func TestProxyForbiddenWithOddChallenge(t *testing.T) {
	e := newEnv(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("WWW-Authenticate", "Basic ==")
		w.WriteHeader(http.StatusForbidden)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req := e.proxyReq(http.MethodGet, "/v1/thing", nil).WithContext(ctx)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("proxy call answered by a 403 with WWW-Authenticate \"Basic ==\": %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("status %d, want the upstream's 403", resp.StatusCode)
	}
}
