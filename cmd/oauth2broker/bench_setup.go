package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/oauth2broker/oauth2broker/broker"
	"github.com/oauth2broker/oauth2broker/broker/grants"
	"github.com/oauth2broker/oauth2broker/broker/seal"
	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/providers/catalog"
	boltstore "github.com/oauth2broker/oauth2broker/storage/bbolt"
)

// benchEnv is everything a bench run drives: the broker on a bbolt file,
// the two ceilings and the instant upstream, each on its own loopback
// listener, and the provisioned credentials.
type benchEnv struct {
	client      *http.Client
	broker      string
	ceiling     string
	signCeiling string
	upstream    string
	clientID    string
	secret      string
	api         string // the API the workloads call ("bench"); its hmac twin is api+"-hmac"
	adminToken  string
	hmacID      string // a client of API api-hmac (token_format hmac)
	hmacSecret  string
	accessToken string
	closers     []func()
	storeOpen   time.Duration
	seeded      int

	dir   string
	ring  *seal.Keyring
	addr  string // the broker's listen address, kept across restarts
	store *boltstore.DB
	srv   *broker.Server
	hs    *http.Server

	// the password_flood workload's flood, and the broker's settings for it
	flood   floodOptions
	limits  grants.PasswordLimits
	proxies []string
}

const benchAdminToken = "bench-admin-token"

func (b *benchEnv) close() {
	b.stopBroker()
	for i := len(b.closers) - 1; i >= 0; i-- {
		b.closers[i]()
	}
}

// startBroker opens the bbolt file and serves the broker on b.addr. It
// returns how long opening the store took.
func (b *benchEnv) startBroker(ctx context.Context) error {
	cat, err := catalog.Load()
	if err != nil {
		return err
	}
	t0 := time.Now()
	store, err := boltstore.Open(boltstore.Config{Path: filepath.Join(b.dir, dbFileName)})
	if err != nil {
		return err
	}
	b.storeOpen = time.Since(t0)
	ln, err := net.Listen("tcp", b.addr)
	if err != nil {
		_ = store.Close()
		return err
	}
	b.addr = ln.Addr().String()
	srv, err := broker.New(ctx, broker.Config{Store: store, Keyring: b.ring, PublicURL: "http://" + b.addr, AdminToken: benchAdminToken, Outbound: broker.DevOutbound(), Catalog: cat,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), TrustedProxies: b.proxies, Password: b.limits})
	if err != nil {
		_ = ln.Close()
		_ = store.Close()
		return err
	}
	b.store, b.srv, b.hs = store, srv, &http.Server{Handler: srv}
	go func() { _ = b.hs.Serve(ln) }()
	return nil
}

func (b *benchEnv) stopBroker() {
	if b.hs == nil {
		return
	}
	_ = b.hs.Close()
	b.srv.Close()
	_ = b.store.Close()
	b.hs = nil
	b.client.CloseIdleConnections()
}

// listen serves h on a loopback port and returns its base URL.
func (b *benchEnv) listen(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(ln) }()
	b.closers = append(b.closers, func() { _ = srv.Close() })
	return "http://" + ln.Addr().String(), nil
}

// startBench starts the servers on a fresh bbolt file in dir, with the
// environment changed by tune (when not nil) before the broker starts.
func startBench(ctx context.Context, dir string, concurrency int, tune func(*benchEnv)) (*benchEnv, error) {
	b := &benchEnv{dir: dir, client: benchClient(concurrency), api: "bench", adminToken: benchAdminToken}
	if tune != nil {
		tune(b)
	}
	key, _ := seal.GenerateKey()
	b.ring, _ = seal.NewKeyring(key)
	b.addr = "127.0.0.1:0"
	if err := b.startBroker(ctx); err != nil {
		return nil, err
	}
	b.broker = "http://" + b.addr
	var err error
	for _, h := range []struct {
		dst  *string
		sign bool
	}{{&b.ceiling, false}, {&b.signCeiling, true}} {
		c, err := newCeiling(h.sign)
		if err == nil {
			*h.dst, err = b.listen(c)
		}
		if err != nil {
			b.close()
			return nil, err
		}
	}
	if b.upstream, err = b.listen(&instantUpstream{}); err != nil {
		b.close()
		return nil, err
	}
	return b, b.provision(concurrency)
}

// benchClient is the load generator's HTTP client: keep-alive, room for
// every worker's connection.
func benchClient(concurrency int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		MaxIdleConns: 4 * concurrency, MaxIdleConnsPerHost: 2 * concurrency, DisableCompression: true,
	}}
}

