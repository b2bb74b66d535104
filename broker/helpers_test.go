package broker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/broker"
	"github.com/oauth2broker/oauth2broker/broker/seal"
	"github.com/oauth2broker/oauth2broker/storage/bbolt"
)

const adminToken = "test-admin-token-0123456789"

// syncBuffer collects log output from concurrent handlers.
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

// env is a running broker on a real bbolt file, behind a real HTTP server.
type env struct {
	t     testing.TB
	URL   string
	Srv   *broker.Server
	Store *bbolt.DB
	Ring  *seal.Keyring
	Logs  *syncBuffer
}

func newEnvTB(t testing.TB) *env { return newEnvOpts(t, adminToken, nil) }

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, adminToken)
}

func newEnvWith(t *testing.T, admin string) *env {
	t.Helper()
	return newEnvOpts(t, admin, nil)
}

// newEnvOpts starts a broker with the given admin token and clock (the
// real one when nil).
func newEnvOpts(t testing.TB, admin string, now func() time.Time) *env {
	t.Helper()
	return newEnvConfig(t, func(c *broker.Config) { c.AdminToken, c.Now = admin, now })
}

// newEnvConfig starts a broker on a fresh bbolt file, with the test
// defaults (admin token, fast webhook retries, loopback upstreams allowed,
// logs captured) changed by set.
func newEnvConfig(t testing.TB, set func(*broker.Config)) *env {
	t.Helper()
	return newEnvServer(t, set, nil)
}

// newEnvServer is newEnvConfig with the HTTP server's settings (its
// timeouts) changed by setServer before it starts.
func newEnvServer(t testing.TB, set func(*broker.Config), setServer func(*http.Server)) *env {
	t.Helper()
	db, err := bbolt.Open(bbolt.Config{Path: filepath.Join(t.TempDir(), "broker.db")})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := seal.GenerateKey()
	ring, _ := seal.NewKeyring(key)
	logs := &syncBuffer{}
	ts := httptest.NewUnstartedServer(nil)
	if setServer != nil {
		setServer(ts.Config)
	}
	ts.Start()
	cfg := broker.Config{Catalog: broker.BuiltinCatalog(t),
		Store: db, Keyring: ring, PublicURL: ts.URL, AdminToken: adminToken, WebhookRetry: 20 * time.Millisecond, Outbound: broker.DevOutbound(),
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if set != nil {
		set(&cfg)
	}
	srv, err := broker.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
		db.Close()
	})
	return &env{t: t, URL: ts.URL, Srv: srv, Store: db, Ring: ring, Logs: logs}
}

// answer is a decoded JSON answer.
type answer struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

func (a answer) str(k string) string { s, _ := a.Body[k].(string); return s }

func (e *env) do(req *http.Request) answer {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{Status: resp.StatusCode, Header: resp.Header, Raw: string(raw)}
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &a.Body); err != nil {
			e.t.Fatalf("%s %s: answer is not a JSON object: %s", req.Method, req.URL.Path, raw)
		}
	}
	return a
}

// admin calls the admin API with the test token.
func (e *env) admin(method, path string, body any) answer {
	e.t.Helper()
	return e.adminAs(adminToken, method, path, body)
}

// adminAs calls the admin API with the bearer token (an admin key).
func (e *env) adminAs(token, method, path string, body any) answer {
	e.t.Helper()
	var r io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			r = strings.NewReader(s)
		} else {
			b, _ := json.Marshal(body)
			r = bytes.NewReader(b)
		}
	}
	req, _ := http.NewRequest(method, e.URL+"/admin/v1"+path, r)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	return e.do(req)
}

// mustAdmin calls the admin API and fails unless it answers want.
func (e *env) mustAdmin(want int, method, path string, body any) answer {
	e.t.Helper()
	a := e.admin(method, path, body)
	if a.Status != want {
		e.t.Fatalf("%s %s: got %d %s, want %d", method, path, a.Status, a.Raw, want)
	}
	return a
}

// form posts a form to path, with HTTP Basic when id is set.
func (e *env) form(method, path string, v url.Values, id, secret string) answer {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.URL+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	return e.do(req)
}

// json sends a JSON body with the given method.
func (e *env) json(method, path string, body any) answer {
	e.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, e.URL+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	return e.do(req)
}

// client creates a client and returns its id and secret.
func (e *env) client(api string, body map[string]any) (string, string) {
	e.t.Helper()
	a := e.mustAdmin(201, "POST", "/apis/"+api+"/clients", body)
	return a.str("client_id"), a.str("client_secret")
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
