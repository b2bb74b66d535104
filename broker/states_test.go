package broker_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/providers/providertest"
)

// A state and a connect link are different kinds: the state an API
// client gets from authorize (whatever scope it asked for) is no connect
// link, and a connect link is no state for the callback.
func TestStatesAndConnectLinksAreDistinctKinds(t *testing.T) {
	e := newEnv(t)
	id, sec := fedSetup(e, nil)
	f := providertest.NewFake(t)
	e.fakeProvider(f)
	// The provider allows the scope, so that nothing but the kind stands
	// in the way.
	e.mustAdmin(200, "PUT", "/apis/fed/providers/fake", map[string]any{
		"type": "oauth2", "auth_url": f.AuthURL, "token_url": f.TokenURL, "client_id": f.ClientID, "client_secret": f.ClientSecret,
		"scopes": []string{"read", "connect-link"},
	})
	a := e.form("POST", "/fed/oauth2/provider/authorize", url.Values{"client_user_identity": {"victim"}, "scope": {"connect-link"}}, id, sec)
	if a.Status != 200 {
		t.Fatalf("authorize: got %d %s", a.Status, a.Raw)
	}
	if status, _ := newBrowser(t).enter(e.URL + "/fed/oauth2/connect?link=" + url.QueryEscape(a.str("state"))); status != 400 {
		t.Errorf("an authorize state opened as a connect link: got %d, want 400", status)
	}
	link := e.form("POST", "/fed/oauth2/connect/link", url.Values{"client_user_identity": {"alice"}}, id, sec)
	linkID := mustURL(t, link.str("url")).Query().Get("link")
	status, _, body := newBrowser(t).get(e.URL + "/fed/oauth2/provider/callback?code=x&state=" + url.QueryEscape(linkID))
	if status != 400 || !strings.Contains(body, "unknown, used or missing state") {
		t.Errorf("a connect link as the callback's state: got %d %s, want 400 unknown state", status, body)
	}
	if n := f.ExchangeCount(); n != 0 {
		t.Errorf("code exchanges: got %d, want 0", n)
	}
}

// Connect links are capped per client and identity: past the cap, 429
// with Retry-After until the first live one expires.
func TestConnectLinksCapped(t *testing.T) {
	clk := newClock()
	e := newEnvOpts(t, adminToken, clk.now)
	id, sec := fedSetup(e, nil)
	link := func(identity string) answer {
		return e.form("POST", "/fed/oauth2/connect/link", url.Values{"client_user_identity": {identity}}, id, sec)
	}
	for i := range 10 {
		if a := link("alice"); a.Status != 200 {
			t.Fatalf("link %d: got %d %s", i, a.Status, a.Raw)
		}
		clk.add(time.Second)
	}
	a := link("alice")
	if a.Status != 429 || a.Header.Get("Retry-After") != "590" {
		t.Errorf("link past the cap: got %d Retry-After %q %s, want 429 Retry-After 590", a.Status, a.Header.Get("Retry-After"), a.Raw)
	}
	if a := link("bob"); a.Status != 200 {
		t.Errorf("another identity: got %d", a.Status)
	}
	clk.add(590 * time.Second)
	if a := link("alice"); a.Status != 200 {
		t.Errorf("once the first link expired: got %d %s", a.Status, a.Raw)
	}
}
