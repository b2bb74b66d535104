package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/providers/providertest"
)

// The README's quickstart, against `oauth2broker dev`: authorize → log in
// at the demo provider → token → force refresh → connections → revoke.
func TestDevRoundTrip(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	infoc := make(chan devInfo, 1)
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() {
		done <- devCmd(ctx, []string{"--addr", "127.0.0.1:0", "--op-addr", "127.0.0.1:0", "--mcp-addr", "127.0.0.1:0"}, &out, io.Discard, func(i devInfo) { infoc <- i })
	}()
	var info devInfo
	select {
	case info = <-infoc:
	case err := <-done:
		t.Fatalf("dev stopped: %v", err)
	case <-time.After(time.Minute): // a bound on a stuck start, not a pace
		t.Fatal("dev did not start in a minute")
	}
	for _, want := range []string{info.ClientSecret, info.AdminToken, "provider/authorize", "force_refresh=true", "/oauth2/revoke"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the printed guide lacks %q", want)
		}
	}
	call := func(method, path string, form url.Values) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, info.Broker+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(info.ClientID, info.ClientSecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		if resp.StatusCode != 200 {
			t.Fatalf("%s %s: got %d %v", method, path, resp.StatusCode, m)
		}
		return m
	}
	a := call("POST", "/demo/oauth2/provider/authorize", url.Values{"client_user_identity": {"alice"}})
	cb := providertest.LoginAt(t, a["authorization_url"].(string), []string{info.Broker + "/demo/oauth2/provider/callback/demo"}, info.UserLogin, info.UserPassword)
	page, err := http.Get(cb.String())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if page.StatusCode != 200 || !strings.Contains(string(body), "Connected") {
		t.Fatalf("callback page: got %d %s", page.StatusCode, body)
	}
	tok := call("POST", "/demo/oauth2/token", url.Values{"client_user_identity": {"alice"}})
	again := call("POST", "/demo/oauth2/token", url.Values{"client_user_identity": {"alice"}, "force_refresh": {"true"}})
	if tok["access_token"] == "" || tok["access_token"] == again["access_token"] || again["id_token"] == nil {
		t.Errorf("token %v, forced refresh %v: want two different access tokens", tok["access_token"], again["access_token"])
	}
	conns := call("GET", "/demo/oauth2/connections?client_user_identity=alice", nil)
	if list, _ := conns["connections"].([]any); len(list) != 1 {
		t.Errorf("connections: got %v, want one", conns)
	}
	if rv := call("POST", "/demo/oauth2/revoke", url.Values{"client_user_identity": {"alice"}}); rv["upstream_revocation"] != "revoked" {
		t.Errorf("revoke: got %v, want revoked at the demo provider", rv)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("dev did not stop cleanly: %v", err)
	}
}

