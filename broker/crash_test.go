package broker_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/broker"
	"github.com/oauth2broker/oauth2broker/broker/seal"
	"github.com/oauth2broker/oauth2broker/providers/providertest"
	"github.com/oauth2broker/oauth2broker/storage/bbolt"
)

// TestCrashChild is the broker process that TestKill9LosesNothing kills.
// It runs only when started by that test.
func TestCrashChild(t *testing.T) {
	path := os.Getenv("OAUTH2BROKER_CRASH_DB")
	if path == "" {
		t.Skip("helper process for TestKill9LosesNothing")
	}
	db, err := bbolt.Open(bbolt.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := seal.ParseKey(os.Getenv("OAUTH2BROKER_CRASH_KEY"))
	ring, _ := seal.NewKeyring(key)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + ln.Addr().String()
	srv, err := broker.New(context.Background(), broker.Config{Catalog: broker.BuiltinCatalog(t), Store: db, Keyring: ring, PublicURL: u, AdminToken: adminToken, Outbound: broker.DevOutbound(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("LISTENING", u)
	_ = http.Serve(ln, srv)
}

// TestKill9LosesNothing kills the broker with SIGKILL while it answers
// writes, then checks that everything answered as successful is there.
func TestKill9LosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "broker.db")
	key, _ := seal.GenerateKey()
	child, base := startChild(t, dbPath, seal.EncodeKey(key))

	// Set-up, answered before the crash.
	adminCall(t, base, "POST", "/apis", `{"name":"crash"}`, 201)
	cl := adminCall(t, base, "POST", "/apis/crash/clients", `{"client_id":"app","grant_types":["password","refresh_token","client_credentials"]}`, 201)
	sec := jsonField(cl, "client_secret")
	adminCall(t, base, "POST", "/apis/crash/users", `{"username":"u","password":"pw-123456"}`, 201)

	var mu sync.Mutex
	var clients, refreshTokens []string
	// enough is closed once the broker has answered wantClients client
	// creations and wantLogins logins: the kill comes then, while the
	// workers still have writes in flight, however slow the machine.
	const wantClients, wantLogins = 8, 4
	enough := make(chan struct{})
	var once sync.Once
	counted := func() { // with mu held
		if len(clients) >= wantClients && len(refreshTokens) >= wantLogins {
			once.Do(func() { close(enough) })
		}
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("c%d-%d", w, i)
				if status, _ := rawCall(base, "POST", "/admin/v1/apis/crash/clients", `{"client_id":"`+id+`"}`, "Bearer "+adminToken, "application/json"); status == 201 {
					mu.Lock()
					clients = append(clients, id)
					counted()
					mu.Unlock()
				}
				form := url.Values{"grant_type": {"password"}, "username": {"u"}, "password": {"pw-123456"}, "client_id": {"app"}, "client_secret": {sec}}.Encode()
				if status, body := rawCall(base, "POST", "/crash/oauth2/token", form, "", "application/x-www-form-urlencoded"); status == 200 {
					mu.Lock()
					refreshTokens = append(refreshTokens, jsonField(body, "refresh_token"))
					counted()
					mu.Unlock()
				}
			}
		}(w)
	}
	select {
	case <-enough:
	case <-time.After(3 * time.Minute): // a bound on a stuck broker, not a pace
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	close(stop)
	wg.Wait()
	if len(clients) < wantClients || len(refreshTokens) < wantLogins {
		t.Fatalf("in 3 minutes the broker answered %d client creations and %d logins, want %d and %d before the kill",
			len(clients), len(refreshTokens), wantClients, wantLogins)
	}

	// A new process on the same file sees every answered write.
	_, base = startChild(t, dbPath, seal.EncodeKey(key))
	for _, id := range clients {
		adminCall(t, base, "GET", "/apis/crash/clients/"+id, "", 200)
	}
	for _, rt := range refreshTokens {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"app"}, "client_secret": {sec}}.Encode()
		if status, body := rawCall(base, "POST", "/crash/oauth2/token", form, "", "application/x-www-form-urlencoded"); status != 200 {
			t.Errorf("refresh token answered before the crash: got %d %s, want 200", status, body)
		}
	}
	t.Logf("verified %d clients and %d refresh tokens answered before SIGKILL", len(clients), len(refreshTokens))
}

