package demomcp

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// authServerMetadata is the RFC 8414 document, with the fields the MCP
// authorization specification reads.
type authServerMetadata struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	RegistrationEndpoint              string   `json:"registration_endpoint,omitempty"`
	RevocationEndpoint                string   `json:"revocation_endpoint"`
	ScopesSupported                   []string `json:"scopes_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	ClientIDMetadataDocumentSupported bool     `json:"client_id_metadata_document_supported"`
	IssParameterSupported             bool     `json:"authorization_response_iss_parameter_supported"`
}

// serveAuthServerMetadata answers RFC 8414 §3 (served at the path-inserted
// well-known URL of the issuer BaseURL/as).
func (d *Demo) serveAuthServerMetadata(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, authServerMetadata{
		Issuer:                            d.Issuer,
		AuthorizationEndpoint:             d.AuthorizeURL,
		TokenEndpoint:                     d.TokenURL,
		RegistrationEndpoint:              d.RegistrationURL,
		RevocationEndpoint:                d.RevocationURL,
		ScopesSupported:                   d.Scopes,
		ResponseTypesSupported:            []string{"code"},
		GrantTypesSupported:               []string{"authorization_code", "refresh_token"},
		TokenEndpointAuthMethodsSupported: []string{"client_secret_basic", "client_secret_post", "none"},
		CodeChallengeMethodsSupported:     []string{"S256"},
		ClientIDMetadataDocumentSupported: !d.cfg.DisableCIMD,
		IssParameterSupported:             true,
	})
}

// serveAuthorize is the authorization endpoint (RFC 6749 §4.1.1 with
// OAuth 2.1's rules). Until the client and its redirect_uri are known to
// be good, errors are answered here (400); after, they go back to the
// redirect_uri (§4.1.2.1), always with iss (RFC 9207). A valid request is
// approved without a page: see Config.Approve.
func (d *Demo) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	clientID, redirectURI := q.Get("client_id"), q.Get("redirect_uri")
	client, err := d.lookupClient(r, clientID)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_client", err.Error())
		return
	}
	if !slices.Contains(client.redirectURIs, redirectURI) {
		writeError(w, http.StatusBadRequest, "invalid_request", "redirect_uri is not registered for this client")
		return
	}
	back := func(params url.Values) {
		params.Set("iss", d.Issuer)
		if s := q.Get("state"); s != "" {
			params.Set("state", s)
		}
		http.Redirect(w, r, withQuery(redirectURI, params), http.StatusFound)
	}
	req, errCode, desc := d.checkAuthorize(q)
	if errCode != "" {
		back(url.Values{"error": {errCode}, "error_description": {desc}})
		return
	}
	req.ClientID, req.RedirectURI = clientID, redirectURI
	subject, err := d.approve(req)
	if err != nil {
		back(url.Values{"error": {"access_denied"}, "error_description": {err.Error()}})
		return
	}
	g := grant{id: random(), subject: subject, clientID: clientID, resource: req.Resource, scopes: req.Scopes}
	v := d.store.newCode(code{grant: g, redirectURI: redirectURI, challenge: q.Get("code_challenge"),
		expires: d.cfg.Now().Add(codeTTL)})
	back(url.Values{"code": {v}})
}

// checkAuthorize checks the parameters other than the client's; it
// answers an RFC 6749 §4.1.2.1 error code and description, or the request.
func (d *Demo) checkAuthorize(q url.Values) (AuthorizeRequest, string, string) {
	switch {
	case q.Get("response_type") != "code":
		return AuthorizeRequest{}, "unsupported_response_type", "response_type must be code"
	case q.Get("code_challenge") == "":
		return AuthorizeRequest{}, "invalid_request", "PKCE is required: code_challenge is missing"
	case q.Get("code_challenge_method") != "S256":
		return AuthorizeRequest{}, "invalid_request", "code_challenge_method must be S256"
	case q.Get("resource") == "":
		return AuthorizeRequest{}, "invalid_target", "resource is required (RFC 8707)"
	case q.Get("resource") != d.Resource:
		return AuthorizeRequest{}, "invalid_target", "unknown resource"
	}
	scopes, ok := d.parseScopes(q.Get("scope"), d.Scopes)
	if !ok {
		return AuthorizeRequest{}, "invalid_scope", "unknown scope"
	}
	return AuthorizeRequest{LoginHint: q.Get("login_hint"), Resource: d.Resource, Scopes: scopes}, "", ""
}

// parseScopes splits a scope parameter, every value of which must be in
// allowed; an empty one means the base scope.
func (d *Demo) parseScopes(s string, allowed []string) ([]string, bool) {
	scopes := strings.Fields(s)
	if len(scopes) == 0 {
		return []string{d.cfg.BaseScope}, true
	}
	for _, sc := range scopes {
		if !slices.Contains(allowed, sc) {
			return nil, false
		}
	}
	slices.Sort(scopes)
	return slices.Compact(scopes), true
}

// approve is the non-interactive login.
func (d *Demo) approve(req AuthorizeRequest) (string, error) {
	if d.cfg.Approve != nil {
		return d.cfg.Approve(req)
	}
	if req.LoginHint != "" {
		return req.LoginHint, nil
	}
	return d.cfg.User, nil
}

// withQuery adds params to the query of u (a registered redirect URI,
// which may have a query of its own).
func withQuery(u string, params url.Values) string {
	parsed, err := url.Parse(u)
	if err != nil {
		return u
	}
	q := parsed.Query()
	for k, v := range params {
		q[k] = v
	}
	parsed.RawQuery = q.Encode()
	return parsed.String()
}

// writeJSON answers v with no-store (every answer of this server is
// either a token or not worth caching).
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers an RFC 6749 §5.2 error.
func writeError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}
