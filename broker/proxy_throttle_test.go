package broker_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/oauth2broker/oauth2broker/broker"
)

// newEnvProxies is newEnv with a broker that trusts proxies.
func newEnvProxies(t *testing.T, proxies []string) *env {
	t.Helper()
	return newEnvConfig(t, func(c *broker.Config) { c.TrustedProxies = proxies })
}

// Behind a load balancer, an attacker's wrong passwords lock the
// attacker's address, not every user behind the same proxy; without the
// proxy trusted, the spoofed header changes nothing.
func TestLoginThrottleBehindProxy(t *testing.T) {
	for _, tt := range []struct {
		name    string
		proxies []string
		want    int // the user's login after the attack
	}{
		{"proxy trusted", []string{"127.0.0.1", "::1"}, http.StatusOK},
		{"proxy not trusted", nil, http.StatusTooManyRequests},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnvProxies(t, tt.proxies)
			id, sec := passwordSetup(e)
			login := func(from, pw string) answer {
				v := url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {pw}}
				req, _ := http.NewRequest("POST", e.URL+"/app/oauth2/token", strings.NewReader(v.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("X-Forwarded-For", from)
				req.SetBasicAuth(id, sec)
				return e.do(req)
			}
			if a := login("203.0.113.2", "wonderland"); a.Status != http.StatusOK {
				t.Fatalf("first login: got %d %s", a.Status, a.Raw)
			}
			for i := 0; i < 5; i++ {
				if a := login("203.0.113.66", "guess"); a.Status != http.StatusBadRequest {
					t.Fatalf("wrong password %d: got %d %s, want 400", i+1, a.Status, a.Raw)
				}
			}
			if a := login("203.0.113.66", "wonderland"); a.Status != http.StatusTooManyRequests || a.Header.Get("Retry-After") == "" {
				t.Errorf("the attacker's address after 5 failures: got %d %s, want 429 with Retry-After", a.Status, a.Raw)
			}
			if a := login("203.0.113.2", "wonderland"); a.Status != tt.want {
				t.Errorf("the user's login after the attack: got %d %s, want %d", a.Status, a.Raw, tt.want)
			}
		})
	}
}
