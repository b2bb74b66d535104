package broker_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/providers/providertest"
	"github.com/oauth2broker/oauth2broker/storage"
)

// receiver records webhook deliveries; it fails the first `failFirst`.
type receiver struct {
	mu        sync.Mutex
	failFirst int
	calls     int
	got       []map[string]any
	bodies    []string
	headers   []http.Header
	bad       []string
	secret    string
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.calls <= r.failFirst {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	if err := verifyStandardWebhook(r.secret, req.Header, body, time.Now()); err != nil {
		r.bad = append(r.bad, req.Header.Get("X-OAuth2Broker-Event")+": "+err.Error())
	}
	r.headers = append(r.headers, req.Header.Clone())
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	r.got = append(r.got, m)
	r.bodies = append(r.bodies, string(body))
}

func (r *receiver) types() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, m := range r.got {
		out = append(out, m["type"].(string))
	}
	return out
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestWebhooks(t *testing.T) {
	rcv := &receiver{failFirst: 1}
	hook := httptest.NewServer(rcv)
	defer hook.Close()
	e := newEnv(t)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "fed"})
	cl := e.mustAdmin(201, "POST", "/apis/fed/clients", map[string]any{"grant_types": []string{"connection"}, "webhook_url": hook.URL + "/events"})
	id, sec := cl.str("client_id"), cl.str("client_secret")
	rcv.mu.Lock()
	rcv.secret = cl.str("webhook_secret")
	rcv.mu.Unlock()
	if rcv.secret == "" || strings.Contains(e.mustAdmin(200, "GET", "/apis/fed/clients/"+id, nil).Raw, rcv.secret) {
		t.Fatalf("webhook_secret: want it shown at creation only")
	}
	f := providertest.NewFake(t)
	e.fakeProvider(f)
	e.connect2(id, sec, "u1", f)
	// The first delivery fails (503) and is retried.
	waitFor(t, "connection.created", func() bool { return len(rcv.types()) >= 1 })
	f.Update(func(b *providertest.Behavior) { b.RefreshFail = providertest.FailInvalidGrant })
	e.connToken(id, sec, url.Values{"client_user_identity": {"u1"}, "force_refresh": {"true"}})
	e.form("POST", "/fed/oauth2/revoke", url.Values{"client_user_identity": {"u1"}}, id, sec)
	waitFor(t, "three events", func() bool { return len(rcv.types()) >= 3 })
	want := []string{"connection.created", "connection.needs_reauth", "connection.revoked"}
	if got := rcv.types(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("events: got %v, want %v", got, want)
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if len(rcv.bad) > 0 {
		t.Errorf("deliveries with a bad signature: %v", rcv.bad)
	}
	for _, b := range rcv.bodies {
		if strings.Contains(b, "at-") || strings.Contains(b, "rt-") || strings.Contains(b, "access_token") {
			t.Errorf("a webhook body carries a token: %s", b)
		}
	}
	if c, _ := rcv.got[0]["connection"].(map[string]any); c["client_user_identity"] != "u1" || c["provider"] != "fake" {
		t.Errorf("payload: got %v", rcv.got[0])
	}
	if rcv.calls != 4 {
		t.Errorf("deliveries: got %d calls, want 4 (one retry)", rcv.calls)
	}
}

// An event stored by an earlier process is delivered after a restart.
func TestWebhookEventSurvivesRestart(t *testing.T) {
	rcv := &receiver{}
	hook := httptest.NewServer(rcv)
	defer hook.Close()
	e := newEnv(t)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "fed"})
	cl := e.mustAdmin(201, "POST", "/apis/fed/clients", map[string]any{"grant_types": []string{"connection"}, "webhook_url": hook.URL})
	rcv.mu.Lock()
	rcv.secret = cl.str("webhook_secret")
	rcv.mu.Unlock()
	// Written as a crashed broker would have left it: stored, not delivered.
	err := e.Store.CreateWebhookEvent(t.Context(), storage.WebhookEvent{
		API: "fed", ID: "0000000000001-aaaa", ClientID: cl.str("client_id"), Type: "connection.revoked",
		Payload: []byte(`{"id":"0000000000001-aaaa","type":"connection.revoked"}`), NextAt: time.Now(), CreatedAt: time.Now(),
	})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the stored event", func() bool { return len(rcv.types()) == 1 })
	waitFor(t, "the event kept as delivered", func() bool {
		left, _ := e.Store.ListWebhookEvents(t.Context(), "fed")
		return len(left) == 1 && left[0].Status == "delivered" && left[0].LastStatus == http.StatusOK
	})
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if len(rcv.bad) > 0 {
		t.Errorf("bad signature on %v", rcv.bad)
	}
}
