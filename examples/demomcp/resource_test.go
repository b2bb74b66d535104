package demomcp_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/oauth2broker/oauth2broker/examples/demomcp"
)

// initialize is a JSON-RPC initialize request.
const initialize = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`

// postMCP posts a JSON-RPC body to the MCP endpoint with token (none when
// empty) and returns the answer, body closed.
func postMCP(t *testing.T, d *demomcp.Demo, token, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, d.Resource, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestUnauthenticatedChallenge(t *testing.T) {
	d := start(t, demomcp.Config{})
	resp := postMCP(t, d, "", initialize)
	want := `Bearer resource_metadata="` + d.ResourceMetadataURL + `", scope="mcp:tools"`
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != want {
		t.Errorf("no token: got %d %q, want 401 %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), want)
	}
	if resp := postMCP(t, d, "forged", initialize); resp.StatusCode != 401 {
		t.Errorf("unknown token: got %d, want 401", resp.StatusCode)
	}

	hidden := start(t, demomcp.Config{OmitResourceMetadataHint: true})
	resp = postMCP(t, hidden, "", initialize)
	if got := resp.Header.Get("WWW-Authenticate"); resp.StatusCode != 401 || strings.Contains(got, "resource_metadata") {
		t.Errorf("OmitResourceMetadataHint: got %d %q, want 401 without resource_metadata", resp.StatusCode, got)
	}
}

func TestMetadataDocuments(t *testing.T) {
	d := start(t, demomcp.Config{})
	for _, u := range []string{d.ResourceMetadataURL, d.BaseURL + "/.well-known/oauth-protected-resource"} {
		_, prm := do(t, mustGet(u))
		if prm["resource"] != d.Resource || !sameList(prm["authorization_servers"], d.Issuer) ||
			!sameList(prm["scopes_supported"], demomcp.ToolsScope, demomcp.AdminScope) {
			t.Errorf("%s: got %v", u, prm)
		}
	}
	if d.AuthServerMetadataURL != d.BaseURL+"/.well-known/oauth-authorization-server/as" {
		t.Errorf("AuthServerMetadataURL: got %s, want RFC 8414's path-inserted URL", d.AuthServerMetadataURL)
	}
	_, as := do(t, mustGet(d.AuthServerMetadataURL))
	checks := map[string]bool{
		"issuer":         as["issuer"] == d.Issuer,
		"endpoints":      as["authorization_endpoint"] == d.AuthorizeURL && as["token_endpoint"] == d.TokenURL && as["revocation_endpoint"] == d.RevocationURL,
		"registration":   as["registration_endpoint"] == d.RegistrationURL && d.RegistrationURL != "",
		"pkce":           sameList(as["code_challenge_methods_supported"], "S256"),
		"cimd":           as["client_id_metadata_document_supported"] == true,
		"iss":            as["authorization_response_iss_parameter_supported"] == true,
		"refresh tokens": sameList(as["grant_types_supported"], "authorization_code", "refresh_token"),
	}
	for name, ok := range checks {
		if !ok {
			t.Errorf("authorization server metadata %s: got %v", name, as)
		}
	}
}

func TestStepUpChallenge(t *testing.T) {
	d := start(t, demomcp.Config{})
	narrow := login(t, d, testClient, testSecret)
	call := `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"admin_echo","arguments":{"message":"hi"}}}`
	for _, body := range []string{call, "[" + call + "]"} {
		resp := postMCP(t, d, narrow.AccessToken, body)
		want := `Bearer error="insufficient_scope", scope="mcp:tools mcp:admin", resource_metadata="` +
			d.ResourceMetadataURL + `", error_description="the admin_echo tool needs scope mcp:admin"`
		if resp.StatusCode != 403 || resp.Header.Get("WWW-Authenticate") != want {
			t.Errorf("admin_echo with %s: got %d %q, want 403 %q", narrow.Extra("scope"), resp.StatusCode,
				resp.Header.Get("WWW-Authenticate"), want)
		}
	}
	// Through the SDK client: the narrow token still serves the other tools.
	cs, err := connect(t, d.Resource, bearer(narrow.AccessToken))
	if err != nil {
		t.Fatal(err)
	}
	var sum demomcp.AddOutput
	if err := callTool(t, cs, demomcp.ToolAdd, demomcp.AddInput{A: 1, B: 1}, &sum); err != nil || sum.Sum != 2 {
		t.Errorf("add with the narrow token: got %v, %v", sum, err)
	}
	if err := callTool(t, cs, demomcp.ToolAdminEcho, demomcp.EchoInput{Message: "hi"}, &demomcp.EchoOutput{}); err == nil {
		t.Errorf("admin_echo with the narrow token: no error")
	}
	// The wider grant (the union of the old and new scopes) passes.
	wide := login(t, d, testClient, testSecret, demomcp.ToolsScope, demomcp.AdminScope)
	cs, err = connect(t, d.Resource, bearer(wide.AccessToken))
	if err != nil {
		t.Fatal(err)
	}
	var echo demomcp.EchoOutput
	if err := callTool(t, cs, demomcp.ToolAdminEcho, demomcp.EchoInput{Message: "hi"}, &echo); err != nil || echo.Echo != "hi" {
		t.Errorf("admin_echo with %s: got %+v, %v", wide.Extra("scope"), echo, err)
	}
	// A token without the base scope is refused by the SDK middleware.
	adminOnly := login(t, d, testClient, testSecret, demomcp.AdminScope)
	if resp := postMCP(t, d, adminOnly.AccessToken, initialize); resp.StatusCode != 403 {
		t.Errorf("token without the base scope: got %d, want 403", resp.StatusCode)
	}
}

func TestTokenExpiresWithClock(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Now().Unix())
	d := start(t, demomcp.Config{TokenTTL: time.Minute, Now: func() time.Time { return time.Unix(now.Load(), 0) }})
	tok := login(t, d, testClient, testSecret)
	if resp := postMCP(t, d, tok.AccessToken, initialize); resp.StatusCode != 200 {
		t.Fatalf("fresh token: got %d, want 200", resp.StatusCode)
	}
	now.Add(61)
	if resp := postMCP(t, d, tok.AccessToken, initialize); resp.StatusCode != 401 {
		t.Errorf("token past its TTL: got %d, want 401", resp.StatusCode)
	}
}

func TestIssueTokenAndListChanged(t *testing.T) {
	d := start(t, demomcp.Config{})
	changed := make(chan struct{}, 1)
	c := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) {
			select {
			case changed <- struct{}{}:
			default:
			}
		}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: d.Resource,
		HTTPClient: bearer(d.IssueToken("carol", "seeded", []string{demomcp.ToolsScope}))},
		&mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	var who demomcp.WhoamiOutput
	if err := callTool(t, cs, demomcp.ToolWhoami, map[string]any{}, &who); err != nil || who.Subject != "carol" {
		t.Fatalf("whoami with an issued token: got %+v, %v", who, err)
	}
	// A tool added later reaches the session over its GET stream.
	if err := d.NotifyToolsChanged(ctx, changed); err != nil {
		t.Fatal(err)
	}
}
