package oauth_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/outbound"
	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/providers/oauth"
)

// A token or revocation endpoint answering 307 or 308 is never followed,
// whatever client the provider is given: the refresh token, the code,
// the verifier and the client secret go to the configured endpoint only.
func TestRedirectsNotFollowed(t *testing.T) {
	var stolen atomic.Int32
	thief := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stolen.Add(1)
		_, _ = w.Write([]byte(`{"access_token":"evil","token_type":"Bearer"}`))
	}))
	defer thief.Close()
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect, http.StatusFound} {
		up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, thief.URL+r.URL.Path, status)
		}))
		p, err := oauth.New(oauth.Config{
			Config: providers.Config{
				Name: "r", Type: providers.TypeOAuth2, AuthURL: up.URL + "/auth", TokenURL: up.URL + "/token",
				RevocationURL: up.URL + "/revoke", ClientID: "c", ClientSecret: "s",
			},
			HTTPClient: &http.Client{Timeout: 5 * time.Second}, // follows redirects by itself
		})
		if err != nil {
			t.Fatal(err)
		}
		ts := &providers.TokenSet{AccessToken: "at", RefreshToken: "rt"}
		_, errEx := p.Exchange(t.Context(), "code", providers.AuthRequest{Verifier: rfcVerifier, RedirectURL: redirectURL})
		_, errRf := p.Refresh(t.Context(), ts)
		errRv := p.Revoke(t.Context(), ts)
		for name, err := range map[string]error{"exchange": errEx, "refresh": errRf, "revoke": errRv} {
			if !errors.Is(err, providers.ErrUpstream) || !errors.Is(err, outbound.ErrRedirect) {
				t.Errorf("%d on %s: got %v, want ErrUpstream and ErrRedirect", status, name, err)
			}
			if err != nil && strings.Contains(err.Error(), up.URL) {
				t.Errorf("%d on %s: the error names the URL: %v", status, name, err)
			}
		}
		up.Close()
	}
	if n := stolen.Load(); n != 0 {
		t.Errorf("the redirect target got %d calls, want 0", n)
	}
}
