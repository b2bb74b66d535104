package oauth_test

import (
	"encoding/json"
	"testing"

	"github.com/oauth2broker/oauth2broker/providers"
)

// Error codes named elsewhere than "error" (quirks.error_path) are read
// at the first path present and mapped by quirks.error_codes, so a dead
// grant becomes invalid_grant (needs_reauth), not a generic upstream
// error.
func TestQuirkErrorPath(t *testing.T) {
	paths := []string{"status", "errors.0.code", "error..tag", "err", "code"}
	codes := map[string]string{
		"BAD_REFRESH_TOKEN":     "invalid_grant", // HubSpot
		"token_not_found":       "invalid_grant", // Intercom
		"invalid_grant_code":    "invalid_grant",
		"OAUTH_025":             "invalid_grant", // ClickUp (err + ECODE)
		"invalid_access_token":  "invalid_grant", // Dropbox .tag
		"2":                     "invalid_grant", // a numeric code (Pinterest)
		"UNAUTHORIZED":          "invalid_client",
		"invalid_refresh_token": "invalid_grant",
	}
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   error
	}{
		{"status field", 400, `{"status":"BAD_REFRESH_TOKEN","message":"missing or invalid refresh token"}`, providers.ErrInvalidGrant},
		{"nested array", 401, `{"type":"error.list","errors":[{"code":"token_not_found","message":"Token not found"}]}`, providers.ErrInvalidGrant},
		{"dot key", 400, `{"error_summary":"invalid_access_token/","error":{".tag":"invalid_access_token"}}`, providers.ErrInvalidGrant},
		{"err field", 400, `{"err":"Code already used","ECODE":"OAUTH_025"}`, providers.ErrUpstream},
		{"number", 400, `{"code":2,"message":"Authentication failed."}`, providers.ErrInvalidGrant},
		{"unmapped", 400, `{"status":"SOMETHING_ELSE"}`, providers.ErrUpstream},
		{"error string still read", 400, `{"error":"invalid_refresh_token"}`, providers.ErrInvalidGrant},
		{"sent with 200", 200, `{"errors":[{"code":"token_not_found"}]}`, providers.ErrInvalidGrant},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRecorder(t)
			r.answer("/token", tc.status, tc.body)
			p := quirkProvider(t, r, providers.Quirks{ErrorPath: paths, ErrorCodes: codes})
			_, err := p.Refresh(t.Context(), &providers.TokenSet{AccessToken: "a", RefreshToken: "r"})
			checkSentinel(t, err, tc.want)
		})
	}
	// The order of error_path decides: ECODE before err.
	r := newRecorder(t)
	r.answer("/token", 400, `{"err":"Code already used","ECODE":"OAUTH_025"}`)
	p := quirkProvider(t, r, providers.Quirks{ErrorPath: []string{"ECODE", "err"}, ErrorCodes: codes})
	_, err := p.Exchange(t.Context(), "c", authRequest())
	checkSentinel(t, err, providers.ErrInvalidGrant)
}

// A 401 from the token endpoint without an error code is a failed client
// authentication (RFC 6749 §5.2; reddit answers exactly this), which does
// not need the user; a 401 naming another code keeps that code.
func TestTokenEndpoint401WithoutCode(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		want   error
	}{
		{401, `{"message": "Unauthorized", "error": 401}`, providers.ErrInvalidClient},
		{401, ``, providers.ErrInvalidClient},
		{401, `{"error":"invalid_grant"}`, providers.ErrInvalidGrant},
		{400, `{"message":"Bad Request"}`, providers.ErrUpstream},
	} {
		r := newRecorder(t)
		r.answer("/token", tc.status, tc.body)
		p := quirkProvider(t, r, providers.Quirks{})
		_, err := p.Refresh(t.Context(), &providers.TokenSet{AccessToken: "a", RefreshToken: "r"})
		checkSentinel(t, err, tc.want)
	}
}

// quirks.revocation_body json sends the RFC 7009 revocation as a JSON
// object (Notion, Intuit, monday), with the call's client
// authentication; errors there are read by quirks.error_path too.
func TestQuirkRevocationJSONBody(t *testing.T) {
	r := newRecorder(t)
	r.answer("/revoke", 200, `{}`)
	p := quirkProvider(t, r, providers.Quirks{RevocationBody: "json", RevocationAuth: "body"})
	if err := p.Revoke(t.Context(), &providers.TokenSet{AccessToken: "a", RefreshToken: "r"}); err != nil {
		t.Fatal(err)
	}
	s := r.last(t)
	var body map[string]string
	if err := json.Unmarshal([]byte(s.body), &body); err != nil {
		t.Fatalf("revoke body = %q, want a JSON object", s.body)
	}
	want := map[string]string{"token": "r", "token_type_hint": "refresh_token", "client_id": "cid", "client_secret": "csecret"}
	if len(body) != len(want) || s.header.Get("Content-Type") != "application/json" || s.header.Get("Authorization") != "" {
		t.Errorf("revoke: body %v, Content-Type %q, Authorization %q: want %v as JSON, no Basic", body, s.header.Get("Content-Type"), s.header.Get("Authorization"), want)
	}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("revoke body[%s] = %q, want %q", k, body[k], v)
		}
	}

	r = newRecorder(t)
	r.answer("/revoke", 400, `{"errors":[{"code":"token_not_found"}]}`)
	p = quirkProvider(t, r, providers.Quirks{ErrorPath: []string{"errors.0.code"}, ErrorCodes: map[string]string{"token_not_found": "invalid_grant"}})
	err := p.Revoke(t.Context(), &providers.TokenSet{AccessToken: "a", RefreshToken: "r"})
	checkSentinel(t, err, providers.ErrInvalidGrant)
}
