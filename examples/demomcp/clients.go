package demomcp

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// maxMetadataDocument bounds a fetched client ID metadata document and a
// registration request.
const maxMetadataDocument = 64 << 10

// lookupClient finds a registered client, or, when id is a URL and client
// ID metadata documents are on, fetches its document.
func (d *Demo) lookupClient(r *http.Request, id string) (clientRecord, error) {
	if id == "" {
		return clientRecord{}, errors.New("client_id is missing")
	}
	if c, ok := d.store.client(id); ok {
		return c, nil
	}
	if d.cfg.DisableCIMD || !strings.Contains(id, "://") {
		return clientRecord{}, errors.New("unknown client")
	}
	d.store.count(func(s *Stats) { s.MetadataDocumentFetches++ })
	c, err := d.fetchMetadataDocument(r, id)
	if err != nil {
		return clientRecord{}, fmt.Errorf("client ID metadata document: %w", err)
	}
	return c, nil
}

// metadataDocument is the part of a client ID metadata document (and of
// an RFC 7591 registration request) this server reads.
type metadataDocument struct {
	ClientID                string   `json:"client_id"`
	ClientName              string   `json:"client_name"`
	RedirectURIs            []string `json:"redirect_uris"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	Scope                   string   `json:"scope"`
	ClientSecret            string   `json:"client_secret"`
}

// fetchMetadataDocument fetches and checks the document at id
// (draft-ietf-oauth-client-id-metadata-document §3, §4): an https URL
// with a path (or a loopback http one), whose document names id as its
// client_id, lists redirect URIs and holds no secret. Such a client is
// public: it authenticates with PKCE alone.
func (d *Demo) fetchMetadataDocument(r *http.Request, id string) (clientRecord, error) {
	if err := checkClientIDURL(id); err != nil {
		return clientRecord{}, err
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, id, nil)
	if err != nil {
		return clientRecord{}, errors.New("bad URL")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := d.cfg.HTTPClient.Do(req)
	if err != nil {
		return clientRecord{}, errors.New("fetch failed")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return clientRecord{}, fmt.Errorf("fetch answered %d", resp.StatusCode)
	}
	var doc metadataDocument
	if err := decodeBounded(resp.Body, &doc); err != nil {
		return clientRecord{}, err
	}
	switch {
	case doc.ClientID != id:
		return clientRecord{}, errors.New("client_id in the document differs from its URL")
	case doc.ClientSecret != "" || strings.HasPrefix(doc.TokenEndpointAuthMethod, "client_secret"):
		return clientRecord{}, errors.New("a metadata document client cannot use a client secret")
	case doc.TokenEndpointAuthMethod != "" && doc.TokenEndpointAuthMethod != "none":
		return clientRecord{}, errors.New("only token_endpoint_auth_method none is supported")
	case len(doc.RedirectURIs) == 0:
		return clientRecord{}, errors.New("redirect_uris is missing")
	}
	return clientRecord{id: id, name: doc.ClientName, redirectURIs: doc.RedirectURIs}, nil
}

// checkClientIDURL applies §3 of the client ID metadata document draft:
// https (or http on a loopback host), a path, no fragment, no user info,
// no dot segments.
func checkClientIDURL(id string) error {
	u, err := url.Parse(id)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" || strings.Contains(id, "#") {
		return errors.New("client_id is not a valid URL")
	}
	if u.Scheme != "https" && (u.Scheme != "http" || !isLoopback(u.Hostname())) {
		return errors.New("client_id must be an https URL")
	}
	if u.Path == "" || u.Path == "/" || slices.ContainsFunc(strings.Split(u.Path, "/"),
		func(s string) bool { return s == "." || s == ".." }) {
		return errors.New("client_id URL needs a path without dot segments")
	}
	return nil
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// decodeBounded decodes a JSON body of at most maxMetadataDocument bytes.
func decodeBounded(r io.Reader, v any) error {
	body, err := io.ReadAll(io.LimitReader(r, maxMetadataDocument+1))
	if err != nil {
		return errors.New("read failed")
	}
	if len(body) > maxMetadataDocument {
		return errors.New("document too large")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return errors.New("not a JSON object")
	}
	return nil
}

// registration is the RFC 7591 §3.2.1 answer.
type registration struct {
	ClientID                string   `json:"client_id"`
	ClientSecret            string   `json:"client_secret,omitempty"`
	ClientIDIssuedAt        int64    `json:"client_id_issued_at"`
	ClientSecretExpiresAt   *int64   `json:"client_secret_expires_at,omitempty"`
	ClientName              string   `json:"client_name,omitempty"`
	RedirectURIs            []string `json:"redirect_uris"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
}

