package broker_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/broker/admin"
	"github.com/oauth2broker/oauth2broker/storage"
)

// verifyStandardWebhook checks a delivery as a Standard Webhooks receiver
// does (standardwebhooks.com; written from the specification, not from
// the broker's code): the three headers are required, the timestamp is
// within five minutes of now, the key is the base64 after "whsec_", and
// one of the space-separated "v1,<base64>" signatures is the HMAC-SHA256
// of "<id>.<timestamp>.<body>".
func verifyStandardWebhook(secret string, h http.Header, body []byte, now time.Time) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return errors.New("missing webhook-id, webhook-timestamp or webhook-signature")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("bad timestamp %q", ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("timestamp %s is %v from now", ts, d)
	}
	rest, ok := strings.CutPrefix(secret, "whsec_")
	if !ok {
		return errors.New("the secret is not whsec_<base64>")
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return fmt.Errorf("secret: %v", err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "." + string(body)))
	want := mac.Sum(nil)
	for _, part := range strings.Split(sigs, " ") {
		version, sig, _ := strings.Cut(part, ",")
		got, err := base64.StdEncoding.DecodeString(sig)
		if version == "v1" && err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("no signature matches")
}

// delivery is one webhook request as received.
type delivery struct {
	header http.Header
	body   []byte
}

// hookSink records deliveries without judging them.
type hookSink struct {
	mu  sync.Mutex
	got []delivery
}

func (h *hookSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.got = append(h.got, delivery{header: r.Header.Clone(), body: b})
}

func (h *hookSink) n() int { h.mu.Lock(); defer h.mu.Unlock(); return len(h.got) }

func (h *hookSink) last() delivery { h.mu.Lock(); defer h.mu.Unlock(); return h.got[len(h.got)-1] }

// storeEvent stores a due event for the client, as a connection event
// would.
func storeEvent(t *testing.T, e *env, clientID, id string, now time.Time) {
	t.Helper()
	err := e.Store.CreateWebhookEvent(t.Context(), storage.WebhookEvent{
		API: "fed", ID: id, ClientID: clientID, Type: "connection.created",
		Payload: []byte(`{"id":"` + id + `","type":"connection.created"}`), NextAt: now, CreatedAt: now,
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A webhook secret is rotated without deleting the client: during the
// grace period each delivery carries a signature by the old secret and
// one by the new, so a receiver holding either verifies it; afterwards
// only the new one signs.
func TestWebhookSecretRotation(t *testing.T) {
	sink := &hookSink{}
	hook := httptest.NewServer(sink)
	defer hook.Close()
	clk := &clock{t: time.Now()}
	e := newEnvOpts(t, adminToken, clk.now)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "fed"})
	cl := e.mustAdmin(201, "POST", "/apis/fed/clients", map[string]any{"grant_types": []string{"connection"}, "webhook_url": hook.URL})
	id, oldSecret := cl.str("client_id"), cl.str("webhook_secret")

	rot := e.mustAdmin(200, "POST", "/apis/fed/clients/"+id+"/webhook-secret", map[string]any{"grace": "1h"})
	newSecret := rot.str("webhook_secret")
	if newSecret == "" || newSecret == oldSecret || !strings.HasPrefix(newSecret, "whsec_") {
		t.Fatalf("rotated webhook_secret: got %q, want a new whsec_ secret", newSecret)
	}
	if until := rot.str("previous_webhook_secret_until"); until != clk.now().UTC().Add(time.Hour).Format(time.RFC3339Nano) {
		t.Errorf("previous_webhook_secret_until: got %q, want now + 1h", until)
	}
	if got := e.mustAdmin(200, "GET", "/apis/fed/clients/"+id, nil).Raw; strings.Contains(got, newSecret) || strings.Contains(got, oldSecret) {
		t.Errorf("GET client shows a webhook secret: %s", got)
	}

	storeEvent(t, e, id, "0000000000001-aaaa", clk.now())
	waitFor(t, "the delivery in the grace period", func() bool { return sink.n() == 1 })
	d := sink.last()
	for name, sec := range map[string]string{"old": oldSecret, "new": newSecret} {
		if err := verifyStandardWebhook(sec, d.header, d.body, clk.now()); err != nil {
			t.Errorf("in the grace period, the %s secret: %v", name, err)
		}
	}
	if n := len(strings.Fields(d.header.Get("webhook-signature"))); n != 2 {
		t.Errorf("signatures in the grace period: got %d, want 2", n)
	}

	clk.add(time.Hour + time.Second)
	storeEvent(t, e, id, "0000000000002-bbbb", clk.now())
	waitFor(t, "the delivery after the grace period", func() bool { return sink.n() == 2 })
	d = sink.last()
	if err := verifyStandardWebhook(newSecret, d.header, d.body, clk.now()); err != nil {
		t.Errorf("after the grace period, the new secret: %v", err)
	}
	if err := verifyStandardWebhook(oldSecret, d.header, d.body, clk.now()); err == nil {
		t.Error("after the grace period, the old secret still verifies")
	}
	if d.header.Get("webhook-id") != "0000000000002-bbbb" {
		t.Errorf("webhook-id: got %q, want the event id", d.header.Get("webhook-id"))
	}
}

// The signature covers the delivery id: a body and timestamp replayed
// under another id do not verify.
func TestWebhookSignatureCoversID(t *testing.T) {
	sink := &hookSink{}
	hook := httptest.NewServer(sink)
	defer hook.Close()
	e := newEnv(t)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "fed"})
	cl := e.mustAdmin(201, "POST", "/apis/fed/clients", map[string]any{"grant_types": []string{"connection"}, "webhook_url": hook.URL})
	storeEvent(t, e, cl.str("client_id"), "0000000000001-aaaa", time.Now())
	waitFor(t, "the delivery", func() bool { return sink.n() == 1 })
	d := sink.last()
	if err := verifyStandardWebhook(cl.str("webhook_secret"), d.header, d.body, time.Now()); err != nil {
		t.Fatalf("delivery: %v", err)
	}
	d.header.Set("webhook-id", "0000000000001-other")
	if err := verifyStandardWebhook(cl.str("webhook_secret"), d.header, d.body, time.Now()); err == nil {
		t.Error("the signature verifies under another webhook-id")
	}
}

