package broker_test

import (
	"net/url"
	"testing"

	"github.com/oauth2broker/oauth2broker/providers/providertest"
)

// A token answer without scope grants the requested scope (RFC 6749
// §5.1), here a template's default_scopes that the app did not name:
// the connection keeps it, the connection token answers it (also after
// a refresh answer without scope), and a step-up with
// include_granted_scopes asks for it besides the new scope.
func TestGrantedScopeIsTheRequestedOneWhenOmitted(t *testing.T) {
	e := newEnv(t)
	id, sec := fedSetup(e, nil)
	f := providertest.NewFake(t)
	f.Update(func(b *providertest.Behavior) { b.OmitScope = true })
	// Gitea's default_scopes are [read:user]; its endpoints here are the
	// fake's.
	e.mustAdmin(200, "PUT", "/apis/fed/providers/gitea", map[string]any{
		"template": "gitea", "vars": map[string]string{"host": "gitea.example.com"}, "auth_url": f.AuthURL, "token_url": f.TokenURL,
		"client_id": f.ClientID, "client_secret": f.ClientSecret, "allowed_scopes": []string{"write:repository"},
	})
	e.connect(id, sec, "u1", "gitea", func(u string) *url.URL { return f.Authorize(t, u) })
	want := url.Values{"client_user_identity": {"u1"}, "provider": {"gitea"}}
	if tok := e.connToken(id, sec, want); tok.Status != 200 || tok.str("scope") != "read:user" {
		t.Errorf("connection token: got %d %s, want scope read:user", tok.Status, tok.Raw)
	}
	want.Set("force_refresh", "true")
	if tok := e.connToken(id, sec, want); tok.Status != 200 || tok.str("scope") != "read:user" || f.RefreshCount() != 1 {
		t.Errorf("after a refresh without scope: got %d %s after %d refreshes, want scope read:user after 1", tok.Status, tok.Raw, f.RefreshCount())
	}
	a := e.form("POST", "/fed/oauth2/provider/authorize", url.Values{"client_user_identity": {"u1"}, "provider": {"gitea"},
		"scope": {"write:repository"}, "include_granted_scopes": {"true"}, "return_url": {returnURL}}, id, sec)
	if a.Status != 200 {
		t.Fatalf("step-up authorize: got %d %s", a.Status, a.Raw)
	}
	if got := mustURL(t, a.str("authorization_url")).Query().Get("scope"); got != "write:repository read:user" {
		t.Errorf("step-up scope: got %q, want %q", got, "write:repository read:user")
	}
}
