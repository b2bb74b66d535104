package broker_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/broker"
	"github.com/oauth2broker/oauth2broker/broker/seal"
	"github.com/oauth2broker/oauth2broker/providers/providertest"
	etcdstore "github.com/oauth2broker/oauth2broker/storage/etcd"
	"github.com/oauth2broker/oauth2broker/storage/etcd/etcdtest"
)

// Three broker replicas on one real etcd, behind one public URL: 60
// concurrent token requests on an expired connection, spread over the
// replicas, cause exactly one upstream refresh; a secret rotated on one
// replica stops working on the others as soon as their watch hears it
// (they answer clients from memory: storage/cached).
func TestReplicasOnEtcd(t *testing.T) {
	endpoint := startEtcd(t)
	clk := newClock()
	envs, _ := startReplicas(t, replicaConfig{endpoints: []string{endpoint}, n: 3, now: clk.now})
	public := envs[0].URL
	e := envs[0]
	id, sec := fedSetup(e, nil)
	op := providertest.StartOP(t, providertest.OPConfig{RedirectURIs: []string{public + "/fed/oauth2/provider/callback/corp"}})
	e.mustAdmin(200, "PUT", "/apis/fed/providers/corp", map[string]any{
		"type": "oidc", "issuer": op.Issuer, "client_id": op.ClientID, "client_secret": op.ClientSecret,
		"scopes": []string{"openid", "offline_access"},
	})
	e.connect(id, sec, "u1", "corp", func(u string) *url.URL { return op.Login(t, u) })

	clk.add(providertest.OPAccessTokenLifetime + time.Minute)
	var wg sync.WaitGroup
	tokens := make([]string, 60)
	for i := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tokens[i] = envs[i%3].connToken(id, sec, url.Values{"client_user_identity": {"u1"}}).str("access_token")
		}()
	}
	wg.Wait()
	if n := op.RefreshCount(); n != 1 {
		t.Fatalf("upstream refreshes for 60 requests over 3 replicas: got %d, want exactly 1", n)
	}
	for i, at := range tokens {
		if at == "" || at != tokens[0] {
			t.Fatalf("request %d got %q, want the one refreshed token %q", i, at, tokens[0])
		}
	}
	rot := e.mustAdmin(200, "POST", "/apis/fed/clients/"+id+"/secret", nil)
	for i, r := range envs {
		if !eventually(func() bool { return r.connToken(id, sec, url.Values{"client_user_identity": {"u1"}}).Status == 401 }) {
			t.Errorf("replica %d still accepts the rotated-out secret 30 s after the rotation", i)
		}
		if a := r.connToken(id, rot.str("client_secret"), url.Values{"client_user_identity": {"u1"}}); a.Status != 200 {
			t.Errorf("replica %d refused the new secret: %d %s", i, a.Status, a.Raw)
		}
	}
}

// startEtcd starts an in-process etcd for the test (skipped with
// -short) and returns its endpoint.
func startEtcd(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts etcd")
	}
	endpoint, stop, err := etcdtest.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return endpoint
}

// replicaConfig says how startReplicas runs broker replicas on etcd.
type replicaConfig struct {
	endpoints      []string
	n              int
	now            func() time.Time
	refreshAhead   time.Duration
	requestTimeout time.Duration
}

// startReplicas runs cfg.n brokers on one etcd prefix behind one public
// URL (the first replica's), and returns an env and the server of each.
func startReplicas(t *testing.T, cfg replicaConfig) ([]*env, []*broker.Server) {
	t.Helper()
	key, _ := seal.GenerateKey()
	ring, _ := seal.NewKeyring(key)
	servers := make([]*httptest.Server, cfg.n)
	for i := range servers {
		servers[i] = httptest.NewUnstartedServer(nil)
		servers[i].Start()
	}
	public := servers[0].URL
	envs := make([]*env, cfg.n)
	brokers := make([]*broker.Server, cfg.n)
	for i, ts := range servers {
		db, err := etcdstore.Open(context.Background(), etcdstore.Config{Endpoints: cfg.endpoints, Prefix: "/replicas/", RequestTimeout: cfg.requestTimeout})
		if err != nil {
			t.Fatal(err)
		}
		logs := &syncBuffer{}
		srv, err := broker.New(context.Background(), broker.Config{Catalog: broker.BuiltinCatalog(t), Store: db, Keyring: ring, PublicURL: public, AdminToken: adminToken,
			Now: cfg.now, Outbound: broker.DevOutbound(), RefreshAhead: cfg.refreshAhead, Logger: slog.New(slog.NewTextHandler(logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		ts.Config.Handler = srv
		t.Cleanup(func() { ts.Close(); srv.Close(); db.Close() })
		envs[i] = &env{t: t, URL: ts.URL, Logs: logs}
		brokers[i] = srv
	}
	return envs, brokers
}