// call sends a JSON (admin) or form request and decodes the JSON answer.
func (b *benchEnv) call(method, u string, body any, form url.Values, basic bool) (map[string]any, error) {
	var rd io.Reader
	ctype := "application/x-www-form-urlencoded"
	if body != nil {
		j, _ := json.Marshal(body)
		rd, ctype = bytes.NewReader(j), "application/json"
	} else {
		rd = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, rd)
	req.Header.Set("Content-Type", ctype)
	if strings.Contains(u, "/admin/v1/") {
		req.Header.Set("Authorization", "Bearer "+b.adminToken)
	} else if basic {
		req.SetBasicAuth(b.clientID, b.secret)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode >= 300 {
		return out, fmt.Errorf("bench set-up: %s %s: %d %v", method, u, resp.StatusCode, out["error_description"])
	}
	return out, nil
}

// provision creates the API, client, user and provider, one connection
// per worker plus a shared one, and an access token to introspect.
func (b *benchEnv) provision(concurrency int) error {
	admin := b.broker + "/admin/v1/apis"
	api := admin + "/" + b.api
	steps := []struct {
		method, url string
		body        any
	}{
		{"POST", admin, map[string]any{"name": b.api}},
		{"POST", api + "/users", map[string]any{"username": "user", "password": "bench-password"}},
		{"PUT", api + "/providers/up", map[string]any{"type": "oauth2", "auth_url": b.upstream + "/auth", "token_url": b.upstream + "/token",
			"client_id": "bench", "client_secret": "bench-secret", "scopes": []string{"read"}, "api_base_urls": []string{b.upstream + "/api"}}},
	}
	for i, s := range steps {
		if _, err := b.call(s.method, s.url, s.body, nil, false); err != nil {
			return err
		}
		if i == 0 {
			c, err := b.call("POST", api+"/clients", map[string]any{"grant_types": []string{"client_credentials", "password", "connection", "proxy"}, "scopes": []string{"read"}}, nil, false)
			if err != nil {
				return err
			}
			b.clientID, b.secret = c["client_id"].(string), c["client_secret"].(string)
		}
	}
	if _, err := b.call("POST", admin, map[string]any{"name": b.api + "-hmac", "token_format": "hmac"}, nil, false); err != nil {
		return err
	}
	hc, err := b.call("POST", api+"-hmac/clients", map[string]any{"grant_types": []string{"client_credentials"}}, nil, false)
	if err != nil {
		return err
	}
	b.hmacID, b.hmacSecret = hc["client_id"].(string), hc["client_secret"].(string)
	for w := 0; w < concurrency; w++ {
		if err := b.connect(fmt.Sprintf("user-%d", w)); err != nil {
			return err
		}
	}
	if err := b.connect("user-shared"); err != nil {
		return err
	}
	tok, err := b.call("POST", b.broker+"/"+b.api+"/oauth2/token", nil, url.Values{"grant_type": {"client_credentials"}}, true)
	if err != nil {
		return err
	}
	b.accessToken, _ = tok["access_token"].(string)
	return nil
}

// connect runs the authorization-code flow for one identity: the instant
// upstream redirects back to the broker's callback at once.
func (b *benchEnv) connect(identity string) error {
	a, err := b.call("POST", b.broker+"/"+b.api+"/oauth2/provider/authorize", nil, url.Values{"client_user_identity": {identity}}, true)
	if err != nil {
		return err
	}
	resp, err := b.client.Get(a["authorization_url"].(string))
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("bench set-up: callback for %s answered %d", identity, resp.StatusCode)
	}
	return nil
}

// seed imports n connections (identities seed-0 … seed-n-1) straight
// into the store through the broker, concurrently, then restarts the
// broker to measure how long opening the grown store takes.
func (b *benchEnv) seed(ctx context.Context, n, workers int) (time.Duration, error) {
	t0 := time.Now()
	err := inParallel(ctx, n, workers, func(i int) error {
		ts := &providers.TokenSet{AccessToken: fmt.Sprintf("seed-at-%d", i), RefreshToken: "seed-rt", TokenType: "Bearer",
			Expiry: time.Now().Add(24 * time.Hour), Scope: "read"}
		return b.srv.ImportConnection(ctx, b.api, b.clientID, fmt.Sprintf("seed-%d", i), "up", ts)
	})
	if err != nil {
		return 0, err
	}
	seeding := time.Since(t0)
	b.stopBroker()
	return seeding, b.startBroker(ctx)
}

// connectMany connects n more identities (conn-0 … conn-n-1) through the
// authorization-code flow, workers at a time, as a client would: over
// HTTP only, so it works against a broker in another process.
func (b *benchEnv) connectMany(ctx context.Context, n, workers int) error {
	return inParallel(ctx, n, workers, func(i int) error { return b.connect(fmt.Sprintf("conn-%d", i)) })
}

// inParallel calls fn(0) … fn(n-1), workers at a time, and returns the
// first error (the calls not yet started are then skipped).
func inParallel(ctx context.Context, n, workers int, fn func(i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		go func() {
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(n) {
					break
				}
				if err := fn(int(i)); err != nil {
					cancel()
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	var first error
	for w := 0; w < workers; w++ {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	if first == nil {
		first = ctx.Err()
	}
	return first
}
