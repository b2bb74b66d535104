package broker_test

import (
	"context"
	"strings"
	"testing"

	"github.com/oauth2broker/oauth2broker/broker/admin"
	"github.com/oauth2broker/oauth2broker/storage"
)

// A client id never equals a username of the same API, so a token's sub
// names one principal (RFC 9068 §6): the admin API and declarations
// refuse the second of the two, in either order, with 409.
func TestClientIDsAndUsernamesNeverCollide(t *testing.T) {
	e := newEnv(t)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "n"})
	e.mustAdmin(201, "POST", "/apis/n/users", map[string]any{"username": "svc", "password": "pw-123456"})
	if a := e.admin("POST", "/apis/n/clients", map[string]any{"client_id": "svc"}); a.Status != 409 || !strings.Contains(a.str("error_description"), "RFC 9068") {
		t.Errorf("client with a user's name: got %d %s, want 409 explaining why", a.Status, a.Raw)
	}
	e.client("n", map[string]any{"client_id": "machine"})
	if a := e.admin("POST", "/apis/n/users", map[string]any{"username": "machine", "password": "pw-123456"}); a.Status != 409 {
		t.Errorf("user with a client's id: got %d %s, want 409", a.Status, a.Raw)
	}
	// Other APIs are other namespaces.
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "other"})
	e.client("other", map[string]any{"client_id": "svc"})
	// A duplicate stays "already exists".
	if a := e.admin("POST", "/apis/n/users", map[string]any{"username": "svc", "password": "pw-123456"}); a.Status != 409 || !strings.Contains(a.Raw, "already exists") {
		t.Errorf("duplicate user: got %d %s, want 409 already exists", a.Status, a.Raw)
	}
	decl := admin.Declaration{APIs: []admin.APISpec{{
		Name:    "d",
		Clients: []admin.DeclaredClient{{ClientSpec: admin.ClientSpec{ID: "ops"}, Secret: strings.Repeat("s", 32)}},
		Users:   []admin.UserSpec{{Username: "ops", Password: "pw-123456"}},
	}}}
	if err := e.Srv.Apply(context.Background(), decl); err == nil || !strings.Contains(err.Error(), "RFC 9068") {
		t.Errorf("declaration with a client id equal to a username: got %v, want an error", err)
	}
}

// The check guards creation only: a declared client that already exists
// beside a user of the same name (data from before the check) is updated
// at the next start like any other, as a declared existing user is.
func TestDeclaredExistingClientBesideALegacyUser(t *testing.T) {
	e := newEnv(t)
	decl := admin.Declaration{APIs: []admin.APISpec{{
		Name:    "d",
		Clients: []admin.DeclaredClient{{ClientSpec: admin.ClientSpec{ID: "ops"}, Secret: strings.Repeat("s", 32)}},
	}}}
	if err := e.Srv.Apply(context.Background(), decl); err != nil {
		t.Fatal(err)
	}
	if err := e.Store.CreateUser(context.Background(), storage.User{API: "d", Username: "ops", PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	if err := e.Srv.Apply(context.Background(), decl); err != nil {
		t.Errorf("re-applying a declaration whose client exists beside a legacy user of that name: got %v, want nil", err)
	}
}
