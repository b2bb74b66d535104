package providertest_test

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2broker/oauth2broker/providers/providertest"
)

func fakeConfig(f *providertest.Fake) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     f.ClientID,
		ClientSecret: f.ClientSecret,
		Endpoint:     f.Endpoint(),
		RedirectURL:  callbackURL,
		Scopes:       []string{"read", "write"},
	}
}

// fakeToken runs the authorization-code flow with PKCE against f.
func fakeToken(t *testing.T, f *providertest.Fake) *oauth2.Token {
	t.Helper()
	conf := fakeConfig(f)
	verifier := oauth2.GenerateVerifier()
	code := f.Authorize(t, conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier))).Query().Get("code")
	tok, err := conf.Exchange(clientContext(t, 5*time.Second), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return tok
}

func TestFakeExchangeRecordsRequestsAndChecksPKCE(t *testing.T) {
	right := oauth2.GenerateVerifier()
	tests := []struct {
		name     string
		verifier string // "" sends none
		wantErr  string // "" for success
	}{
		{"right verifier", right, ""},
		{"wrong verifier", oauth2.GenerateVerifier(), "invalid_grant"},
		{"no verifier", "", "invalid_grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := providertest.NewFake(t)
			conf := fakeConfig(f)
			authURL := conf.AuthCodeURL("state-9", oauth2.S256ChallengeOption(right),
				oauth2.SetAuthURLParam("nonce", "n-9"), oauth2.AccessTypeOffline)
			cb := f.Authorize(t, authURL)
			if got := cb.Query().Get("state"); got != "state-9" {
				t.Errorf("got state %q, want state-9", got)
			}
			var opts []oauth2.AuthCodeOption
			if tt.verifier != "" {
				opts = append(opts, oauth2.VerifierOption(tt.verifier))
			}
			tok, err := conf.Exchange(clientContext(t, 5*time.Second), cb.Query().Get("code"), opts...)
			if tt.wantErr != "" {
				if re := retrieveError(t, err); re.ErrorCode != tt.wantErr || re.Response.StatusCode != http.StatusBadRequest {
					t.Errorf("got %q status %d, want %q status 400", re.ErrorCode, re.Response.StatusCode, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			if tok.AccessToken != "at-1" || tok.RefreshToken != "rt-1" {
				t.Errorf("got tokens %q %q, want at-1 rt-1", tok.AccessToken, tok.RefreshToken)
			}
			reqs := f.Requests()
			if len(reqs) != 2 || reqs[0].Endpoint != providertest.EndpointAuthorize || reqs[1].Endpoint != providertest.EndpointToken {
				t.Fatalf("got requests %+v, want authorize then token", reqs)
			}
			q := reqs[0].Query
			for k, want := range map[string]string{
				"response_type": "code", "client_id": f.ClientID, "redirect_uri": callbackURL,
				"scope": "read write", "state": "state-9", "nonce": "n-9", "access_type": "offline",
				"code_challenge_method": "S256", "code_challenge": oauth2.S256ChallengeFromVerifier(right),
			} {
				if got := q.Get(k); got != want {
					t.Errorf("authorize %s: got %q, want %q", k, got, want)
				}
			}
			form := reqs[1].Form
			for k, want := range map[string]string{
				"grant_type": "authorization_code", "code": "code-1", "redirect_uri": callbackURL, "code_verifier": right,
			} {
				if got := form.Get(k); got != want {
					t.Errorf("token %s: got %q, want %q", k, got, want)
				}
			}
			if reqs[1].BasicUser != f.ClientID || reqs[1].BasicPassword != f.ClientSecret || form.Has("client_secret") {
				t.Errorf("got Basic %q/%q, form %v; want client_secret_basic only", reqs[1].BasicUser, reqs[1].BasicPassword, form)
			}
			if got := f.ExchangeCount(); got != 1 {
				t.Errorf("got ExchangeCount %d, want 1", got)
			}
		})
	}
}

func TestFakeTokenAnswerFormats(t *testing.T) {
	tests := []struct {
		name       string
		behavior   providertest.Behavior
		wantErr    string // substring of the x/oauth2 error
		wantExpiry bool
	}{
		{"json", providertest.Behavior{}, "", true},
		{"form", providertest.Behavior{Format: providertest.FormatForm}, "", true},
		{"json as text/plain", providertest.Behavior{ContentType: "text/plain"}, "missing access_token", false},
		{"no expires_in", providertest.Behavior{OmitExpiresIn: true}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := providertest.NewFake(t)
			f.SetBehavior(tt.behavior)
			conf := fakeConfig(f)
			code := f.Authorize(t, conf.AuthCodeURL("s")).Query().Get("code")
			tok, err := conf.Exchange(clientContext(t, 5*time.Second), code)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			if tok.AccessToken != "at-1" || tok.RefreshToken != "rt-1" {
				t.Errorf("got tokens %q %q, want at-1 rt-1", tok.AccessToken, tok.RefreshToken)
			}
			if got := !tok.Expiry.IsZero(); got != tt.wantExpiry {
				t.Errorf("got expiry %v, want set=%v", tok.Expiry, tt.wantExpiry)
			}
		})
	}
}

func TestFakeRefreshTokenModes(t *testing.T) {
	tests := []struct {
		mode        providertest.RefreshTokenMode
		wantRefresh string // refresh token x/oauth2 holds afterwards
		oldWorks    bool
	}{
		{providertest.RefreshOmit, "rt-1", true},
		{providertest.RefreshEcho, "rt-1", true},
		{providertest.RefreshRotate, "rt-2", false},
	}
	for _, tt := range tests {
		t.Run(tt.wantRefresh, func(t *testing.T) {
			f := providertest.NewFake(t)
			f.Update(func(b *providertest.Behavior) { b.RefreshTokens = tt.mode })
			tok := fakeToken(t, f)
			conf, ctx := fakeConfig(f), clientContext(t, 5*time.Second)
			tok2, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
			if err != nil {
				t.Fatalf("refresh: %v", err)
			}
			if tok2.AccessToken != "at-2" || tok2.RefreshToken != tt.wantRefresh {
				t.Errorf("got tokens %q %q, want at-2 %s", tok2.AccessToken, tok2.RefreshToken, tt.wantRefresh)
			}
			_, err = conf.TokenSource(ctx, &oauth2.Token{RefreshToken: "rt-1"}).Token()
			if got := err == nil; got != tt.oldWorks {
				t.Errorf("refresh with rt-1 again: got error %v, want success=%v", err, tt.oldWorks)
			}
			if got := f.RefreshCount(); got != 2 {
				t.Errorf("got RefreshCount %d, want 2", got)
			}
		})
	}
}

func TestFakeRefreshFailures(t *testing.T) {
	tests := []struct {
		name       string
		behavior   providertest.Behavior
		timeout    time.Duration // client timeout
		wantStatus int           // 0: success; -1: client timeout
		wantCode   string
	}{
		{"invalid_grant", providertest.Behavior{RefreshFail: providertest.FailInvalidGrant}, 5 * time.Second, 400, "invalid_grant"},
		{"500", providertest.Behavior{RefreshFail: providertest.FailServerError}, 5 * time.Second, 500, "server_error"},
		{"503", providertest.Behavior{RefreshFail: providertest.FailUnavailable}, 5 * time.Second, 503, "temporarily_unavailable"},
		{"429", providertest.Behavior{RefreshFail: providertest.FailTooManyRequests, RetryAfter: "120"}, 5 * time.Second, 429, "too_many_requests"},
		{"hang forever", providertest.Behavior{RefreshFail: providertest.FailHang}, 200 * time.Millisecond, -1, ""},
		{"hang then answer", providertest.Behavior{RefreshFail: providertest.FailHang, Hang: 100 * time.Millisecond}, 5 * time.Second, 0, ""},
		{"delay", providertest.Behavior{Delay: 100 * time.Millisecond}, 5 * time.Second, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := providertest.NewFake(t)
			tok := fakeToken(t, f)
			f.SetBehavior(tt.behavior)
			start := time.Now()
			_, err := fakeConfig(f).TokenSource(clientContext(t, tt.timeout), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
			took := time.Since(start)
			switch {
			case tt.wantStatus == 0:
				if err != nil || took < 100*time.Millisecond {
					t.Errorf("got error %v after %v, want success after 100ms", err, took)
				}
			case tt.wantStatus == -1:
				var ne net.Error
				if !errors.As(err, &ne) || !ne.Timeout() || took > 30*time.Second { // it hangs for ever
					t.Errorf("got error %v after %v, want a client timeout after 200ms", err, took)
				}
			default:
				re := retrieveError(t, err)
				if re.Response.StatusCode != tt.wantStatus || re.ErrorCode != tt.wantCode {
					t.Errorf("got status %d code %q, want %d %q", re.Response.StatusCode, re.ErrorCode, tt.wantStatus, tt.wantCode)
				}
				if want := tt.behavior.RetryAfter; want != "" && re.Response.Header.Get("Retry-After") != want {
					t.Errorf("got Retry-After %q, want %q", re.Response.Header.Get("Retry-After"), want)
				}
			}
			if got := f.RefreshCount(); got != 1 {
				t.Errorf("got RefreshCount %d, want 1", got)
			}
		})
	}
}

func TestFakeExchangeFailure(t *testing.T) {
	f := providertest.NewFake(t)
	f.SetBehavior(providertest.Behavior{ExchangeFail: providertest.FailUnavailable})
	conf := fakeConfig(f)
	code := f.Authorize(t, conf.AuthCodeURL("s")).Query().Get("code")
	_, err := conf.Exchange(clientContext(t, 5*time.Second), code)
	if re := retrieveError(t, err); re.Response.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("got status %d, want 503", re.Response.StatusCode)
	}
}

