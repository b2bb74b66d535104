package providertest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2broker/oauth2broker/providers/providertest"
)

// callbackURL is the broker callback registered at the upstreams. Nothing
// listens there: Login and Authorize return the redirect without following
// it.
const callbackURL = "http://127.0.0.1:9/connections/callback"

// clientContext carries an HTTP client with a timeout for x/oauth2.
func clientContext(t *testing.T, timeout time.Duration) context.Context {
	return context.WithValue(t.Context(), oauth2.HTTPClient, &http.Client{Timeout: timeout})
}

// retrieveError returns err as an *oauth2.RetrieveError or fails the test.
func retrieveError(t *testing.T, err error) *oauth2.RetrieveError {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("got error %v (%T), want *oauth2.RetrieveError", err, err)
	}
	return re
}

// revoke posts an RFC 7009 revocation with HTTP Basic client credentials
// and returns the status code.
func revoke(t *testing.T, endpoint, clientID, secret, token string) int {
	t.Helper()
	form := url.Values{"token": {token}, "token_type_hint": {"refresh_token"}}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("revoke: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// jwtClaims decodes the payload of a compact JWT without verifying it:
// signature checks belong to providers/oidc and its tests.
func jwtClaims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("id_token has %d parts, want 3", len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("id_token payload: %v", err)
	}
	claims := map[string]any{}
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatalf("id_token payload: %v", err)
	}
	return claims
}

func opConfig(o *providertest.OP) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     o.ClientID,
		ClientSecret: o.ClientSecret,
		Endpoint:     o.Endpoint(),
		RedirectURL:  callbackURL,
		Scopes:       []string{"openid", "profile", "email", "offline_access"},
	}
}

func TestOPAuthorizationCodeRoundTrip(t *testing.T) {
	t.Parallel()
	start := time.Now()
	o := providertest.StartOP(t, providertest.OPConfig{
		RedirectURIs:        []string{callbackURL},
		AccessTokenLifetime: 2 * time.Second,
	})
	t.Logf("StartOP took %v; issuer %s, user %s", time.Since(start), o.Issuer, o.Username)
	if !strings.HasPrefix(o.Issuer, "http://127.0.0.1:") {
		t.Errorf("got issuer %q, want http://127.0.0.1:PORT", o.Issuer)
	}
	ctx := clientContext(t, 5*time.Second)
	conf := opConfig(o)
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("nonce", "nonce-1"))

	cb := o.Login(t, authURL)
	if got := cb.Query().Get("state"); got != "state-1" {
		t.Errorf("got state %q, want state-1", got)
	}
	code := cb.Query().Get("code")
	if code == "" {
		t.Fatalf("got callback %s, want a code", cb)
	}

	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	idToken, _ := tok.Extra("id_token").(string)
	if idToken == "" {
		t.Fatal("got no id_token")
	}
	claims := jwtClaims(t, idToken)
	if claims["iss"] != o.Issuer || claims["nonce"] != "nonce-1" {
		t.Errorf("got iss %v nonce %v, want %s nonce-1", claims["iss"], claims["nonce"], o.Issuer)
	}
	if aud, _ := claims["aud"].([]any); !slices.Contains(aud, any(o.ClientID)) {
		t.Errorf("got aud %v, want it to contain %q", claims["aud"], o.ClientID)
	}
	if tok.RefreshToken == "" {
		t.Fatal("got no refresh_token")
	}
	if left := time.Until(tok.Expiry); left <= 0 || left > 2*time.Second {
		t.Errorf("got access token valid for %v, want (0, 2s]", left)
	}
	if got := o.ExchangeCount(); got != 1 {
		t.Errorf("got ExchangeCount %d, want 1", got)
	}

	// An access token this short-lived counts as expired for x/oauth2 (its
	// expiry delta is 10s), so Token refreshes.
	tok2, err := conf.TokenSource(ctx, tok).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if got := o.RefreshCount(); got != 1 {
		t.Errorf("got RefreshCount %d, want 1", got)
	}
	if tok2.AccessToken == tok.AccessToken || tok2.RefreshToken == tok.RefreshToken || tok2.RefreshToken == "" {
		t.Errorf("refresh did not issue a new access and refresh token")
	}
	if got, want := o.TokenCount(), 2; got != want {
		t.Errorf("got TokenCount %d, want %d", got, want)
	}

	// Rotation: the used refresh token is dead.
	_, err = conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if re := retrieveError(t, err); re.ErrorCode != "invalid_grant" {
		t.Errorf("old refresh token: got error code %q, want invalid_grant", re.ErrorCode)
	}

	// RFC 7009 revocation kills the current one.
	if got := revoke(t, o.RevocationURL, o.ClientID, o.ClientSecret, tok2.RefreshToken); got != http.StatusOK {
		t.Errorf("revoke: got status %d, want 200", got)
	}
	if got := o.RevokeCount(); got != 1 {
		t.Errorf("got RevokeCount %d, want 1", got)
	}
	_, err = conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok2.RefreshToken}).Token()
	if re := retrieveError(t, err); re.ErrorCode != "invalid_grant" {
		t.Errorf("revoked refresh token: got error code %q, want invalid_grant", re.ErrorCode)
	}
	if got := o.RefreshCount(); got != 3 {
		t.Errorf("got RefreshCount %d, want 3", got)
	}
}

func TestOPRejectsWrongVerifier(t *testing.T) {
	t.Parallel()
	o := providertest.StartOP(t, providertest.OPConfig{RedirectURIs: []string{callbackURL}, ClientID: "other", ClientSecret: "s3cret"})
	conf := opConfig(o)
	authURL := conf.AuthCodeURL("state-2", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	code := o.Login(t, authURL).Query().Get("code")

	_, err := conf.Exchange(clientContext(t, 5*time.Second), code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
	if re := retrieveError(t, err); re.ErrorCode != "invalid_grant" {
		t.Errorf("got error code %q, want invalid_grant", re.ErrorCode)
	}
	if got := o.ExchangeCount(); got != 1 {
		t.Errorf("got ExchangeCount %d, want 1", got)
	}
}

func TestOPWithoutOfflineAccessIssuesNoRefreshToken(t *testing.T) {
	t.Parallel()
	o := providertest.StartOP(t, providertest.OPConfig{RedirectURIs: []string{callbackURL}})
	conf := opConfig(o)
	conf.Scopes = []string{"openid"}
	code := o.Login(t, conf.AuthCodeURL("s")).Query().Get("code")
	tok, err := conf.Exchange(clientContext(t, 5*time.Second), code)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if tok.RefreshToken != "" {
		t.Errorf("got refresh token %q, want none", tok.RefreshToken)
	}
	if left := time.Until(tok.Expiry); left < 4*time.Minute || left > providertest.OPAccessTokenLifetime {
		t.Errorf("got access token valid for %v, want about %v", left, providertest.OPAccessTokenLifetime)
	}
}

func TestOPSkipLogin(t *testing.T) {
	t.Parallel()
	o := providertest.StartOP(t, providertest.OPConfig{RedirectURIs: []string{callbackURL}})
	cb := o.SkipLogin(t, opConfig(o).AuthCodeURL("state-3"))
	q := cb.Query()
	if q.Get("error") != "interaction_required" || q.Get("state") != "state-3" || q.Has("code") {
		t.Errorf("got callback query %v, want error=interaction_required, state=state-3, no code", q)
	}
	if !slices.Contains(o.RedirectURIs, cb.Scheme+"://"+cb.Host+cb.Path) {
		t.Errorf("got callback %s, want one of %v", cb, o.RedirectURIs)
	}
}
