package proxy_test

import (
	"io"
	"net/http"
	"testing"
)

// BenchmarkProxy compares a direct call to the upstream with the same call
// through the proxy (cached token), in the same run: the difference is
// the proxy's added latency.
func BenchmarkProxy(b *testing.B) {
	e := newEnv(b, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, `{"ok":true}`) })
	call := func(b *testing.B, req func() *http.Request) {
		for b.Loop() {
			resp, err := http.DefaultClient.Do(req())
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	}
	b.Run("direct", func(b *testing.B) {
		call(b, func() *http.Request {
			r, _ := http.NewRequest("GET", e.Upstream.URL+"/v1/x", nil)
			r.Header.Set("Authorization", "Bearer at-1")
			return r
		})
	})
	b.Run("proxy", func(b *testing.B) {
		call(b, func() *http.Request { return e.proxyReq("GET", "/x", nil) })
	})
}
