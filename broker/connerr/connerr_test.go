package connerr_test

import (
	"errors"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/broker/connerr"
	"github.com/oauth2broker/oauth2broker/broker/protocol"
)

// Each kind has its RFC 6749 answer, with the description, the
// connection_status and Retry-After it carries, and its cause for the log.
func TestAnswer(t *testing.T) {
	cause := errors.New("upstream said no")
	for _, c := range []struct {
		err    *connerr.Error
		code   string
		status int
	}{
		{connerr.New(connerr.Invalid, "d"), "invalid_request", 400},
		{&connerr.Error{Kind: connerr.NotFound, Description: "d", ConnectionStatus: "none"}, "invalid_grant", 400},
		{&connerr.Error{Kind: connerr.NeedsReauth, Description: "d", ConnectionStatus: "needs_reauth"}, "invalid_grant", 400},
		{connerr.New(connerr.GrantRefused, "d").With(cause), "invalid_grant", 400},
		{connerr.New(connerr.Denied, "d"), "access_denied", 403},
		{connerr.New(connerr.ScopeRefused, "d"), "invalid_scope", 400},
		{&connerr.Error{Kind: connerr.TooManyStates, Description: "d", RetryAfter: time.Minute}, "slow_down", 429},
		{&connerr.Error{Kind: connerr.Unavailable, Description: "d", RetryAfter: 2 * time.Second, Err: cause}, "temporarily_unavailable", 503},
		{&connerr.Error{Kind: connerr.Upstream, Description: "d", ConnectionStatus: "degraded"}, "upstream_error", 502},
		{&connerr.Error{Kind: connerr.ProviderAnswered, Description: "d", Code: "consent_required"}, "consent_required", 400},
	} {
		var e *protocol.Error
		if !errors.As(connerr.Answer(c.err), &e) || e.Code != c.code || e.Status != c.status || e.Description != "d" ||
			e.RetryAfter != c.err.RetryAfter || errors.Unwrap(e) != c.err.Err {
			t.Errorf("kind %d: got %+v, want %d %s", c.err.Kind, e, c.status, c.code)
			continue
		}
		if got, _ := e.Extra["connection_status"].(string); got != c.err.ConnectionStatus {
			t.Errorf("kind %d: connection_status %q, want %q", c.err.Kind, got, c.err.ConnectionStatus)
		}
	}
	other := errors.New("not a connection failure")
	if connerr.Answer(other) != other || connerr.Answer(nil) != nil {
		t.Error("Answer changed an error that holds no connection failure")
	}
}
