package oauth_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/providers/oauth"
	"github.com/oauth2broker/oauth2broker/providers/providertest"
)

func TestNewRequires(t *testing.T) {
	full := providers.Config{AuthURL: "https://up.example/authorize", TokenURL: "https://up.example/token", ClientID: "c"}
	tests := []struct {
		name    string
		change  func(*providers.Config)
		wantErr bool
	}{
		{"complete", func(*providers.Config) {}, false},
		{"no auth_url", func(c *providers.Config) { c.AuthURL = "" }, true},
		{"no token_url", func(c *providers.Config) { c.TokenURL = "" }, true},
		{"no client_id", func(c *providers.Config) { c.ClientID = "" }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := full
			tt.change(&cfg)
			_, err := oauth.New(oauth.Config{Config: cfg})
			if got := err != nil; got != tt.wantErr {
				t.Errorf("New error = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestAuthCodeURL(t *testing.T) {
	const authURL = "https://up.example/oauth/authorize"
	tests := []struct {
		name       string
		scopes     []string          // configured
		authParams map[string]string // configured
		req        providers.AuthRequest
		want       url.Values // beside the parameters every URL carries
	}{
		{
			name:   "configured scopes, no nonce",
			scopes: []string{"read", "write"},
			req:    providers.AuthRequest{State: "st-1", Verifier: rfcVerifier, RedirectURL: redirectURL},
			want:   url.Values{"state": {"st-1"}, "scope": {"read write"}},
		},
		{
			name:   "requested scopes win",
			scopes: []string{"read", "write"},
			req:    providers.AuthRequest{State: "st-2", Verifier: rfcVerifier, RedirectURL: redirectURL, Scopes: []string{"email", "profile"}},
			want:   url.Values{"state": {"st-2"}, "scope": {"email profile"}},
		},
		{
			name: "no scopes at all",
			req:  providers.AuthRequest{State: "st-3", Verifier: rfcVerifier, RedirectURL: redirectURL},
			want: url.Values{"state": {"st-3"}},
		},
		{
			name:   "nonce",
			scopes: []string{"openid"},
			req:    providers.AuthRequest{State: "st-4", Verifier: rfcVerifier, RedirectURL: redirectURL, Nonce: "nonce-4"},
			want:   url.Values{"state": {"st-4"}, "scope": {"openid"}, "nonce": {"nonce-4"}},
		},
		{
			name:       "auth params",
			scopes:     []string{"read"},
			authParams: map[string]string{"access_type": "offline", "prompt": "consent"},
			req:        providers.AuthRequest{State: "st-5", Verifier: rfcVerifier, RedirectURL: redirectURL},
			want:       url.Values{"state": {"st-5"}, "scope": {"read"}, "access_type": {"offline"}, "prompt": {"consent"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProvider(t, oauth.Config{Config: providers.Config{
				AuthURL: authURL, TokenURL: "https://up.example/oauth/token", ClientID: "client-1",
				Scopes: tt.scopes, AuthParams: tt.authParams,
			}})
			u, err := url.Parse(p.AuthCodeURL(tt.req))
			if err != nil {
				t.Fatalf("AuthCodeURL: %v", err)
			}
			if got := u.Scheme + "://" + u.Host + u.Path; got != authURL {
				t.Errorf("got endpoint %s, want %s", got, authURL)
			}
			want := url.Values{
				"response_type":         {"code"},
				"client_id":             {"client-1"},
				"redirect_uri":          {redirectURL},
				"code_challenge":        {rfcChallenge},
				"code_challenge_method": {"S256"},
			}
			for k, v := range tt.want {
				want[k] = v
			}
			if got := u.Query(); !reflect.DeepEqual(got, want) {
				t.Errorf("got query %v, want %v", got, want)
			}
		})
	}
}

func TestExchangeRequest(t *testing.T) {
	tests := []struct {
		name      string
		style     string
		wantBasic bool
	}{
		{"header", providers.AuthStyleHeader, true},
		{"body", providers.AuthStyleBody, false},
		{"auto tries the header first", providers.AuthStyleAuto, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := providertest.NewFake(t)
			p := newProvider(t, fakeConfig(f, tt.style))
			r := authRequest()
			r.Scopes = []string{"email"}
			c := code(t, f, p, r)
			ts, err := p.Exchange(t.Context(), c, r)
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}

			got := lastRequest(t, f, providertest.EndpointToken)
			want := url.Values{
				"grant_type":    {"authorization_code"},
				"code":          {c},
				"redirect_uri":  {redirectURL},
				"code_verifier": {rfcVerifier},
			}
			if tt.wantBasic {
				if got.BasicUser != f.ClientID || got.BasicPassword != f.ClientSecret {
					t.Errorf("got Basic %q:%q, want %q:%q", got.BasicUser, got.BasicPassword, f.ClientID, f.ClientSecret)
				}
			} else {
				if got.Authorization != "" {
					t.Errorf("got Authorization %q, want none", got.Authorization)
				}
				want.Set("client_id", f.ClientID)
				want.Set("client_secret", f.ClientSecret)
			}
			if !reflect.DeepEqual(got.Form, want) {
				t.Errorf("got form %v, want %v", got.Form, want)
			}
			if ct := got.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
				t.Errorf("got Content-Type %q, want application/x-www-form-urlencoded", ct)
			}
			if acc := got.Header.Get("Accept"); acc != "application/json" {
				t.Errorf("got Accept %q, want application/json", acc)
			}
			if n := f.ExchangeCount(); n != 1 {
				t.Errorf("got %d exchanges, want 1", n)
			}

			if ts.AccessToken == "" || ts.RefreshToken == "" {
				t.Errorf("got access %q refresh %q, want both set", ts.AccessToken, ts.RefreshToken)
			}
			if ts.TokenType != "Bearer" {
				t.Errorf("got token type %q, want Bearer", ts.TokenType)
			}
			if ts.Scope != "email" {
				t.Errorf("got scope %q, want email", ts.Scope)
			}
		})
	}
}

// TestAnswerFormats checks that JSON, form-encoded and mislabelled JSON
// token answers give the same token set, in Exchange and Refresh.
func TestAnswerFormats(t *testing.T) {
	tests := []struct {
		name     string
		behavior providertest.Behavior
	}{
		{"json", providertest.Behavior{}},
		{"form", providertest.Behavior{Format: providertest.FormatForm}},
		{"json as text/plain", providertest.Behavior{ContentType: "text/plain"}},
		{"json as text/html", providertest.Behavior{ContentType: "text/html; charset=utf-8"}},
		{"json with charset", providertest.Behavior{ContentType: "application/json; charset=utf-8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := providertest.NewFake(t)
			b := tt.behavior
			b.ExpiresIn = 42 * time.Second
			b.RefreshTokens = providertest.RefreshRotate
			f.SetBehavior(b)
			p := newProvider(t, fakeConfig(f, providers.AuthStyleHeader))
			r := authRequest()
			c := code(t, f, p, r)
			ts, err := p.Exchange(t.Context(), c, r)
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			want := providers.TokenSet{
				AccessToken: ts.AccessToken, TokenType: "Bearer", RefreshToken: ts.RefreshToken,
				Scope: "read write", Expiry: testNow.Add(42 * time.Second),
			}
			if ts.AccessToken == "" || ts.RefreshToken == "" || !reflect.DeepEqual(*ts, want) {
				t.Errorf("Exchange: got %+v, want %+v with access and refresh tokens", *ts, want)
			}
			next, err := p.Refresh(t.Context(), ts)
			if err != nil {
				t.Fatalf("Refresh: %v", err)
			}
			if next.AccessToken == "" || next.AccessToken == ts.AccessToken {
				t.Errorf("Refresh: got access token %q, want a new one", next.AccessToken)
			}
			if next.RefreshToken == "" || next.RefreshToken == ts.RefreshToken {
				t.Errorf("Refresh: got refresh token %q, want the rotated one", next.RefreshToken)
			}
			if !next.Expiry.Equal(want.Expiry) {
				t.Errorf("Refresh: got expiry %v, want %v", next.Expiry, want.Expiry)
			}
		})
	}
}

// TestExpiry checks the expiry of Exchange and Refresh answers against the
// injected clock, for JSON and form-encoded answers.
func TestExpiry(t *testing.T) {
	tests := []struct {
		name     string
		behavior providertest.Behavior
		lifetime time.Duration // Config.DefaultLifetime
		want     time.Time
	}{
		{"json expires_in", providertest.Behavior{ExpiresIn: 90 * time.Second}, 0, testNow.Add(90 * time.Second)},
		{"form expires_in", providertest.Behavior{Format: providertest.FormatForm, ExpiresIn: 90 * time.Second}, 0, testNow.Add(90 * time.Second)},
		{"expires_in beats the default lifetime", providertest.Behavior{ExpiresIn: 2 * time.Hour}, 10 * time.Minute, testNow.Add(2 * time.Hour)},
		{"json no expires_in", providertest.Behavior{OmitExpiresIn: true}, 0, testNow.Add(oauth.DefaultLifetime)},
		{"form no expires_in", providertest.Behavior{Format: providertest.FormatForm, OmitExpiresIn: true}, 0, testNow.Add(oauth.DefaultLifetime)},
		{"no expires_in, configured lifetime", providertest.Behavior{OmitExpiresIn: true}, 10 * time.Minute, testNow.Add(10 * time.Minute)},
		{"no expires_in, negative lifetime", providertest.Behavior{OmitExpiresIn: true}, -1, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := providertest.NewFake(t)
			f.SetBehavior(tt.behavior)
			cfg := fakeConfig(f, providers.AuthStyleHeader)
			cfg.DefaultLifetime = tt.lifetime
			p := newProvider(t, cfg)

			ts := exchange(t, f, p)
			if !ts.Expiry.Equal(tt.want) {
				t.Errorf("Exchange: got expiry %v, want %v", ts.Expiry, tt.want)
			}
			if ts.AccessToken == "" || ts.TokenType != "Bearer" {
				t.Errorf("Exchange: got access %q type %q, want a Bearer token", ts.AccessToken, ts.TokenType)
			}
			ts, err := p.Refresh(t.Context(), ts)
			if err != nil {
				t.Fatalf("Refresh: %v", err)
			}
			if !ts.Expiry.Equal(tt.want) {
				t.Errorf("Refresh: got expiry %v, want %v", ts.Expiry, tt.want)
			}
		})
	}
}

func TestRefresh(t *testing.T) {
	tests := []struct {
		name string
		mode providertest.RefreshTokenMode
		// rotates: the answer carries a new refresh token and the old one
		// is dead.
		rotates bool
	}{
		{"omitted keeps the old one", providertest.RefreshOmit, false},
		{"rotated takes the new one", providertest.RefreshRotate, true},
		{"echoed", providertest.RefreshEcho, false},
	}
	for _, style := range []string{providers.AuthStyleHeader, providers.AuthStyleBody} {
		for _, tt := range tests {
			t.Run(style+"/"+tt.name, func(t *testing.T) {
				f := providertest.NewFake(t)
				f.SetBehavior(providertest.Behavior{RefreshTokens: tt.mode})
				p := newProvider(t, fakeConfig(f, style))
				old := exchange(t, f, p)
				old.IDToken, old.Scope = "id-token-kept", "read write"

				got, err := p.Refresh(t.Context(), old)
				if err != nil {
					t.Fatalf("Refresh: %v", err)
				}
				req := lastRequest(t, f, providertest.EndpointToken)
				wantForm := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {old.RefreshToken}}
				if style == providers.AuthStyleBody {
					wantForm.Set("client_id", f.ClientID)
					wantForm.Set("client_secret", f.ClientSecret)
				} else if req.BasicUser != f.ClientID || req.BasicPassword != f.ClientSecret {
					t.Errorf("got Basic %q:%q, want %q:%q", req.BasicUser, req.BasicPassword, f.ClientID, f.ClientSecret)
				}
				if !reflect.DeepEqual(req.Form, wantForm) {
					t.Errorf("got form %v, want %v", req.Form, wantForm)
				}
				if n := f.RefreshCount(); n != 1 {
					t.Errorf("got %d refreshes, want 1", n)
				}

				if got.AccessToken == "" || got.AccessToken == old.AccessToken {
					t.Errorf("got access token %q, want a new one (old %q)", got.AccessToken, old.AccessToken)
				}
				if rotated := got.RefreshToken != old.RefreshToken; rotated != tt.rotates {
					t.Errorf("got refresh token %q (old %q), want rotated %v", got.RefreshToken, old.RefreshToken, tt.rotates)
				}
				if got.RefreshToken == "" {
					t.Error("got no refresh token")
				}
				if got.IDToken != old.IDToken || got.Scope != old.Scope {
					t.Errorf("got id_token %q scope %q, want the old %q %q", got.IDToken, got.Scope, old.IDToken, old.Scope)
				}

				// The refresh token in hand must keep working.
				if _, err := p.Refresh(t.Context(), got); err != nil {
					t.Errorf("Refresh with the returned token: %v", err)
				}
				if tt.rotates {
					_, err := p.Refresh(t.Context(), old)
					checkSentinel(t, err, providers.ErrInvalidGrant)
				}
			})
		}
	}
}

func TestRefreshWithoutRefreshToken(t *testing.T) {
	f := providertest.NewFake(t)
	p := newProvider(t, fakeConfig(f, providers.AuthStyleHeader))
	_, err := p.Refresh(t.Context(), &providers.TokenSet{AccessToken: "at-x"})
	checkSentinel(t, err, providers.ErrInvalidGrant)
	if n := len(f.Requests()); n != 0 {
		t.Errorf("got %d upstream requests, want 0", n)
	}
}

func TestScopeAsJSONArray(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"at","scope":["chat:read","chat:edit"],"expires_in":60}`)
	}))
	defer srv.Close()
	p, err := oauth.New(oauth.Config{Config: providers.Config{ClientID: "c", AuthURL: srv.URL, TokenURL: srv.URL}, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	ts, err := p.Exchange(context.Background(), "code", providers.AuthRequest{Verifier: "v"})
	if err != nil || ts.Scope != "chat:read chat:edit" {
		t.Fatalf("got %+v, %v; want the array joined with spaces", ts, err)
	}
}
