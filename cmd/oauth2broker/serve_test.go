package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe runs serve in the background until the test ends or stop is
// called; stop returns serve's error.
func startServe(t *testing.T, args ...string) (base string, logs *syncBuffer, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs = &syncBuffer{}
	addrs := make(chan net.Addr, 1)
	done := make(chan struct{})
	var serveErr error
	go func() {
		defer close(done)
		serveErr = serve(ctx, args, logs, func(a net.Addr) { addrs <- a })
	}()
	stop = func() error {
		cancel()
		select {
		case <-done:
			return serveErr
		case <-time.After(30 * time.Second):
			return errors.New("serve did not stop within 30s")
		}
	}
	t.Cleanup(func() { _ = stop() })
	select {
	case a := <-addrs:
		return "http://" + a.String(), logs, stop
	case <-done:
		t.Fatalf("serve returned before listening: %v\nlogs:\n%s", serveErr, logs)
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not start within 30s\nlogs:\n%s", logs)
	}
	return "", nil, nil
}

func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("stat %s: %v", path, err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s: got mode %o, want %o", path, got, want)
	}
}

func TestServeWithoutConfiguration(t *testing.T) {
	clearEnv(t)
	t.Chdir(t.TempDir())
	base, logs, stop := startServe(t, "--addr", "127.0.0.1:0")

	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz: got %d, want 200", resp.StatusCode)
	}
	if got := status(t, http.MethodGet, base+"/admin/v1/apis", nil); got != http.StatusForbidden {
		t.Errorf("admin API without a token: got %d, want 403", got)
	}
	checkMode(t, "data", 0o700)
	checkMode(t, filepath.Join("data", keyFileName), 0o600)
	checkMode(t, filepath.Join("data", dbFileName), 0o600)

	if err := stop(); err != nil {
		t.Fatalf("serve: got %v, want a clean stop", err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Errorf("GET /healthz after stop: got an answer, want the listener closed")
	}
	key, _ := os.ReadFile(filepath.Join("data", keyFileName))
	out := logs.String()
	for _, want := range []string{"admin API is off", "encryption key generated", strings.TrimPrefix(base, "http://"), dbFileName, "stopped"} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %q:\n%s", want, out)
		}
	}
	if k := strings.TrimSpace(string(key)); k == "" || strings.Contains(out, k) {
		t.Errorf("logs contain the encryption key (or the key file is empty)")
	}
}

