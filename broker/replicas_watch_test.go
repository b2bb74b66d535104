package broker_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/storage/etcd/etcdtest"
)

// eventually polls cond every 50 ms for up to 30 s.
func eventually(cond func() bool) bool {
	for range 600 {
		if cond() {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return cond()
}

// waitLoad polls cond every 10 ms for up to 2 minutes, while a load runs.
func waitLoad(cond func() bool) bool {
	for deadline := time.Now().Add(2 * time.Minute); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

// jwtKid returns the kid of a JWT's header.
func jwtKid(t *testing.T, token string) string {
	t.Helper()
	head, _, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	var h struct {
		Kid string `json:"kid"`
	}
	if err != nil || json.Unmarshal(raw, &h) != nil {
		t.Fatalf("not a JWT: %q", token)
	}
	return h.Kid
}

var leaderLine = regexp.MustCompile(`(?m)^oauth2broker_leader\{job="refresh-ahead"\} 1$`)

// leaders returns which replicas say they run refresh ahead.
func leaders(envs []*env, closed map[int]bool) []int {
	var who []int
	for i, r := range envs {
		if closed[i] {
			continue
		}
		if leaderLine.MatchString(r.do(mustReq("GET", r.URL+"/metrics")).Raw) {
			who = append(who, i)
		}
	}
	return who
}

// Changes made on one replica take effect on the others through the
// store's watch, not a cache expiry: the replicas' clock stands still, so
// no TTL can run out. A key rotation reaches every JWKS and the signer, a
// new token path is served everywhere, a revocation is seen at once, and
// one replica at a time runs refresh ahead, another taking over when it
// stops.
func TestReplicasSeeChangesAtOnce(t *testing.T) {
	endpoint := startEtcd(t)
	clk := newClock() // never moved
	envs, brokers := startReplicas(t, replicaConfig{endpoints: []string{endpoint}, n: 3, now: clk.now, refreshAhead: time.Hour})
	e := envs[0]
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "w"})
	id, sec := e.client("w", map[string]any{"grant_types": []string{"client_credentials"}})
	cc := url.Values{"grant_type": {"client_credentials"}}
	jwks := func(r *env) string { return r.do(mustReq("GET", r.URL+"/w/oauth2/jwks")).Raw }

	before := jwks(e)
	for i, r := range envs {
		if got := jwks(r); got != before {
			t.Fatalf("replica %d JWKS before the rotation: %s, want the same as replica 0: %s", i, got, before)
		}
		if a := r.form("POST", "/w/oauth2/token", cc, id, sec); a.Status != 200 { // the signer is cached too
			t.Fatalf("replica %d token: %d %s", i, a.Status, a.Raw)
		}
	}
	rotated := e.mustAdmin(200, "POST", "/apis/w/keys/rotate", nil)
	after := jwks(e)
	if after == before {
		t.Fatal("JWKS unchanged by the rotation on the replica that made it")
	}
	for i, r := range envs {
		if !eventually(func() bool { return jwks(r) == after }) {
			t.Errorf("replica %d JWKS in 30 s after a rotation elsewhere: %s, want %s", i, jwks(r), after)
		}
		tok := r.form("POST", "/w/oauth2/token", cc, id, sec).str("access_token")
		if kid := jwtKid(t, tok); kid != rotated.str("kid") && kid != rotated.str("id") {
			t.Errorf("replica %d signs with key %q after the rotation, want the new key (%s)", i, kid, rotated.Raw)
		}
	}

	// A token path added on replica 0 is served by the others.
	e.mustAdmin(200, "PATCH", "/apis/w", map[string]any{"token_paths": []string{"/w-extra/token"}})
	for i, r := range envs {
		if !eventually(func() bool { return r.form("POST", "/w-extra/token", cc, id, sec).Status == 200 }) {
			t.Errorf("replica %d does not serve the token path added on replica 0 after 30 s", i)
		}
	}

	// A token revoked on replica 0 is inactive on replica 2 at once.
	at := envs[1].form("POST", "/w/oauth2/token", cc, id, sec).str("access_token")
	if a := e.form("POST", "/w/oauth2/revoke", url.Values{"token": {at}}, id, sec); a.Status != 200 {
		t.Fatalf("revoke: %d %s", a.Status, a.Raw)
	}
	if a := envs[2].form("POST", "/w/oauth2/introspect", url.Values{"token": {at}}, id, sec); a.Body["active"] != false {
		t.Errorf("replica 2 introspects a token revoked on replica 0 as %s, want inactive", a.Raw)
	}

	// One leader for refresh ahead; when it stops, another takes over.
	closed := map[int]bool{}
	var who []int
	if !eventually(func() bool { who = leaders(envs, closed); return len(who) == 1 }) {
		t.Fatalf("replicas leading refresh ahead: %v, want exactly one", who)
	}
	first := who[0]
	brokers[first].Close()
	closed[first] = true
	if !eventually(func() bool { who = leaders(envs, closed); return len(who) == 1 }) {
		t.Fatalf("after leader %d stopped, replicas leading: %v, want exactly one other", first, who)
	}
}

// Two replicas on a real 3-member etcd cluster: killing the etcd leader
// under load fails no request; with no quorum, writes answer 503
// temporarily_unavailable with Retry-After, while tokens are still issued
// and the JWKS served from what the replicas last read; revocation checks,
// which must not be stale, answer 503; once the quorum is back everything
// works and nothing was lost.
func TestReplicasThroughQuorumLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd")
	}
	cluster, err := etcdtest.StartCluster(t.TempDir(), 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	envs, _ := startReplicas(t, replicaConfig{endpoints: cluster.Endpoints(), n: 2, now: time.Now}) // the default request timeout (5 s)
	e := envs[0]
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "q"})
	id, sec := e.client("q", map[string]any{"grant_types": []string{"client_credentials"}})
	cc := url.Values{"grant_type": {"client_credentials"}}
	var issued []string
	for i, r := range envs {
		a := r.form("POST", "/q/oauth2/token", cc, id, sec)
		if a.Status != 200 {
			t.Fatalf("replica %d token: %d %s", i, a.Status, a.Raw)
		}
		issued = append(issued, a.str("access_token"))
	}

	// Load on both replicas while one member stops.
	var (
		wg       sync.WaitGroup
		requests atomic.Int64
		mu       sync.Mutex
		failures []string
	)
	stopLoad := make(chan struct{})
	for w := range 4 {
		r := envs[w%2]
		wg.Go(func() {
			for {
				select {
				case <-stopLoad:
					return
				default:
				}
				a := r.form("POST", "/q/oauth2/token", cc, id, sec)
				if a.Status == 200 {
					a = r.form("POST", "/q/oauth2/introspect", url.Values{"token": {a.str("access_token")}}, id, sec)
				}
				requests.Add(2)
				if a.Status != 200 {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%d %s", a.Status, a.Raw))
					mu.Unlock()
				}
			}
		})
	}
	// Kill the leader once the load runs, and keep the load on through the
	// election until the replicas have answered more of it under the new
	// leader: events, not a pace, so a slow machine only takes longer.
	leader := -1
	ok := waitLoad(func() bool { return requests.Load() >= 20 })
	if ok {
		if leader = cluster.Leader(); leader >= 0 {
			cluster.Kill(leader) // a crash: no leadership hand-over
			ok = waitLoad(func() bool { l := cluster.Leader(); return l >= 0 && l != leader })
			after := requests.Load()
			ok = ok && waitLoad(func() bool { return requests.Load() >= after+20 })
		}
	}
	close(stopLoad)
	wg.Wait()
	if !ok || leader < 0 {
		t.Fatalf("the load or the election did not go on within 2 minutes (leader %d, %d requests)", leader, requests.Load())
	}
	second := (leader + 1) % 3
	if len(failures) > 0 {
		t.Errorf("the etcd leader killed under load: %d of %d requests failed; first: %s", len(failures), requests.Load(), failures[0])
	}
	t.Logf("%d requests while the etcd leader was killed", requests.Load())

	// No quorum.
	cluster.Stop(second)
	a := e.admin("POST", "/apis/q/clients", map[string]any{"name": "during"})
	if a.Status != 503 || a.str("error") != "temporarily_unavailable" || a.Header.Get("Retry-After") == "" {
		t.Errorf("admin write without quorum: %d %s (Retry-After %q), want 503 temporarily_unavailable with Retry-After", a.Status, a.Raw, a.Header.Get("Retry-After"))
	}
	for i, r := range envs {
		if a := r.do(mustReq("GET", r.URL+"/q/oauth2/jwks")); a.Status != 200 {
			t.Errorf("replica %d JWKS without quorum: %d %s, want it served from what it read", i, a.Status, a.Raw)
		}
		if a := r.form("POST", "/q/oauth2/token", cc, id, sec); a.Status != 200 {
			t.Errorf("replica %d client_credentials without quorum: %d %s, want a token from what it read", i, a.Status, a.Raw)
		}
		if a := r.form("POST", "/q/oauth2/introspect", url.Values{"token": {issued[i]}}, id, sec); a.Status != 503 || a.str("error") != "temporarily_unavailable" {
			t.Errorf("replica %d introspection without quorum: %d %s, want 503 temporarily_unavailable (a revocation cannot be checked)", i, a.Status, a.Raw)
		}
	}

	// Quorum back.
	for _, m := range []int{leader, second} {
		if err := cluster.Restart(m); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []int{leader, second} {
		if err := cluster.Ready(m); err != nil {
			t.Fatal(err)
		}
	}
	if !eventually(func() bool { return e.admin("POST", "/apis/q/clients", map[string]any{"name": "after"}).Status == 201 }) {
		t.Fatal("admin writes do not work 30 s after the quorum returned")
	}
	for i, r := range envs {
		if a := r.form("POST", "/q/oauth2/introspect", url.Values{"token": {issued[i]}}, id, sec); a.Body["active"] != true {
			t.Errorf("replica %d introspects a token issued before the outage as %d %s, want active", i, a.Status, a.Raw)
		}
	}
}
