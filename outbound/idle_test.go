package outbound_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/oauth2broker/oauth2broker/outbound"
)

// A Transport keeps IdlePerHost connections to a host for the next
// calls (DefaultIdlePerHost when zero): two waves of 16 calls in flight
// at once dial 16 connections in all with room for 16, and 8 more for
// the second wave with the default.
func TestIdlePerHost(t *testing.T) {
	for _, tc := range []struct {
		idle, wantDials int
	}{{16, 16}, {0, 16 + 16 - outbound.DefaultIdlePerHost}} {
		const wave = 16
		var dials atomic.Int64
		var arrived sync.WaitGroup
		var release chan struct{}
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			arrived.Done()
			<-release
			_, _ = io.WriteString(w, "ok")
		}))
		srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				dials.Add(1)
			}
		}
		srv.Start()
		c := &http.Client{Transport: outbound.Policy{AllowHTTPLoopback: true, IdlePerHost: tc.idle}.Transport()}
		for range 2 {
			release = make(chan struct{})
			arrived.Add(wave)
			var done sync.WaitGroup
			for range wave {
				done.Add(1)
				go func() {
					defer done.Done()
					resp, err := c.Get(srv.URL)
					if err != nil {
						t.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}()
			}
			arrived.Wait() // all 16 in flight, each on its own connection
			close(release)
			done.Wait()
		}
		srv.Close()
		if got := dials.Load(); got != int64(tc.wantDials) {
			t.Errorf("IdlePerHost %d: got %d connections for two waves of %d, want %d", tc.idle, got, wave, tc.wantDials)
		}
	}
}