// The demo MCP server's part of the guide, against `oauth2broker dev`:
// connect alice (the demo logs in at once), open an MCP session through
// the proxy, call tools, step up for admin_echo, end the session. The
// requests are the guide's, sent from Go.
func TestDevMCPThroughProxy(t *testing.T) {
	info, out := startDev(t)
	m := info.MCP
	for _, want := range []string{m.ClientSecret, m.ProxyURL, devRPCInitialize, devRPCWhoami, devRPCAdminEcho, "include_granted_scopes=true", "-X DELETE"} {
		if !strings.Contains(out, want) {
			t.Errorf("the printed guide lacks %q", want)
		}
	}
	connectMCP(t, info, url.Values{"client_user_identity": {"alice"}})
	opened := rpc(t, m, "", "POST", devRPCInitialize)
	sid := opened.Header.Get("Mcp-Session-Id")
	if opened.StatusCode != 200 || sid == "" {
		t.Fatalf("initialize: got %d, session %q", opened.StatusCode, sid)
	}
	if a := rpc(t, m, sid, "POST", devRPCInitialized); a.StatusCode != http.StatusAccepted {
		t.Errorf("initialized: got %d, want 202", a.StatusCode)
	}
	// whoami names the broker's client at the demo: its client ID metadata
	// document, which the type mcp provider registered with.
	cimd := `\"client_id\":\"` + info.Broker + "/" + m.API + "/oauth2/provider/client-metadata/" + m.Provider + `\"`
	for body, want := range map[string]string{devRPCWhoami: cimd, devRPCAdd: `\"sum\":42`} {
		if a := rpc(t, m, sid, "POST", body); a.StatusCode != 200 || !strings.Contains(a.body, want) {
			t.Errorf("%s: got %d %s, want %s", body, a.StatusCode, a.body, want)
		}
	}
	if a := rpc(t, m, sid, "POST", devRPCAdminEcho); a.StatusCode != 403 || !strings.Contains(a.body, `"missing_scope":"mcp:admin"`) {
		t.Errorf("admin_echo before the step-up: got %d %s, want 403 naming mcp:admin", a.StatusCode, a.body)
	}
	connectMCP(t, info, url.Values{"client_user_identity": {"alice"}, "scope": {m.AdminScope}, "include_granted_scopes": {"true"}})
	if a := rpc(t, m, sid, "POST", devRPCAdminEcho); a.StatusCode != 200 || !strings.Contains(a.body, `\"echo\":\"hello\"`) {
		t.Errorf("admin_echo after the step-up: got %d %s", a.StatusCode, a.body)
	}
	if a := rpc(t, m, sid, "DELETE", ""); a.StatusCode != 204 && a.StatusCode != 200 {
		t.Errorf("DELETE: got %d", a.StatusCode)
	}
}

// startDev runs `oauth2broker dev` on free ports until the test ends.
func startDev(t *testing.T) (devInfo, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	infoc := make(chan devInfo, 1)
	done := make(chan error, 1)
	out := &syncBuffer{}
	go func() {
		done <- devCmd(ctx, []string{"--addr", "127.0.0.1:0", "--op-addr", "127.0.0.1:0", "--mcp-addr", "127.0.0.1:0"}, out, io.Discard,
			func(i devInfo) { infoc <- i })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("dev did not stop cleanly: %v", err)
		}
	})
	select {
	case info := <-infoc:
		return info, out.String()
	case err := <-done:
		t.Fatalf("dev stopped: %v", err)
	case <-time.After(time.Minute): // a bound on a stuck start, not a pace
		t.Fatal("dev did not start in a minute")
	}
	return devInfo{}, ""
}

// connectMCP runs the guide's step 1 (or 4) for the MCP demo: authorize,
// then follow the redirects to the broker's "Connected" page.
func connectMCP(t *testing.T, info devInfo, form url.Values) {
	t.Helper()
	req, _ := http.NewRequest("POST", info.Broker+"/"+info.MCP.API+"/oauth2/provider/authorize", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(info.MCP.ClientID, info.MCP.ClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var a struct {
		AuthorizationURL string `json:"authorization_url"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&a)
	resp.Body.Close()
	page, err := http.Get(a.AuthorizationURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if page.StatusCode != 200 || !strings.Contains(string(body), "Connected") {
		t.Fatalf("connect %v: got %d %s", form, page.StatusCode, body)
	}
}

type rpcAnswer struct {
	*http.Response
	body string
}

// rpc sends one of the guide's MCP requests through the proxy as alice.
func rpc(t *testing.T, m devMCPInfo, session, method, body string) rpcAnswer {
	t.Helper()
	req, _ := http.NewRequest(method, m.ProxyURL, strings.NewReader(body))
	req.SetBasicAuth(m.ClientID, m.ClientSecret)
	req.Header.Set("X-Client-User-Identity", "alice")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2025-11-25")
	if session != "" {
		req.Header.Set("Mcp-Session-Id", session)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return rpcAnswer{resp, string(raw)}
}
