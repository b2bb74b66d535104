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
		done <- devCmd(ctx, []string{"--addr", "127.0.0.1:0", "--op-addr", "127.0.0.1:0"}, &out, io.Discard, func(i devInfo) { infoc <- i })
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
