package broker_test

import (
	"net/url"
	"strings"
	"testing"
)

func TestMetrics(t *testing.T) {
	e := newEnv(t)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "m", "token_paths": []string{"/api/token"}})
	id, sec := e.client("m", map[string]any{})
	e.form("POST", "/m/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, id, sec)
	e.form("POST", "/api/token", url.Values{"grant_type": {"client_credentials"}}, id, sec)
	e.form("POST", "/m/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, id, "wrong")
	m := e.do(mustReq("GET", e.URL+"/metrics"))
	for _, want := range []string{
		`oauth2broker_tokens_issued_total{api="m",grant_type="client_credentials"} 2`,
		`oauth2broker_http_requests_total{method="POST",route="/:api/oauth2/token",status="200"} 1`,
		`oauth2broker_http_requests_total{method="POST",route="/:api/oauth2/token",status="401"} 1`,
		`oauth2broker_http_requests_total{method="POST",route="unmatched",status="200"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(m.Raw, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(m.Raw, id) {
		t.Errorf("metrics carry a client id in a label")
	}
}
