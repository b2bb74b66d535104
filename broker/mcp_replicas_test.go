package broker_test

import (
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/examples/demomcp"
)

// Three replicas on one etcd that all need the broker's RFC 7591
// registration at once make it once, and every one of them uses it.
func TestMCPReplicasRegisterOnce(t *testing.T) {
	endpoint := startEtcd(t)
	envs, _ := startReplicas(t, replicaConfig{endpoints: []string{endpoint}, n: 3})
	d := startSlowDemoMCP(t, demomcp.Config{DisableCIMD: true}, 200*time.Millisecond)
	m := newMCPEnv(t, envs[0], d, nil)
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Go(func() {
			a := envs[i%3].form("POST", "/acme/oauth2/provider/authorize",
				url.Values{"client_user_identity": {fmt.Sprintf("u%d", i)}, "provider": {"notes"}}, m.id, m.secret)
			if a.Status != 200 {
				t.Errorf("authorize on replica %d: %d %s", i%3, a.Status, a.Raw)
			}
		})
	}
	wg.Wait()
	if n := d.Stats().Registrations; n != 1 {
		t.Fatalf("%d registrations by 3 replicas, want exactly 1", n)
	}
	m.connect("alice")
	if got := m.whoami(m.session("alice")); got != "alice" || d.Stats().Registrations != 1 {
		t.Errorf("whoami: %q after %d registrations", got, d.Stats().Registrations)
	}
}
