package broker_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// BenchmarkClientCredentials measures the token endpoint's own cost for
// client_credentials (ES256), without the network: engine.ServeHTTP.
func BenchmarkClientCredentials(b *testing.B) {
	benchToken(b, url.Values{"grant_type": {"client_credentials"}}.Encode())
}

// BenchmarkIntrospect measures introspection of a live token.
func BenchmarkIntrospect(b *testing.B) {
	e, id, sec := benchEnvFor(b)
	tok := e.form("POST", "/b/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, id, sec).str("access_token")
	benchServe(b, e, "/b/oauth2/introspect", url.Values{"token": {tok}}.Encode(), id, sec)
}

func benchToken(b *testing.B, body string) {
	e, id, sec := benchEnvFor(b)
	benchServe(b, e, "/b/oauth2/token", body, id, sec)
}

func benchEnvFor(b *testing.B) (*env, string, string) {
	e := newEnvTB(b)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "b"})
	id, sec := e.client("b", map[string]any{"grant_types": []string{"client_credentials"}})
	return e, id, sec
}

func benchServe(b *testing.B, e *env, path, body, id, sec string) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(id, sec)
			w := httptest.NewRecorder()
			e.Srv.ServeHTTP(w, req)
			if w.Code != 200 {
				b.Fatalf("got %d %s", w.Code, w.Body)
			}
		}
	})
}
