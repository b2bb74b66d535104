package oauth_test

import (
	"net/http"
	"net/url"
	"reflect"
	"testing"

	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/providers/providertest"
)

func TestRevoke(t *testing.T) {
	tests := []struct {
		name   string
		style  string
		status int  // the Fake's RevokeStatus
		noRT   bool // revoke a token set without a refresh token
		want   error
	}{
		{name: "header 200", style: providers.AuthStyleHeader},
		{name: "body 200", style: providers.AuthStyleBody},
		{name: "auto uses the header", style: providers.AuthStyleAuto},
		{name: "access token when no refresh token", style: providers.AuthStyleHeader, noRT: true},
		{name: "500", style: providers.AuthStyleHeader, status: http.StatusInternalServerError, want: providers.ErrUnavailable},
		{name: "503", style: providers.AuthStyleBody, status: http.StatusServiceUnavailable, want: providers.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := providertest.NewFake(t)
			p := newProvider(t, fakeConfig(f, tt.style))
			ts := exchange(t, f, p)
			wantForm := url.Values{"token": {ts.RefreshToken}, "token_type_hint": {"refresh_token"}}
			if tt.noRT {
				ts = &providers.TokenSet{AccessToken: ts.AccessToken}
				wantForm = url.Values{"token": {ts.AccessToken}, "token_type_hint": {"access_token"}}
			}
			f.SetBehavior(providertest.Behavior{RevokeStatus: tt.status})

			err := p.Revoke(t.Context(), ts)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Revoke: got %v, want nil", err)
				}
			} else {
				checkSentinel(t, err, tt.want)
			}

			if n := f.RevokeCount(); n != 1 {
				t.Fatalf("got %d revocation requests, want 1", n)
			}
			req := lastRequest(t, f, providertest.EndpointRevoke)
			if req.Method != http.MethodPost {
				t.Errorf("got method %s, want POST", req.Method)
			}
			if ct := req.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
				t.Errorf("got Content-Type %q, want application/x-www-form-urlencoded", ct)
			}
			if tt.style == providers.AuthStyleBody {
				if req.Authorization != "" {
					t.Errorf("got Authorization %q, want none", req.Authorization)
				}
				wantForm.Set("client_id", f.ClientID)
				wantForm.Set("client_secret", f.ClientSecret)
			} else if req.BasicUser != f.ClientID || req.BasicPassword != f.ClientSecret {
				t.Errorf("got Basic %q:%q, want %q:%q", req.BasicUser, req.BasicPassword, f.ClientID, f.ClientSecret)
			}
			if !reflect.DeepEqual(req.Form, wantForm) {
				t.Errorf("got form %v, want %v", req.Form, wantForm)
			}
		})
	}
}

// TestRevokeEndsTheGrant checks that a revoked refresh token then answers
// invalid_grant.
func TestRevokeEndsTheGrant(t *testing.T) {
	f := providertest.NewFake(t)
	p := newProvider(t, fakeConfig(f, providers.AuthStyleHeader))
	ts := exchange(t, f, p)
	if err := p.Revoke(t.Context(), ts); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	_, err := p.Refresh(t.Context(), ts)
	checkSentinel(t, err, providers.ErrInvalidGrant)
}

func TestRevokeWrongSecret(t *testing.T) {
	f := providertest.NewFake(t)
	cfg := fakeConfig(f, providers.AuthStyleHeader)
	cfg.ClientSecret = "not-the-secret"
	p := newProvider(t, cfg)
	err := p.Revoke(t.Context(), &providers.TokenSet{AccessToken: "at-x", RefreshToken: "rt-x"})
	checkSentinel(t, err, providers.ErrInvalidClient)
}

func TestRevokeUnsupported(t *testing.T) {
	f := providertest.NewFake(t)
	cfg := fakeConfig(f, providers.AuthStyleHeader)
	cfg.RevocationURL = ""
	p := newProvider(t, cfg)
	err := p.Revoke(t.Context(), &providers.TokenSet{AccessToken: "at-x", RefreshToken: "rt-x"})
	checkSentinel(t, err, providers.ErrRevocationUnsupported)
	if n := len(f.Requests()); n != 0 {
		t.Errorf("got %d upstream requests, want 0", n)
	}
}
