package oauth

import (
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/providers"
)

// FuzzTokenAnswer reads any token answer an upstream sends (its body is
// the upstream's) without panicking, and never turns a relative expiry
// into one in the past: a huge expires_in must not wrap around and make
// the broker refresh on every request. Seeds: RFC 6749 §5.1 and §5.2,
// Slack's nested answer, a form answer (GitHub's default), odd numbers.
func FuzzTokenAnswer(f *testing.F) {
	for _, s := range []string{
		`{"access_token":"a","token_type":"bearer","expires_in":3600,"refresh_token":"r","scope":"x y"}`,
		`{"error":"invalid_grant","error_description":"dead"}`,
		`{"ok":true,"authed_user":{"access_token":"u","expires_in":"43200"}}`,
		`access_token=a&token_type=bearer&scope=repo`,
		`{"access_token":"a","expires_in":1e400}`, `{"access_token":"a","expires_in":-5}`,
		`{"access_token":"a","expires_in":9223372036854775807}`, `{"scope":["a","b"]}`, `{`, ``,
	} {
		f.Add("application/json", s)
	}
	f.Fuzz(func(t *testing.T, contentType, body string) {
		now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
		a := parseAnswer(contentType, []byte(body))
		for _, mode := range []string{"", "seconds", "milliseconds", "unix", "rfc3339"} {
			p := &Provider{now: func() time.Time { return now }}
			p.cfg.Config.Quirks = providers.Quirks{Expiry: mode, Paths: map[string][]string{"expires_in": {"authed_user.expires_in", "expires_in"}}}
			ts := p.tokenSet(a)
			if (mode == "" || mode == "seconds" || mode == "milliseconds") && !ts.Expiry.IsZero() && !ts.Expiry.After(now) {
				t.Errorf("mode %q: expires_in %q gave expiry %v, not after now", mode, p.field(a, "expires_in", ""), ts.Expiry)
			}
		}
	})
}
