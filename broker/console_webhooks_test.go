package broker_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/broker"
)

// deliveries reads a client's webhook events through the admin API.
func deliveries(e *env, path string) []map[string]any {
	e.t.Helper()
	a := e.mustAdmin(200, "GET", path, nil)
	var out struct {
		Events []map[string]any `json:"webhook_events"`
	}
	if err := json.Unmarshal([]byte(a.Raw), &out); err != nil || strings.Contains(a.Raw, "payload") {
		e.t.Fatalf("GET %s: %v; want events without payload: %s", path, err, a.Raw)
	}
	return out.Events
}

// failingHook is a broker whose client crm of API fed has a webhook that
// answered 503 to the first attempt of one event, retried only in an
// hour; it returns the admin path of crm's webhook events.
func failingHook(t *testing.T) (*env, *receiver, string) {
	rcv := &receiver{failFirst: 1}
	hook := httptest.NewServer(rcv)
	t.Cleanup(hook.Close)
	e := newEnvConfig(t, func(c *broker.Config) { c.WebhookRetry = time.Hour })
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "fed"})
	cl := e.mustAdmin(201, "POST", "/apis/fed/clients", map[string]any{"client_id": "crm", "webhook_url": hook.URL})
	rcv.mu.Lock()
	rcv.secret = cl.str("webhook_secret")
	rcv.mu.Unlock()
	storeEvent(t, e, "crm", "0000000000001-aaaa", time.Now())
	path := "/apis/fed/clients/crm/webhook-events"
	waitFor(t, "the failed first attempt", func() bool {
		evs := deliveries(e, path)
		return len(evs) == 1 && evs[0]["attempts"] == 1.0
	})
	return e, rcv, path
}

// A webhook that fails first: the failure shows in the admin API and on
// the console's webhooks page, with its status code and next attempt an
// hour away; Retry now delivers it at once, and it then shows delivered.
func TestConsoleWebhookRetryNow(t *testing.T) {
	e, rcv, path := failingHook(t)
	ev := deliveries(e, path)[0]
	next, _ := time.Parse(time.RFC3339Nano, ev["next_attempt_at"].(string))
	if ev["status"] != "pending" || ev["last_status_code"] != 503.0 || time.Until(next) < 50*time.Minute {
		t.Fatalf("after a 503: got %v, want pending, 503, next attempt in about an hour", ev)
	}
	u := newConsoleUser(t, e)
	u.signIn(adminToken)
	page := u.do("GET", "/admin/console/apis/fed/webhooks", nil)
	retry := "/admin/console/apis/fed/webhooks/crm/events/0000000000001-aaaa/retry"
	for _, want := range []string{"HTTP 503", `badge d-pending`, `action="` + retry + `"`, "Retry now"} {
		if !strings.Contains(page.Body, want) {
			t.Fatalf("webhooks page: want %q in\n%s", want, page.Body)
		}
	}
	p := u.post(retry, nil)
	if p.Status != 200 || !strings.Contains(p.Body, "is due now") {
		t.Fatalf("retry now: got %d\n%.800s", p.Status, p.Body)
	}
	waitFor(t, "the retried delivery", func() bool { return len(rcv.types()) == 1 })
	waitFor(t, "the event listed as delivered", func() bool {
		evs := deliveries(e, path)
		return len(evs) == 1 && evs[0]["status"] == "delivered" && evs[0]["last_status_code"] == 200.0 && evs[0]["attempts"] == 2.0
	})
	page = u.do("GET", "/admin/console/apis/fed/webhooks?client=crm", nil)
	if !strings.Contains(page.Body, "badge d-delivered") || strings.Contains(page.Body, `action="`+retry+`"`) {
		t.Errorf("webhooks page after delivery: want delivered and no Retry now:\n%s", page.Body)
	}
	if again := u.post(retry, nil); again.Status != 409 || !strings.Contains(again.Body, "was delivered") {
		t.Errorf("retry of a delivered event: got %d, want 409 with the reason", again.Status)
	}
	if evs := deliveries(e, path+"?status=failed"); len(evs) != 0 {
		t.Errorf("status=failed: got %v, want none", evs)
	}
	e.mustAdmin(400, "GET", path+"?limit=0", nil)
	e.mustAdmin(404, "GET", "/apis/fed/clients/nobody/webhook-events", nil)
	e.mustAdmin(404, "POST", "/apis/fed/clients/nobody/webhook-events/0000000000001-aaaa/retry", nil)
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if len(rcv.bad) > 0 || rcv.calls != 2 {
		t.Errorf("deliveries: %d calls, bad signatures %v; want 2 calls, none bad", rcv.calls, rcv.bad)
	}
}
