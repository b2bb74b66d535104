package providers_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/providers/oauth"
	"github.com/oauth2broker/oauth2broker/providers/providertest"
)

// TestNeedsReauthOnlyForDeadGrants: only invalid_grant means the user must
// reconnect. A refusal of the broker's own client credentials
// (invalid_client, unauthorized_client) is the provider configuration's
// fault and says nothing about the user's grant. The errors come from the
// real providers/oauth client.
func TestNeedsReauthOnlyForDeadGrants(t *testing.T) {
	fake := providertest.NewFake(t)
	open := func(tokenURL, secret string) providers.Provider {
		t.Helper()
		p, err := oauth.New(oauth.Config{Config: providers.Config{
			Name: "fake", Type: providers.TypeOAuth2, AuthURL: fake.AuthURL, TokenURL: tokenURL,
			ClientID: fake.ClientID, ClientSecret: secret,
		}})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := open(fake.TokenURL, fake.ClientSecret)
	r := providers.AuthRequest{State: "s", Verifier: "v-0123456789-0123456789-0123456789-0123456789", RedirectURL: "https://broker.example/cb"}
	back := fake.Authorize(t, good.AuthCodeURL(r))
	ts, err := good.Exchange(context.Background(), back.Query().Get("code"), r)
	if err != nil {
		t.Fatal(err)
	}

	// unauthorized_client from a token endpoint that refuses the client
	// this grant type (RFC 6749 §5.2).
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"unauthorized_client"}`))
	}))
	t.Cleanup(refusing.Close)

	for _, tt := range []struct {
		name   string
		p      providers.Provider
		fail   providertest.Failure
		want   error
		reauth bool
	}{
		{"invalid_client (wrong client secret)", open(fake.TokenURL, "expired-secret"), providertest.FailNone, providers.ErrInvalidClient, false},
		{"unauthorized_client", open(refusing.URL, fake.ClientSecret), providertest.FailNone, providers.ErrInvalidClient, false},
		{"invalid_grant", good, providertest.FailInvalidGrant, providers.ErrInvalidGrant, true},
		{"server_error", good, providertest.FailServerError, providers.ErrUnavailable, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fake.SetBehavior(providertest.Behavior{RefreshFail: tt.fail})
			_, err := tt.p.Refresh(context.Background(), ts)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Refresh: %v, want %v", err, tt.want)
			}
			if got := providers.NeedsReauth(err); got != tt.reauth {
				t.Errorf("NeedsReauth(%v) = %v, want %v", err, got, tt.reauth)
			}
		})
	}
}
