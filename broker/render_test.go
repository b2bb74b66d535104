package broker

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/storage"
)

// The error renderer logs "request failed" for an unexpected failure (a
// 5xx with a cause, the store's unavailability included), and not for a
// deliberate answer without one (the password hashing gate's 503).
func TestRenderErrorsLogsOnlyCauses(t *testing.T) {
	gin.SetMode(gin.TestMode)
	for _, tc := range []struct {
		name    string
		err     error
		status  int
		logged  bool
		errCode string
	}{
		{"cause-less 503", protocol.ErrTemporarilyUnavailable.WithDescription("too many password logins are waiting; retry shortly").WithRetryAfter(time.Second),
			503, false, "temporarily_unavailable"},
		{"cause-less 502", protocol.ErrUpstreamError.WithDescription("the provider's answer could not be used"), 502, false, "upstream_error"},
		{"500 with a cause", errors.New("broker: something broke"), 500, true, "server_error"},
		{"503 with a cause", protocol.ErrTemporarilyUnavailable.WithCause(errors.New("broker: queue closed")), 503, true, "temporarily_unavailable"},
		{"store unavailable", fmt.Errorf("bbolt: write: %w", storage.ErrUnavailable), 503, true, "temporarily_unavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs strings.Builder
			log := slog.New(slog.NewTextHandler(&logs, nil))
			s := &Server{log: log, ready: &readiness{now: time.Now, log: log}}
			r := gin.New()
			r.Use(s.renderErrors)
			r.GET("/x", func(c *gin.Context) { fail(c, tc.err) })
			w := httptest.NewRecorder()
			r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/x", nil))
			if w.Code != tc.status || !strings.Contains(w.Body.String(), `"error":"`+tc.errCode+`"`) {
				t.Fatalf("got %d %s, want %d %s", w.Code, w.Body, tc.status, tc.errCode)
			}
			if got := strings.Contains(logs.String(), "request failed"); got != tc.logged {
				t.Errorf("logged %q; want a \"request failed\" line: %v", logs.String(), tc.logged)
			}
		})
	}
}
