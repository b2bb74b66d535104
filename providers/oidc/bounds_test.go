package oidc_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/outbound"
	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/providers/oauth"
	"github.com/oauth2broker/oauth2broker/providers/oidc"
)

// bigBody is 5 MB of a marker that must reach no error text.
var bigBody = strings.Repeat("LEAKED-UPSTREAM-BODY ", 5<<20/21)

// hostileIssuer is an OIDC issuer whose discovery answers doc (when set)
// or a normal document, whose JWKS URL answers a 500 with a 5 MB body and
// whose token endpoint answers an ID token for the nonce "n" (signed with
// nothing the keys could check: the keys never arrive).
type hostileIssuer struct {
	srv      *httptest.Server
	doc      string
	redirect string // the token endpoint redirects here when set
	tokenURL string // the discovered token endpoint, when set
	tokenHit atomic.Int32
}

func newHostileIssuer(t *testing.T) *hostileIssuer {
	h := &hostileIssuer{}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hostileIssuer) serve(w http.ResponseWriter, r *http.Request) {
	iss := h.srv.URL
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		if h.doc != "" {
			_, _ = io.WriteString(w, h.doc)
			return
		}
		tokenURL := iss + "/token"
		if h.tokenURL != "" {
			tokenURL = h.tokenURL
		}
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": iss, "authorization_endpoint": iss + "/auth", "token_endpoint": tokenURL,
			"jwks_uri": iss + "/keys", "id_token_signing_alg_values_supported": []string{"RS256"},
		})
	case "/keys":
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, bigBody)
	case "/token":
		h.tokenHit.Add(1)
		if h.redirect != "" {
			http.Redirect(w, r, h.redirect, http.StatusTemporaryRedirect)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 3600, "id_token": h.idToken()})
	}
}

func (h *hostileIssuer) idToken() string {
	enc := base64.RawURLEncoding.EncodeToString
	head, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": "k1", "typ": "JWT"})
	now := time.Now().Unix()
	claims, _ := json.Marshal(map[string]any{"iss": h.srv.URL, "sub": "u", "aud": "c", "iat": now, "exp": now + 3600, "nonce": "n"})
	return enc(head) + "." + enc(claims) + "." + enc([]byte("not-a-signature"))
}

func (h *hostileIssuer) config() oauth.Config {
	return oauth.Config{
		Config:     providers.Config{Name: "h", Type: providers.TypeOIDC, Issuer: h.srv.URL, ClientID: "c", ClientSecret: "s"},
		HTTPClient: &http.Client{Timeout: 10 * time.Second},
	}
}

// checkShortClean fails unless err is short and quotes no upstream body.
func checkShortClean(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("got nil error")
	}
	if msg := err.Error(); len(msg) > 300 || strings.Contains(msg, "LEAKED") {
		t.Errorf("error text is %d bytes (want ≤ 300, without the upstream body): %.200s…", len(msg), msg)
	}
}

// A JWKS URL answering a 5 MB error body: the exchange fails as
// unavailable with a short error that quotes none of it.
func TestJWKSErrorBodyNotQuoted(t *testing.T) {
	h := newHostileIssuer(t)
	p, err := oidc.New(t.Context(), h.config())
	if err != nil {
		t.Fatalf("oidc.New: %v", err)
	}
	r := providers.AuthRequest{State: "s", Nonce: "n", Verifier: verifier, RedirectURL: redirectURL}
	_, err = p.Exchange(t.Context(), "code", r)
	checkSentinel(t, err, providers.ErrUnavailable)
	checkShortClean(t, err)
	if !strings.Contains(err.Error(), "status 500") {
		t.Errorf("error %q: want the JWKS answer's status", err)
	}
}

// A discovery document of 5 MB is refused (bounded read), with a short
// error.
func TestDiscoveryBodyBounded(t *testing.T) {
	h := newHostileIssuer(t)
	h.doc = fmt.Sprintf(`{"issuer":%q,"padding":%q}`, h.srv.URL, bigBody)
	_, err := oidc.New(t.Context(), h.config())
	checkSentinel(t, err, providers.ErrUpstream)
	checkShortClean(t, err)
	if !strings.Contains(err.Error(), "too large") {
		t.Errorf("error %q: want it to say the answer is too large", err)
	}
}

// A token endpoint answering 307 is not followed, even with a client
// that would follow it: the code and secret are sent once.
func TestTokenRedirectNotFollowed(t *testing.T) {
	var stolen atomic.Int32
	thief := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { stolen.Add(1) }))
	defer thief.Close()
	h := newHostileIssuer(t)
	h.redirect = thief.URL + "/steal"
	p, err := oidc.New(t.Context(), h.config())
	if err != nil {
		t.Fatalf("oidc.New: %v", err)
	}
	r := providers.AuthRequest{State: "s", Nonce: "n", Verifier: verifier, RedirectURL: redirectURL}
	_, err = p.Exchange(t.Context(), "code", r)
	checkSentinel(t, err, providers.ErrUpstream)
	if !strings.Contains(err.Error(), "redirect") {
		t.Errorf("error %q: want it to name the redirect", err)
	}
	if stolen.Load() != 0 || h.tokenHit.Load() != 1 {
		t.Errorf("redirect target called %d times, token endpoint %d times; want 0 and 1", stolen.Load(), h.tokenHit.Load())
	}
}

// An endpoint found by discovery is held to the outbound policy when it
// is called: a plain-http token endpoint off loopback is refused before
// any connection, so the code and secret never travel in clear.
func TestDiscoveredEndpointChecked(t *testing.T) {
	h := newHostileIssuer(t)
	h.tokenURL = "http://203.0.113.9/token"
	cfg := h.config()
	cfg.HTTPClient = outbound.Policy{AllowHTTPLoopback: true, Deny: outbound.DefaultDeny()}.Client(5 * time.Second)
	p, err := oidc.New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("oidc.New: %v", err)
	}
	r := providers.AuthRequest{State: "s", Nonce: "n", Verifier: verifier, RedirectURL: redirectURL}
	_, err = p.Exchange(t.Context(), "code", r)
	checkSentinel(t, err, providers.ErrUpstream)
	if !errors.Is(err, outbound.ErrRefused) {
		t.Errorf("got %v, want ErrRefused", err)
	}
}