// status sends a request and returns the answer's status code.
func status(t *testing.T, method, url string, header http.Header) int {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// postToken posts a form to a token endpoint and returns the status and
// the access token.
func postToken(t *testing.T, endpoint string, form url.Values, user, pass string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.AccessToken
}

func TestServeAppliesExampleConfig(t *testing.T) {
	clearEnv(t)
	vars := exampleEnv(t)
	example := exampleFile(t)
	t.Chdir(t.TempDir())
	base, logs, stop := startServe(t, "--config", example, "--addr", "127.0.0.1:0")
	checkExampleObjects(t, base, vars)
	if err := stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	out := logs.String()
	for name, v := range vars {
		if strings.Contains(out, v) {
			t.Errorf("logs contain the value of %s", name)
		}
	}
	if !strings.Contains(out, "admin API is on") || !strings.Contains(out, "configuration file applied") {
		t.Errorf("logs lack the admin API and configuration lines:\n%s", out)
	}
}

// TestServeRestartReappliesConfig starts twice on the same data: applying
// the same declaration again must succeed and change nothing.
func TestServeRestartReappliesConfig(t *testing.T) {
	clearEnv(t)
	vars := exampleEnv(t)
	example := exampleFile(t)
	t.Chdir(t.TempDir())
	for round := 1; round <= 2; round++ {
		base, _, stop := startServe(t, "--config", example, "--addr", "127.0.0.1:0")
		checkExampleObjects(t, base, vars)
		if err := stop(); err != nil {
			t.Fatalf("round %d: serve: %v", round, err)
		}
	}
}

func exampleFile(t *testing.T) string {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("testdata", "example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// checkExampleObjects checks what testdata/example.yaml declares.
func checkExampleObjects(t *testing.T, base string, vars map[string]string) {
	t.Helper()
	cc := url.Values{"grant_type": {"client_credentials"}}
	if code, tok := postToken(t, base+"/shop/oauth2/token", cc, "shop-backend", vars["EXAMPLE_SHOP_BACKEND_SECRET"]); code != 200 || tok == "" {
		t.Errorf("shop client_credentials: got %d (token %t), want 200 with a token", code, tok != "")
	}
	if code, _ := postToken(t, base+"/shop/oauth2/token", cc, "shop-backend", "wrong-secret-0123456789abcdefghijkl"); code != 401 {
		t.Errorf("shop client_credentials with a wrong secret: got %d, want 401", code)
	}
	form := url.Values{"grant_type": {"client_credentials"}, "tenant": {"acme"},
		"client_id": {"config-sync"}, "client_secret": {vars["EXAMPLE_CONFIG_SYNC_SECRET"]}}
	if code, _ := postToken(t, base+"/configapi/v2/oauth/token", form, "", ""); code != 200 {
		t.Errorf("configapi at its token path: got %d, want 200", code)
	}
	pw := url.Values{"grant_type": {"password"}, "username": {"panel-api"}, "password": {vars["EXAMPLE_PANEL_PASSWORD"]}}
	if code, _ := postToken(t, base+"/api/token", pw, "", ""); code != 200 {
		t.Errorf("password grant of the declared user via the default client: got %d, want 200", code)
	}
	var out, errb bytes.Buffer
	t.Setenv(envAdminToken, vars["EXAMPLE_ADMIN_TOKEN"])
	if code := run([]string{"provider", "list", "--api", "shop", "--url", base}, &out, &errb); code != 0 {
		t.Fatalf("provider list: exit %d, stderr %s", code, errb.String())
	}
	for _, want := range []string{"github", "google", "oauth2", "oidc"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("provider list lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunHTTPFinishesRequestsInFlight(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started, release := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		io.WriteString(w, "finished")
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runHTTP(ctx, ln, h, slog.New(slog.DiscardHandler)) }()

	answer := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String())
		if err != nil {
			answer <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		answer <- string(b)
	}()
	<-started
	cancel()
	// Release the request only once Shutdown has closed the listener, so
	// that it is in flight during the shutdown however slow the machine.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the listener was still open 30 s after the shutdown began")
		}
	}
	close(release)
	if got := <-answer; got != "finished" {
		t.Errorf("request in flight: got %q, want finished", got)
	}
	if err := <-done; err != nil {
		t.Errorf("runHTTP: got %v, want nil", err)
	}
}

func TestPublicURLFor(t *testing.T) {
	tcp := func(s string) net.Addr { a, _ := net.ResolveTCPAddr("tcp", s); return a }
	tests := []struct {
		configured string
		bound      net.Addr
		want       string
		wantErr    bool
	}{
		{configured: "https://broker.example.com/", bound: tcp("127.0.0.1:80"), want: "https://broker.example.com"},
		{configured: "https://example.com/broker", bound: tcp("127.0.0.1:80"), want: "https://example.com/broker"},
		{bound: tcp("127.0.0.1:43210"), want: "http://127.0.0.1:43210"},
		{bound: tcp("0.0.0.0:8080"), want: "http://localhost:8080"},
		{bound: tcp("[::]:8080"), want: "http://localhost:8080"},
		{bound: tcp("[::1]:8080"), want: "http://[::1]:8080"},
		{configured: "broker.example.com", bound: tcp("127.0.0.1:80"), wantErr: true},
		{configured: "ftp://broker.example.com", bound: tcp("127.0.0.1:80"), wantErr: true},
		{configured: "https://broker.example.com/?x=1", bound: tcp("127.0.0.1:80"), wantErr: true},
	}
	for _, tt := range tests {
		got, err := publicURLFor(tt.configured, tt.bound)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("publicURLFor(%q, %v) = %q, %v; want %q (error %t)", tt.configured, tt.bound, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestServeRejectsBadKey(t *testing.T) {
	clearEnv(t)
	t.Chdir(t.TempDir())
	const badKey = "c2hvcnQta2V5LW5vdC0zMi1ieXRlcw=="
	t.Setenv("OAUTH2BROKER_ENCRYPTION_KEY", badKey)
	var logs syncBuffer
	err := serve(context.Background(), []string{"--addr", "127.0.0.1:0"}, &logs, nil)
	if err == nil || !strings.Contains(err.Error(), "encryption key") {
		t.Fatalf("got %v, want an encryption key error", err)
	}
	if strings.Contains(err.Error()+logs.String(), badKey) {
		t.Errorf("the key appears in the error or the logs")
	}
}
