package demomcp

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
)

// tokenAnswer is the RFC 6749 §5.1 answer.
type tokenAnswer struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

// tokenError is an RFC 6749 §5.2 error of the token endpoint.
type tokenError struct{ code, desc string }

// serveToken is the token endpoint: authorization_code (PKCE S256 and
// resource required) and refresh_token (rotating; resource required and
// equal to the one the grant is bound to).
func (d *Demo) serveToken(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxMetadataDocument)
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "the body must be a form")
		return
	}
	clientID, err := d.authenticateClient(r)
	if err != nil {
		if _, _, basic := r.BasicAuth(); basic {
			w.Header().Set("WWW-Authenticate", `Basic realm="demomcp"`)
		}
		writeError(w, http.StatusUnauthorized, "invalid_client", err.Error())
		return
	}
	var g grant
	var terr *tokenError
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		g, terr = d.exchangeCode(r, clientID)
	case "refresh_token":
		g, terr = d.refresh(r, clientID)
	default:
		terr = &tokenError{"unsupported_grant_type", "grant_type must be authorization_code or refresh_token"}
	}
	if terr != nil {
		writeError(w, http.StatusBadRequest, terr.code, terr.desc)
		return
	}
	writeJSON(w, http.StatusOK, tokenAnswer{
		AccessToken:  d.store.newAccessToken(g, d.cfg.Now().Add(d.cfg.TokenTTL)),
		TokenType:    "Bearer",
		ExpiresIn:    int64(d.cfg.TokenTTL.Seconds()),
		RefreshToken: d.store.newRefreshToken(g),
		Scope:        strings.Join(g.scopes, " "),
	})
}

// exchangeCode is RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.6) and RFC 8707.
func (d *Demo) exchangeCode(r *http.Request, clientID string) (grant, *tokenError) {
	f := r.PostForm
	c, ok := d.store.takeCode(f.Get("code"))
	switch {
	case !ok || c.clientID != clientID || !d.cfg.Now().Before(c.expires):
		return grant{}, &tokenError{"invalid_grant", "unknown, used or expired code"}
	case f.Get("redirect_uri") != c.redirectURI:
		return grant{}, &tokenError{"invalid_grant", "redirect_uri differs from the authorization request's"}
	case !pkceMatches(f.Get("code_verifier"), c.challenge):
		return grant{}, &tokenError{"invalid_grant", "code_verifier does not match the code_challenge"}
	case f.Get("resource") != c.resource:
		return grant{}, &tokenError{"invalid_target", "resource is required and must be the authorization request's (RFC 8707)"}
	}
	d.store.count(func(s *Stats) { s.CodeExchanges++ })
	return c.grant, nil
}

// refresh is RFC 6749 §6: the refresh token is used once and replaced;
// a scope parameter may narrow the grant, never widen it. A request
// refused for its resource or scope does not use the token up.
func (d *Demo) refresh(r *http.Request, clientID string) (grant, *tokenError) {
	f := r.PostForm
	g, ok := d.store.refreshToken(f.Get("refresh_token"), clientID)
	if !ok {
		return grant{}, &tokenError{"invalid_grant", "unknown or used refresh token"}
	}
	if f.Get("resource") != g.resource {
		return grant{}, &tokenError{"invalid_target", "resource is required and must be the grant's (RFC 8707)"}
	}
	if s := f.Get("scope"); s != "" {
		narrowed, ok := d.parseScopes(s, g.scopes)
		if !ok {
			return grant{}, &tokenError{"invalid_scope", "scope exceeds the grant"}
		}
		g.scopes = narrowed
	}
	if _, ok := d.store.takeRefreshToken(f.Get("refresh_token"), clientID); !ok {
		return grant{}, &tokenError{"invalid_grant", "unknown or used refresh token"}
	}
	d.store.count(func(s *Stats) { s.Refreshes++ })
	return g, nil
}

// pkceMatches checks an S256 code_verifier against its challenge.
func pkceMatches(verifier, challenge string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}

// serveRevoke is RFC 7009: the client authenticates; revoking an unknown
// token, or one of another client, answers 200 all the same.
func (d *Demo) serveRevoke(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxMetadataDocument)
	if err := r.ParseForm(); err != nil || r.PostForm.Get("token") == "" {
		writeError(w, http.StatusBadRequest, "invalid_request", "token is required")
		return
	}
	clientID, err := d.authenticateClient(r)
	if err != nil {
		writeError(w, http.StatusUnauthorized, "invalid_client", err.Error())
		return
	}
	d.store.revoke(r.PostForm.Get("token"), clientID)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}
