package oauth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/providers/oauth"
	"github.com/oauth2broker/oauth2broker/providers/providertest"
)

// TestClassify drives Exchange and Refresh into every failure the Fake
// offers and checks the sentinel, and that the error text holds neither
// the upstream's error description nor any code, verifier, token or
// secret.
func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		// refresh: the failure is in Refresh (after a good Exchange),
		// else in Exchange.
		refresh  bool
		behavior providertest.Behavior
		// secret, verifier and timeout change the client's side.
		secret   string
		verifier string
		timeout  time.Duration
		ctxLimit time.Duration
		want     error
	}{
		{name: "exchange invalid_grant", behavior: providertest.Behavior{ExchangeFail: providertest.FailInvalidGrant}, want: providers.ErrInvalidGrant},
		{name: "exchange wrong verifier", verifier: "wrong-verifier-0123456789-0123456789-0123456789", want: providers.ErrInvalidGrant},
		{name: "exchange wrong client secret", secret: "not-the-secret", want: providers.ErrInvalidClient},
		{name: "exchange 500", behavior: providertest.Behavior{ExchangeFail: providertest.FailServerError}, want: providers.ErrUnavailable},
		{name: "exchange 503", behavior: providertest.Behavior{ExchangeFail: providertest.FailUnavailable}, want: providers.ErrUnavailable},
		{name: "exchange hang past the client timeout", behavior: providertest.Behavior{ExchangeFail: providertest.FailHang}, timeout: 300 * time.Millisecond, want: providers.ErrUnavailable},
		{name: "exchange hang past the context deadline", behavior: providertest.Behavior{ExchangeFail: providertest.FailHang}, ctxLimit: 300 * time.Millisecond, want: providers.ErrUnavailable},
		{name: "refresh invalid_grant", refresh: true, behavior: providertest.Behavior{RefreshFail: providertest.FailInvalidGrant}, want: providers.ErrInvalidGrant},
		{name: "refresh wrong client secret", refresh: true, secret: "not-the-secret", want: providers.ErrInvalidClient},
		{name: "refresh 500", refresh: true, behavior: providertest.Behavior{RefreshFail: providertest.FailServerError}, want: providers.ErrUnavailable},
		{name: "refresh 503", refresh: true, behavior: providertest.Behavior{RefreshFail: providertest.FailUnavailable}, want: providers.ErrUnavailable},
		{name: "refresh hang past the client timeout", refresh: true, behavior: providertest.Behavior{RefreshFail: providertest.FailHang}, timeout: 300 * time.Millisecond, want: providers.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := providertest.NewFake(t)
			cfg := fakeConfig(f, providers.AuthStyleHeader)
			good := newProvider(t, cfg)
			if tt.secret != "" {
				cfg.ClientSecret = tt.secret
			}
			if tt.timeout > 0 {
				cfg.HTTPClient = &http.Client{Timeout: tt.timeout}
			}
			p := newProvider(t, cfg)
			ctx := t.Context()
			if tt.ctxLimit > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.ctxLimit)
				defer cancel()
			}

			// Values that must not show in the error text.
			secrets := []string{f.ClientSecret, rfcVerifier}
			var err error
			if tt.refresh {
				ts := exchange(t, f, good)
				secrets = append(secrets, ts.AccessToken, ts.RefreshToken)
				f.SetBehavior(tt.behavior)
				_, err = p.Refresh(ctx, ts)
			} else {
				f.SetBehavior(tt.behavior)
				r := authRequest()
				c := code(t, f, p, r)
				secrets = append(secrets, c)
				if tt.verifier != "" {
					r.Verifier = tt.verifier
					secrets = append(secrets, tt.verifier)
				}
				start := time.Now()
				_, err = p.Exchange(ctx, c, r)
				if d := time.Since(start); d > 30*time.Second { // the fake hangs for ever
					t.Errorf("Exchange took %v, want it bounded by the timeout", d)
				}
			}
			checkSentinel(t, err, tt.want)
			if tt.secret != "" {
				secrets = append(secrets, tt.secret)
			}
			// The Fake's error descriptions stand for the answer body.
			secrets = append(secrets, "grant expired or revoked", "wrong secret", "does not match", "access_token")
			for _, s := range secrets {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q contains %q", err, s)
				}
			}
		})
	}
}

// leak is a string the upstream puts in its answers; no error may show it.
const leak = "LEAK-c0ffee"

