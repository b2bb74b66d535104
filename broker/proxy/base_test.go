package proxy_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/oauth2broker/oauth2broker/broker/proxy"
)

// The API base URL itself is reachable, with no path after the provider
// (an MCP server's URL is its endpoint): the upstream sees the base path
// exactly, not with a trailing slash.
func TestProxyReachesBaseURLItself(t *testing.T) {
	paths := make(chan string, 2)
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) { paths <- r.URL.EscapedPath() + "?" + r.URL.RawQuery })
	for req, want := range map[string]string{"": "/v1?", "/": "/v1/?"} {
		if a := e.do(e.proxyReq("POST", req+"?x=1", strings.NewReader(`{}`))); a.Status != 200 {
			t.Fatalf("POST proxy/fake%s: %d %s", req, a.Status, a.Body)
		}
		if got := <-paths; got != want+"x=1" {
			t.Errorf("proxy/fake%s reached %s, want %sx=1", req, got, want)
		}
	}
}

// Both proxy routes bound their bodies themselves.
func TestIsProxyRoute(t *testing.T) {
	for path, want := range map[string]bool{
		"/:api" + proxy.Route: true, "/:api" + proxy.RouteBase: true, "/:api/oauth2/provider/authorize": false, "/:api/oauth2/token": false,
	} {
		if got := proxy.IsProxyRoute(path); got != want {
			t.Errorf("IsProxyRoute(%q) = %t, want %t", path, got, want)
		}
	}
}
