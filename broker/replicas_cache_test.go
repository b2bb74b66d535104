package broker_test

import (
	"net/url"
	"testing"
)

// Each replica answers clients from memory, and its watch makes it forget
// them: with the replicas' clock standing still (no TTL can run out), a
// secret rotated on one replica stops working on every replica, and a
// deleted client is refused everywhere, once the watch delivers the
// change. Without the watch's invalidation the other replicas would keep
// accepting both for ever.
func TestReplicasForgetCachedClients(t *testing.T) {
	endpoint := startEtcd(t)
	clk := newClock() // never moved
	envs, _ := startReplicas(t, replicaConfig{endpoints: []string{endpoint}, n: 3, now: clk.now})
	e := envs[0]
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "w"})
	id, sec := e.client("w", map[string]any{"grant_types": []string{"client_credentials"}})
	cc := url.Values{"grant_type": {"client_credentials"}}
	status := func(r *env, secret string) int { return r.form("POST", "/w/oauth2/token", cc, id, secret).Status }
	for i, r := range envs {
		if got := status(r, sec); got != 200 { // now in every replica's memory
			t.Fatalf("replica %d before the rotation: got %d, want 200", i, got)
		}
	}
	newSec := e.mustAdmin(200, "POST", "/apis/w/clients/"+id+"/secret", nil).str("client_secret")
	for i, r := range envs {
		if !eventually(func() bool { return status(r, sec) == 401 }) {
			t.Errorf("replica %d still accepts the rotated-out secret 30 s after the rotation", i)
		}
		if got := status(r, newSec); got != 200 {
			t.Errorf("replica %d with the new secret: got %d, want 200", i, got)
		}
	}
	e.mustAdmin(204, "DELETE", "/apis/w/clients/"+id, nil)
	for i, r := range envs {
		if !eventually(func() bool { return status(r, newSec) == 401 }) {
			t.Errorf("replica %d still accepts the deleted client 30 s after the delete", i)
		}
	}
}