func TestWebhookSecretRotationErrors(t *testing.T) {
	e := newEnv(t)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "fed"})
	plain := e.mustAdmin(201, "POST", "/apis/fed/clients", map[string]any{"grant_types": []string{"connection"}})
	hooked := e.mustAdmin(201, "POST", "/apis/fed/clients", map[string]any{"grant_types": []string{"connection"}, "webhook_url": "http://127.0.0.1:9/h"})
	e.mustAdmin(400, "POST", "/apis/fed/clients/"+plain.str("client_id")+"/webhook-secret", nil)
	e.mustAdmin(404, "POST", "/apis/fed/clients/nobody/webhook-secret", nil)
	e.mustAdmin(400, "POST", "/apis/fed/clients/"+hooked.str("client_id")+"/webhook-secret", map[string]any{"grace": "-1s"})
	e.mustAdmin(400, "POST", "/apis/fed/clients/"+hooked.str("client_id")+"/webhook-secret", map[string]any{"grace": "721h"})
	// Without a body: the default grace period.
	rot := e.mustAdmin(200, "POST", "/apis/fed/clients/"+hooked.str("client_id")+"/webhook-secret", nil)
	if rot.str("webhook_secret") == "" || rot.str("previous_webhook_secret_until") == "" {
		t.Errorf("rotation without a body: got %s", rot.Raw)
	}
	// grace 0s drops the old secret at once.
	rot = e.mustAdmin(200, "POST", "/apis/fed/clients/"+hooked.str("client_id")+"/webhook-secret", map[string]any{"grace": "0s"})
	if rot.str("previous_webhook_secret_until") != "" {
		t.Errorf("rotation with grace 0s: got %s", rot.Raw)
	}
}

// Applying a declaration again (every start) keeps a declared client's
// webhook secrets: they are not part of the declaration.
func TestDeclaredClientKeepsWebhookSecret(t *testing.T) {
	e := newEnv(t)
	decl := admin.Declaration{APIs: []admin.APISpec{{Name: "fed", Clients: []admin.DeclaredClient{{
		Secret:     strings.Repeat("s", 40),
		ClientSpec: admin.ClientSpec{ID: "app", GrantTypes: []string{"connection"}, WebhookURL: "https://app.example/hook"},
	}}}}}
	if err := e.Srv.Apply(t.Context(), decl); err != nil {
		t.Fatal(err)
	}
	e.mustAdmin(200, "POST", "/apis/fed/clients/app/webhook-secret", map[string]any{"grace": "1h"})
	before, err := e.Store.GetClient(t.Context(), "fed", "app")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Srv.Apply(t.Context(), decl); err != nil {
		t.Fatal(err)
	}
	after, err := e.Store.GetClient(t.Context(), "fed", "app")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(after.SealedWebhookSecret, before.SealedWebhookSecret) || len(after.SealedWebhookSecret) == 0 ||
		!bytes.Equal(after.SealedOldWebhookSecret, before.SealedOldWebhookSecret) || !after.OldWebhookSecretUntil.Equal(before.OldWebhookSecretUntil) {
		t.Error("applying the declaration again changed or dropped the webhook secrets")
	}
}

// A secret made before Standard Webhooks (no whsec_ prefix) keeps the
// former X-OAuth2Broker-Signature header beside the new ones, so that
// receivers set up then keep working until the secret is rotated.
func TestLegacyWebhookSecretKeepsOldHeader(t *testing.T) {
	sink := &hookSink{}
	hook := httptest.NewServer(sink)
	defer hook.Close()
	e := newEnv(t)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "fed"})
	id := e.mustAdmin(201, "POST", "/apis/fed/clients", map[string]any{"grant_types": []string{"connection"}, "webhook_url": hook.URL}).str("client_id")
	const legacy = "Xq3legacySecretOf32CharactersAbc"
	sealed, err := e.Ring.Seal([]byte(legacy), []byte("webhook-secret\x00fed\x00"+id))
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Store.UpdateClient(t.Context(), "fed", id, func(c storage.Client) (storage.Client, error) {
		c.SealedWebhookSecret = sealed
		return c, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	storeEvent(t, e, id, "0000000000001-aaaa", time.Now())
	waitFor(t, "the delivery", func() bool { return sink.n() == 1 })
	d := sink.last()
	var ts, sig string
	for _, part := range strings.Split(d.header.Get("X-OAuth2Broker-Signature"), ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	mac := hmac.New(sha256.New, []byte(legacy))
	mac.Write([]byte(ts + "." + string(d.body)))
	if sig != hex.EncodeToString(mac.Sum(nil)) {
		t.Errorf("X-OAuth2Broker-Signature %q does not verify with the legacy secret", d.header.Get("X-OAuth2Broker-Signature"))
	}
	// The Standard Webhooks signature is keyed with the secret's bytes.
	std := "whsec_" + base64.StdEncoding.EncodeToString([]byte(legacy))
	if err := verifyStandardWebhook(std, d.header, d.body, time.Now()); err != nil {
		t.Errorf("webhook-signature with the legacy secret's bytes: %v", err)
	}
}
