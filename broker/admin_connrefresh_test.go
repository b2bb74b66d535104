package broker_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/oauth2broker/oauth2broker/providers/providertest"
)

// POST /admin/v1/apis/{api}/connections/{id}/refresh refreshes a
// connection upstream now and answers it without its tokens; a refresh
// the provider refuses marks it needs_reauth and says so; an unknown
// connection is a 404. The console's Refresh now button is this call.
func TestAdminRefreshConnection(t *testing.T) {
	e := newEnv(t)
	_, _, f, connID := fedConnected(t, e)

	a := e.mustAdmin(200, "POST", "/apis/fed/connections/"+connID+"/refresh", nil)
	if f.RefreshCount() != 1 || a.str("status") != "active" || a.Body["refreshed_at"] == nil {
		t.Errorf("refresh: got %s with %d upstream refreshes, want the active connection refreshed once", a.Raw, f.RefreshCount())
	}
	if strings.Contains(a.Raw, "token\"") || strings.Contains(a.Raw, "access") {
		t.Errorf("the answer shows a token: %s", a.Raw)
	}
	audit := e.mustAdmin(200, "GET", "/apis/fed/audit", nil)
	if !strings.Contains(audit.Raw, `"connection.refreshed"`) {
		t.Errorf("audit lacks connection.refreshed: %s", audit.Raw)
	}

	u := newConsoleUser(t, e)
	u.signIn(adminToken)
	if p := u.do("GET", "/admin/console/apis/fed/connections", nil); !strings.Contains(p.Body, "Refresh now") {
		t.Fatalf("the connections page has no Refresh now button:\n%.400s", p.Body)
	}
	if p := u.post("/admin/console/apis/fed/connections/"+connID+"/refresh", nil); p.Status != 200 || f.RefreshCount() != 2 {
		t.Errorf("Refresh now in the console: got %d with %d upstream refreshes, want 200 and 2", p.Status, f.RefreshCount())
	}

	f.Update(func(b *providertest.Behavior) { b.RefreshFail = providertest.FailInvalidGrant })
	refused := e.admin("POST", "/apis/fed/connections/"+connID+"/refresh", nil)
	if refused.Status != 400 || refused.str("error") != "invalid_grant" || refused.str("connection_status") != "needs_reauth" {
		t.Errorf("a refused refresh: got %d %s, want 400 invalid_grant with connection_status needs_reauth", refused.Status, refused.Raw)
	}
	after := e.mustAdmin(200, "GET", "/apis/fed/connections", nil)
	if !strings.Contains(after.Raw, `"needs_reauth"`) {
		t.Errorf("after invalid_grant: %s, want needs_reauth", after.Raw)
	}
	if missing := e.admin("POST", "/apis/fed/connections/nope/refresh", nil); missing.Status != 404 {
		t.Errorf("an unknown connection: got %d, want 404", missing.Status)
	}
}

// fedConnected sets up API fed with a client allowed connections and the
// fake provider "fake", connects alice, and answers the client's
// credentials, the fake and the connection's id.
func fedConnected(t *testing.T, e *env) (id, sec string, f *providertest.Fake, connID string) {
	t.Helper()
	id, sec = fedSetup(e, nil)
	f = providertest.NewFake(t)
	e.fakeProvider(f)
	e.connect(id, sec, "alice", "fake", func(u string) *url.URL { return f.Authorize(t, u) })
	list := e.mustAdmin(200, "GET", "/apis/fed/connections", nil)
	conns, _ := list.Body["connections"].([]any)
	if len(conns) != 1 {
		t.Fatalf("connections: %s", list.Raw)
	}
	connID, _ = conns[0].(map[string]any)["id"].(string)
	return id, sec, f, connID
}