// serveRegister is RFC 7591 dynamic client registration (open: no initial
// access token). A confidential client gets a secret that expires after
// Config.ClientSecretTTL (client_secret_expires_at, 0 for never).
func (d *Demo) serveRegister(w http.ResponseWriter, r *http.Request) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeError(w, http.StatusBadRequest, "invalid_client_metadata", "the body must be application/json")
		return
	}
	var m metadataDocument
	if err := decodeBounded(r.Body, &m); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_client_metadata", err.Error())
		return
	}
	code, desc := checkRegistration(&m)
	if code != "" {
		writeError(w, http.StatusBadRequest, code, desc)
		return
	}
	now := d.cfg.Now()
	c := clientRecord{id: "dcr-" + random(), name: m.ClientName, redirectURIs: m.RedirectURIs}
	ans := registration{ClientID: c.id, ClientIDIssuedAt: now.Unix(), ClientName: m.ClientName,
		RedirectURIs: m.RedirectURIs, TokenEndpointAuthMethod: m.TokenEndpointAuthMethod,
		GrantTypes: m.GrantTypes, ResponseTypes: []string{"code"}}
	if m.TokenEndpointAuthMethod != "none" {
		c.secret = random()
		var exp int64
		if d.cfg.ClientSecretTTL > 0 {
			c.secretExpires = now.Add(d.cfg.ClientSecretTTL)
			exp = c.secretExpires.Unix()
		}
		ans.ClientSecret, ans.ClientSecretExpiresAt = c.secret, &exp
	}
	d.store.addClient(c)
	d.store.count(func(s *Stats) { s.Registrations++ })
	writeJSON(w, http.StatusCreated, ans)
}

// checkRegistration checks registration metadata (RFC 7591 §2, §3.2.2)
// and fills in its defaults.
func checkRegistration(m *metadataDocument) (code, desc string) {
	if len(m.RedirectURIs) == 0 {
		return "invalid_redirect_uri", "redirect_uris is required"
	}
	for _, u := range m.RedirectURIs {
		p, err := url.Parse(u)
		if err != nil || p.Fragment != "" || (p.Scheme != "https" && (p.Scheme != "http" || !isLoopback(p.Hostname()))) {
			return "invalid_redirect_uri", "redirect URIs must be https (or http on a loopback host), without a fragment"
		}
	}
	if m.TokenEndpointAuthMethod == "" {
		m.TokenEndpointAuthMethod = "client_secret_basic"
	}
	if !slices.Contains([]string{"none", "client_secret_basic", "client_secret_post"}, m.TokenEndpointAuthMethod) {
		return "invalid_client_metadata", "unsupported token_endpoint_auth_method"
	}
	if len(m.GrantTypes) == 0 {
		m.GrantTypes = []string{"authorization_code"}
	}
	for _, g := range m.GrantTypes {
		if g != "authorization_code" && g != "refresh_token" {
			return "invalid_client_metadata", "unsupported grant type " + g
		}
	}
	if len(m.ResponseTypes) > 0 && !slices.Equal(m.ResponseTypes, []string{"code"}) {
		return "invalid_client_metadata", "response_types must be [code]"
	}
	return "", ""
}

// authenticateClient authenticates the client of a token or revocation
// request (RFC 6749 §2.3): HTTP Basic or client_secret in the body for a
// confidential client, the client_id alone for a public one. It answers
// the client id, or an error message for invalid_client.
func (d *Demo) authenticateClient(r *http.Request) (string, error) {
	id, secret, basic := r.BasicAuth()
	if basic {
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil || r.PostForm.Has("client_secret") {
			return "", errors.New("bad client credentials")
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id == "" {
		return "", errors.New("client authentication is missing")
	}
	c, ok := d.store.client(id)
	if !ok {
		if d.cfg.DisableCIMD || checkClientIDURL(id) != nil || secret != "" {
			return "", errors.New("unknown client")
		}
		return id, nil // a metadata document client: public, bound to its codes and tokens
	}
	return id, d.checkSecret(c, secret)
}

// checkSecret checks the secret a client presented against its record.
func (d *Demo) checkSecret(c clientRecord, secret string) error {
	switch {
	case c.secret == "" && secret == "":
		return nil
	case c.secret == "" || secret == "":
		return errors.New("wrong client authentication method")
	case subtle.ConstantTimeCompare([]byte(c.secret), []byte(secret)) != 1:
		return errors.New("wrong client secret")
	case !c.secretExpires.IsZero() && !d.cfg.Now().Before(c.secretExpires):
		return errors.New("client secret expired")
	}
	return nil
}
