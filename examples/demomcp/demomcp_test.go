package demomcp_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/oauth2broker/oauth2broker/examples/demomcp"
)

func TestCodeFlowThenTools(t *testing.T) {
	d := start(t, demomcp.Config{User: "alice"})
	tok := login(t, d, testClient, testSecret)
	if got := tok.Extra("scope"); got != demomcp.ToolsScope {
		t.Errorf("scope: got %v, want %s (the base scope, asked for none)", got, demomcp.ToolsScope)
	}
	if tok.RefreshToken == "" || tok.Expiry.IsZero() {
		t.Errorf("token: got refresh %q expiry %v, want both", tok.RefreshToken, tok.Expiry)
	}
	cs, err := connect(t, d.Resource, bearer(tok.AccessToken))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	var who demomcp.WhoamiOutput
	if err := callTool(t, cs, demomcp.ToolWhoami, map[string]any{}, &who); err != nil {
		t.Fatal(err)
	}
	if who.Subject != "alice" || who.ClientID != testClient || !slices.Equal(who.Scopes, []string{demomcp.ToolsScope}) {
		t.Errorf("whoami: got %+v, want alice, %s, [%s]", who, testClient, demomcp.ToolsScope)
	}
	var sum demomcp.AddOutput
	if err := callTool(t, cs, demomcp.ToolAdd, demomcp.AddInput{A: 2, B: 40}, &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Sum != 42 {
		t.Errorf("add: got %v, want 42", sum.Sum)
	}
}

func TestAuthorizeAnswersIssAndState(t *testing.T) {
	d := start(t, demomcp.Config{})
	conf := oauthConfig(d, testClient, testSecret)
	q := authorize(t, conf.AuthCodeURL("the-state", oauthChallenge(),
		resourceParam(d.Resource)))
	if q.Get("iss") != d.Issuer || q.Get("state") != "the-state" || q.Get("code") == "" {
		t.Errorf("callback query: got %v, want code, iss=%s, state=the-state", q, d.Issuer)
	}
}

func TestLoginHintAndApprove(t *testing.T) {
	d := start(t, demomcp.Config{})
	conf := oauthConfig(d, testClient, testSecret)
	tok := loginWith(t, d, conf, loginHint("bob"))
	cs, err := connect(t, d.Resource, bearer(tok.AccessToken))
	if err != nil {
		t.Fatal(err)
	}
	var who demomcp.WhoamiOutput
	if err := callTool(t, cs, demomcp.ToolWhoami, map[string]any{}, &who); err != nil {
		t.Fatal(err)
	}
	if who.Subject != "bob" {
		t.Errorf("whoami after login_hint=bob: got %q", who.Subject)
	}

	denied := start(t, demomcp.Config{Approve: func(r demomcp.AuthorizeRequest) (string, error) {
		return "", errDenied
	}})
	q := authorize(t, oauthConfig(denied, testClient, testSecret).AuthCodeURL("s", oauthChallenge(), resourceParam(denied.Resource)))
	if q.Get("error") != "access_denied" || q.Get("iss") != denied.Issuer || q.Get("code") != "" {
		t.Errorf("refused approval: got %v, want error=access_denied with iss", q)
	}
}

func TestAuthorizeRefusals(t *testing.T) {
	d := start(t, demomcp.Config{})
	base := url.Values{"response_type": {"code"}, "client_id": {testClient}, "redirect_uri": {testRedirect},
		"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"},
		"resource": {d.Resource}, "state": {"s"}}
	redirected := []struct {
		name, key, value, want string
	}{
		{"no PKCE", "code_challenge", "", "invalid_request"},
		{"plain PKCE", "code_challenge_method", "plain", "invalid_request"},
		{"no resource", "resource", "", "invalid_target"},
		{"other resource", "resource", d.BaseURL + "/other", "invalid_target"},
		{"unknown scope", "scope", "mcp:tools root", "invalid_scope"},
		{"implicit", "response_type", "token", "unsupported_response_type"},
	}
	for _, tc := range redirected {
		t.Run(tc.name, func(t *testing.T) {
			q := authorize(t, d.AuthorizeURL+"?"+with(base, tc.key, tc.value).Encode())
			if q.Get("error") != tc.want || q.Get("code") != "" || q.Get("iss") != d.Issuer {
				t.Errorf("got %v, want error=%s and iss, no code", q, tc.want)
			}
		})
	}
	// Never redirect to a redirect_uri that is not the client's, nor for an unknown client.
	for _, q := range []url.Values{with(base, "redirect_uri", "http://127.0.0.1:9/evil"), with(base, "client_id", "nobody")} {
		resp, err := noRedirect.Get(d.AuthorizeURL + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Errorf("%v: got %d %q, want 400 without a redirect", q, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

func TestTokenRefusals(t *testing.T) {
	d := start(t, demomcp.Config{})
	conf := oauthConfig(d, testClient, testSecret)
	code := func(verifier string) string {
		q := authorize(t, conf.AuthCodeURL("s", challengeOf(verifier), resourceParam(d.Resource)))
		return q.Get("code")
	}
	v := strings.Repeat("v", 50)
	exchange := func(form url.Values) (int, string) {
		status, body := postForm(t, d.TokenURL, testClient, testSecret, form)
		e, _ := body["error"].(string)
		return status, e
	}
	form := func(c, verifier, resource string) url.Values {
		return url.Values{"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {testRedirect},
			"code_verifier": {verifier}, "resource": {resource}}
	}
	if st, e := exchange(form(code(v), strings.Repeat("w", 50), d.Resource)); st != 400 || e != "invalid_grant" {
		t.Errorf("wrong verifier: got %d %s, want 400 invalid_grant", st, e)
	}
	if st, e := exchange(form(code(v), v, "")); st != 400 || e != "invalid_target" {
		t.Errorf("no resource: got %d %s, want 400 invalid_target", st, e)
	}
	c := code(v)
	if st, e := exchange(form(c, v, d.Resource)); st != 200 || e != "" {
		t.Fatalf("good exchange: got %d %s", st, e)
	}
	if st, e := exchange(form(c, v, d.Resource)); st != 400 || e != "invalid_grant" {
		t.Errorf("code reused: got %d %s, want 400 invalid_grant", st, e)
	}
	if st, _ := postForm(t, d.TokenURL, testClient, "wrong", form(code(v), v, d.Resource)); st != 401 {
		t.Errorf("wrong client secret: got %d, want 401", st)
	}
}
