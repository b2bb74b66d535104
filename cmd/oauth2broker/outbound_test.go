package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
)

// serveAdminToken is long enough for any admin-token rule.
const serveAdminToken = "outbound-test-admin-token-0123456789abcdef"

// putHTTPProvider saves a provider whose token endpoint is plain http on
// loopback and returns the status.
func putHTTPProvider(t *testing.T, base string) int {
	t.Helper()
	h := http.Header{"Authorization": {"Bearer " + serveAdminToken}, "Content-Type": {"application/json"}}
	do := func(method, path, body string) int {
		req, _ := http.NewRequest(method, base+"/admin/v1"+path, bytes.NewReader([]byte(body)))
		req.Header = h
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := do("POST", "/apis", `{"name":"x"}`); got != http.StatusCreated {
		t.Fatalf("create API: got %d", got)
	}
	return do("PUT", "/apis/x/providers/p", `{"type":"oauth2","auth_url":"http://127.0.0.1:9/auth","token_url":"http://127.0.0.1:9/token","client_id":"c"}`)
}

// serve refuses plain http upstreams by default, even on loopback, and
// allows loopback ones with --outbound-allow-http-loopback, saying so in
// its log.
func TestServeOutboundPolicy(t *testing.T) {
	clearEnv(t)
	t.Chdir(t.TempDir())
	base, logs, _ := startServe(t, "--addr", "127.0.0.1:0", "--admin-token", serveAdminToken, "--data", "prod")
	if got := putHTTPProvider(t, base); got != http.StatusBadRequest {
		t.Errorf("production default, http provider on loopback: got %d, want 400", got)
	}
	if strings.Contains(logs.String(), "outbound-allow-http-loopback") {
		t.Errorf("production default: the log speaks of loopback http:\n%s", logs)
	}
	base, logs, _ = startServe(t, "--addr", "127.0.0.1:0", "--admin-token", serveAdminToken, "--data", "dev",
		"--outbound-allow-http-loopback", "true", "--outbound-deny", "default,private")
	if got := putHTTPProvider(t, base); got != http.StatusOK {
		t.Errorf("loopback allowed, http provider on loopback: got %d, want 200", got)
	}
	if !strings.Contains(logs.String(), "plain http to loopback providers and webhooks is allowed") {
		t.Errorf("loopback allowed: the log does not say so:\n%s", logs)
	}
	for _, args := range [][]string{{"--outbound-allow-http-loopback", "yes"}, {"--outbound-deny", "10.0.0.0/33"}} {
		err := serve(context.Background(), append([]string{"--addr", "127.0.0.1:0", "--data", "bad"}, args...), &bytes.Buffer{}, nil)
		if err == nil {
			t.Errorf("serve %v: got no error", args)
		}
	}
}