func startChild(t *testing.T, dbPath, key string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.v")
	cmd.Env = append(os.Environ(), "OAUTH2BROKER_CRASH_DB="+dbPath, "OAUTH2BROKER_CRASH_KEY="+key)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "LISTENING "); ok {
			go func() { _, _ = io.Copy(io.Discard, out) }()
			return cmd, u
		}
	}
	t.Fatalf("child broker did not start: %v", sc.Err())
	return nil, ""
}

func rawCall(base, method, path, body, auth, ctype string) (int, string) {
	req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func adminCall(t *testing.T, base, method, path, body string, want int) string {
	t.Helper()
	status, got := rawCall(base, method, "/admin/v1"+path, body, "Bearer "+adminToken, "application/json")
	if status != want {
		t.Fatalf("%s %s: got %d %s, want %d", method, path, status, got, want)
	}
	return got
}

func jsonField(body, field string) string {
	var m map[string]any
	_ = jsonUnmarshal(body, &m)
	s, _ := m[field].(string)
	return s
}

// TestKill9AfterRefreshKeepsRotatedToken: the upstream rotates refresh
// tokens; the broker is killed right after answering a refreshed token.
// The rotated refresh token must have been persisted before that answer,
// or the next refresh would present a dead token.
func TestKill9AfterRefreshKeepsRotatedToken(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	dbPath := filepath.Join(t.TempDir(), "broker.db")
	key := seal.EncodeKey(mustKey(t))
	child, base := startChild(t, dbPath, key)
	op := providertest.StartOP(t, providertest.OPConfig{RedirectURIs: []string{base + "/crash/oauth2/provider/callback/corp"}})
	adminCall(t, base, "POST", "/apis", `{"name":"crash"}`, 201)
	cl := adminCall(t, base, "POST", "/apis/crash/clients", `{"client_id":"app","grant_types":["connection"]}`, 201)
	sec := jsonField(cl, "client_secret")
	adminCall(t, base, "PUT", "/apis/crash/providers/corp", `{"type":"oidc","issuer":"`+op.Issuer+`","client_id":"`+op.ClientID+`","client_secret":"`+op.ClientSecret+`","scopes":["openid","offline_access"]}`, 200)

	form := func(v url.Values) string { v.Set("client_id", "app"); v.Set("client_secret", sec); return v.Encode() }
	_, auth := rawCall(base, "POST", "/crash/oauth2/provider/authorize", form(url.Values{"client_user_identity": {"u1"}}), "", "application/x-www-form-urlencoded")
	cb := op.Login(t, jsonField(auth, "authorization_url"))
	if status, body := rawCall(cb.Scheme+"://"+cb.Host, "GET", cb.RequestURI(), "", "", ""); status != 200 {
		t.Fatalf("callback: got %d %s, want 200 (the page)", status, body)
	}
	refresh := form(url.Values{"client_user_identity": {"u1"}, "force_refresh": {"true"}})
	status, body := rawCall(base, "POST", "/crash/oauth2/token", refresh, "", "application/x-www-form-urlencoded")
	if status != 200 || op.RefreshCount() != 1 {
		t.Fatalf("forced refresh: got %d %s with %d upstream refreshes, want 200 and 1", status, body, op.RefreshCount())
	}
	_ = child.Process.Signal(syscall.SIGKILL)
	_ = child.Wait()

	_, base2 := startChild(t, dbPath, key)
	status, body = rawCall(base2, "POST", "/crash/oauth2/token", refresh, "", "application/x-www-form-urlencoded")
	if status != 200 || op.RefreshCount() != 2 {
		t.Fatalf("refresh after SIGKILL: got %d %s with %d upstream refreshes, want 200 and 2 (the rotated refresh token was kept)", status, body, op.RefreshCount())
	}
}

func mustKey(t *testing.T) []byte {
	t.Helper()
	k, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}