// TestErrorsHoldNoBody answers every token and revocation request with a
// body full of the leak string and checks the sentinel and the error text.
func TestErrorsHoldNoBody(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		ctype      string
		body       string
		want       error // of Exchange and Refresh
		wantRevoke error
	}{
		{
			name: "400 invalid_grant", status: 400, ctype: "application/json",
			body: `{"error":"invalid_grant","error_description":"` + leak + `","refresh_token":"` + leak + `"}`,
			want: providers.ErrInvalidGrant, wantRevoke: providers.ErrInvalidGrant,
		},
		{
			name: "401 invalid_client", status: 401, ctype: "application/json",
			body: `{"error":"invalid_client","error_description":"client ` + leak + ` unknown"}`,
			want: providers.ErrInvalidClient, wantRevoke: providers.ErrInvalidClient,
		},
		{
			name: "200 form error", status: 200, ctype: "application/x-www-form-urlencoded",
			body: "error=invalid_grant&error_description=" + leak,
			want: providers.ErrInvalidGrant,
		},
		{
			name: "500 html", status: 500, ctype: "text/html",
			body: "<html><body>stack trace: token=" + leak + "</body></html>",
			want: providers.ErrUnavailable, wantRevoke: providers.ErrUnavailable,
		},
		{
			name: "503 json", status: 503, ctype: "application/json",
			body: `{"error":"temporarily_unavailable","error_description":"` + leak + `"}`,
			want: providers.ErrUnavailable, wantRevoke: providers.ErrUnavailable,
		},
		{
			name: "400 unknown error code", status: 400, ctype: "application/json",
			body: `{"error":"invalid_scope","error_description":"` + leak + `"}`,
			want: providers.ErrUpstream, wantRevoke: providers.ErrUpstream,
		},
		{
			name: "429 text", status: 429, ctype: "text/plain",
			body: "slow down " + leak,
			want: providers.ErrUnavailable, wantRevoke: providers.ErrUnavailable,
		},
		{
			name: "200 json without access_token", status: 200, ctype: "application/json",
			body: `{"token_type":"Bearer","refresh_token":"` + leak + `","id_token":"` + leak + `"}`,
			want: providers.ErrUpstream,
		},
		{
			name: "200 json garbage", status: 200, ctype: "application/json",
			body: `{"access_token":` + leak,
			want: providers.ErrUpstream,
		},
		{
			name: "200 mislabelled json without access_token", status: 200, ctype: "text/plain",
			body: `{"refresh_token":"` + leak + `","id_token":"` + leak + `"}`,
			want: providers.ErrUpstream,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", tt.ctype)
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			}))
			t.Cleanup(srv.Close)
			cfg := oauthConfigFor(srv.URL)
			p := newProvider(t, cfg)

			r := authRequest()
			_, err := p.Exchange(t.Context(), "code-"+leak, r)
			checkLeak(t, "Exchange", err, tt.want)
			ts := &providers.TokenSet{AccessToken: "at-" + leak, RefreshToken: "rt-" + leak}
			_, err = p.Refresh(t.Context(), ts)
			checkLeak(t, "Refresh", err, tt.want)
			if tt.status != http.StatusOK {
				err = p.Revoke(t.Context(), ts)
				checkLeak(t, "Revoke", err, tt.wantRevoke)
			}
		})
	}
}

// oauthConfigFor returns a Config whose endpoints are all on base.
func oauthConfigFor(base string) oauth.Config {
	return oauth.Config{
		Config: providers.Config{
			AuthURL: base + "/authorize", TokenURL: base + "/token", RevocationURL: base + "/revoke",
			AuthStyle: providers.AuthStyleHeader, ClientID: "client-1", ClientSecret: "secret-" + leak,
		},
		HTTPClient: &http.Client{Timeout: 5 * time.Second},
		Now:        func() time.Time { return testNow },
	}
}

func checkLeak(t *testing.T, op string, err, want error) {
	t.Helper()
	t.Run(op, func(t *testing.T) {
		checkSentinel(t, err, want)
		if err != nil && strings.Contains(err.Error(), "LEAK") {
			t.Errorf("%s error %q shows the answer body or a token", op, err)
		}
	})
}

// TestRetryAfter checks that a 429, or a 503 with Retry-After, becomes a
// *providers.RetryAfterError carrying the wait (seconds or an HTTP date
// read against the injected clock), still classified ErrUnavailable.
func TestRetryAfter(t *testing.T) {
	tests := []struct {
		name    string
		fail    providertest.Failure
		header  string
		wantOK  bool
		wantDur time.Duration
	}{
		{"429 with seconds", providertest.FailTooManyRequests, "120", true, 120 * time.Second},
		{"429 with an HTTP date", providertest.FailTooManyRequests, testNow.Add(90 * time.Second).Format(http.TimeFormat), true, 90 * time.Second},
		{"429 with a past date", providertest.FailTooManyRequests, testNow.Add(-time.Hour).Format(http.TimeFormat), true, 0},
		{"429 without Retry-After", providertest.FailTooManyRequests, "", true, 0},
		{"429 with garbage", providertest.FailTooManyRequests, "soon", true, 0},
		{"503 with seconds", providertest.FailUnavailable, "7", true, 7 * time.Second},
		{"500", providertest.FailServerError, "", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := providertest.NewFake(t)
			p := newProvider(t, fakeConfig(f, providers.AuthStyleHeader))
			ts := exchange(t, f, p)
			f.SetBehavior(providertest.Behavior{RefreshFail: tt.fail, RetryAfter: tt.header})
			_, err := p.Refresh(t.Context(), ts)
			checkSentinel(t, err, providers.ErrUnavailable)
			got, ok := providers.RetryAfter(err)
			if ok != tt.wantOK || got != tt.wantDur {
				t.Errorf("RetryAfter(%v) = %v, %v; want %v, %v", err, got, ok, tt.wantDur, tt.wantOK)
			}
		})
	}
}
