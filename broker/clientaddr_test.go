package broker

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/broker/seal"
	"github.com/oauth2broker/oauth2broker/storage/bbolt"
)

// newProxiedServer is a Server trusting proxies, with one more route that
// answers gin's ClientIP and the client address the grants see.
func newProxiedServer(t *testing.T, proxies []string) *Server {
	t.Helper()
	db, err := bbolt.Open(bbolt.Config{Path: filepath.Join(t.TempDir(), "broker.db")})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := seal.GenerateKey()
	ring, _ := seal.NewKeyring(key)
	s, err := New(context.Background(), Config{Catalog: BuiltinCatalog(t), Store: db, Keyring: ring, PublicURL: "http://broker.test",
		TrustedProxies: proxies, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); db.Close() })
	s.engine.POST("/_addr", func(c *gin.Context) {
		p, err := protocol.ParseRequest(c.Request)
		if err != nil {
			fail(c, err)
			return
		}
		c.String(http.StatusOK, c.ClientIP()+" "+p.RemoteAddr)
	})
	return s
}

func TestClientAddressBehindProxies(t *testing.T) {
	s := newProxiedServer(t, []string{"10.0.0.0/8"})
	tests := []struct{ name, peer, xff, want string }{
		{"spoofed headers from an untrusted peer", "198.51.100.1:5000", "203.0.113.9", "198.51.100.1 198.51.100.1"},
		{"a trusted proxy", "10.1.1.1:5000", "203.0.113.9", "10.1.1.1 203.0.113.9"},
		{"a chain through trusted proxies", "10.1.1.1:5000", "6.6.6.6, 203.0.113.9, 10.2.2.2", "10.1.1.1 203.0.113.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/_addr", strings.NewReader(""))
			r.RemoteAddr = tt.peer
			r.Header.Set("X-Forwarded-For", tt.xff)
			r.Header.Set("X-Real-IP", "6.6.6.6")
			w := httptest.NewRecorder()
			s.ServeHTTP(w, r)
			// gin's ClientIP believes no header; the grants see the
			// address the trusted proxies report.
			if got := w.Body.String(); w.Code != http.StatusOK || got != tt.want {
				t.Errorf("got %d %q, want 200 %q (gin ClientIP, then the grants' address)", w.Code, got, tt.want)
			}
		})
	}
	if _, err := New(context.Background(), Config{Catalog: BuiltinCatalog(t), Store: s.store, Keyring: s.keyring, PublicURL: "http://x", TrustedProxies: []string{"proxy.example"}}); err == nil {
		t.Error("a trusted proxy that is not an address: got no error")
	}
}