func TestFakeAuthorizeError(t *testing.T) {
	f := providertest.NewFake(t)
	f.SetBehavior(providertest.Behavior{AuthorizeError: "access_denied"})
	q := f.Authorize(t, fakeConfig(f).AuthCodeURL("state-5")).Query()
	if q.Get("error") != "access_denied" || q.Get("state") != "state-5" || q.Has("code") {
		t.Errorf("got callback query %v, want error=access_denied state=state-5", q)
	}
	if got := f.AuthorizeCount(); got != 1 {
		t.Errorf("got AuthorizeCount %d, want 1", got)
	}
}

func TestFakeClientAuthentication(t *testing.T) {
	f := providertest.NewFake(t)
	conf := fakeConfig(f)
	conf.ClientSecret = "wrong"
	code := f.Authorize(t, conf.AuthCodeURL("s")).Query().Get("code")
	_, err := conf.Exchange(clientContext(t, 5*time.Second), code)
	if re := retrieveError(t, err); re.Response.StatusCode != http.StatusUnauthorized || re.ErrorCode != "invalid_client" {
		t.Errorf("got status %d code %q, want 401 invalid_client", re.Response.StatusCode, re.ErrorCode)
	}
}

func TestFakeRevocation(t *testing.T) {
	tests := []struct {
		status, want int
		refreshWorks bool
	}{
		{0, http.StatusOK, false},
		{http.StatusInternalServerError, http.StatusInternalServerError, true},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.want), func(t *testing.T) {
			f := providertest.NewFake(t)
			tok := fakeToken(t, f)
			f.Update(func(b *providertest.Behavior) { b.RevokeStatus = tt.status })
			if got := revoke(t, f.RevocationURL, f.ClientID, f.ClientSecret, tok.RefreshToken); got != tt.want {
				t.Errorf("got status %d, want %d", got, tt.want)
			}
			reqs := f.Requests()
			last := reqs[len(reqs)-1]
			if last.Endpoint != providertest.EndpointRevoke || last.Form.Get("token") != tok.RefreshToken ||
				last.Form.Get("token_type_hint") != "refresh_token" || last.BasicUser != f.ClientID {
				t.Errorf("got revocation request %+v", last)
			}
			_, err := fakeConfig(f).TokenSource(clientContext(t, 5*time.Second), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
			if got := err == nil; got != tt.refreshWorks {
				t.Errorf("refresh after revocation: got error %v, want success=%v", err, tt.refreshWorks)
			}
			if got := f.RevokeCount(); got != 1 {
				t.Errorf("got RevokeCount %d, want 1", got)
			}
		})
	}
}

// A refresh token added as issued elsewhere is accepted; one never
// issued nor added is not.
func TestFakeAddRefreshToken(t *testing.T) {
	f := providertest.NewFake(t)
	conf, ctx := fakeConfig(f), clientContext(t, 5*time.Second)
	if _, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: "from-elsewhere"}).Token(); err == nil {
		t.Fatal("refresh with an unknown token: got success, want invalid_grant")
	}
	f.AddRefreshToken("from-elsewhere")
	tok, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: "from-elsewhere"}).Token()
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("refresh with an added token: got %v, %v; want a new access token", tok, err)
	}
}
