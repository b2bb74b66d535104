package proxy_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/oauth2broker/oauth2broker/examples/demomcp"
)

// BenchmarkProxy compares a direct call to the upstream with the same call
// through the proxy (cached token), in the same run: the difference is
// the proxy's added latency.
func BenchmarkProxy(b *testing.B) {
	e := newEnv(b, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, `{"ok":true}`) })
	call := func(b *testing.B, req func() *http.Request) {
		for b.Loop() {
			resp, err := http.DefaultClient.Do(req())
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	}
	b.Run("direct", func(b *testing.B) {
		call(b, func() *http.Request {
			r, _ := http.NewRequest("GET", e.Upstream.URL+"/v1/x", nil)
			r.Header.Set("Authorization", "Bearer at-1")
			return r
		})
	})
	b.Run("proxy", func(b *testing.B) {
		call(b, func() *http.Request { return e.proxyReq("GET", "/x", nil) })
	})
}

// BenchmarkProxyMCP compares an MCP tools/call (Streamable HTTP, SSE
// answer, official Go SDK client) sent straight to the demo MCP server
// with the same call through the proxy, in the same run.
func BenchmarkProxyMCP(b *testing.B) {
	e := newMCPEnv(b, demomcp.Config{})
	e.connectDemo("alice")
	direct, err := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil).Connect(context.Background(),
		&mcp.StreamableClientTransport{Endpoint: e.Demo.Resource, MaxRetries: -1, HTTPClient: &http.Client{Transport: bearerTransport(
			e.Demo.IssueToken(demomcp.DefaultUser, "bench", []string{demomcp.ToolsScope}))}},
		&mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = direct.Close() })
	proxied, _ := e.mcpSession(b, "alice", "2025-11-25", nil)
	call := func(b *testing.B, cs *mcp.ClientSession) {
		for b.Loop() {
			res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: demomcp.ToolAdd, Arguments: demomcp.AddInput{A: 1, B: 2}})
			if err != nil || res.IsError {
				b.Fatalf("add: %v", err)
			}
		}
	}
	b.Run("direct", func(b *testing.B) { call(b, direct) })
	b.Run("proxy", func(b *testing.B) { call(b, proxied) })
}

// bearerTransport sends token as a Bearer.
type bearerTransport string

func (t bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+string(t))
	return http.DefaultTransport.RoundTrip(r)
}
