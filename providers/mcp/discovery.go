package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/oauth2broker/oauth2broker/outbound"
	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/providers/oauth"
)

// ErrNoPKCE is returned for an authorization server that does not
// advertise PKCE S256 in code_challenge_methods_supported: the MCP
// authorization spec ("Authorization Code Protection") requires the
// client to refuse to proceed.
var ErrNoPKCE error = &providers.UnusableError{Reason: "mcp: the MCP server's authorization server does not advertise PKCE S256 (code_challenge_methods_supported), which the MCP authorization spec requires"}

// Metadata is what discovery found for one MCP server.
type Metadata struct {
	// Resource is the server's canonical URI from its protected resource
	// metadata (RFC 9728 §2 resource), sent as RFC 8707 resource.
	Resource string
	// ResourceScopes are the metadata's scopes_supported.
	ResourceScopes []string
	// ChallengeScopes are the scopes of the server's 401 challenge.
	ChallengeScopes []string
	// AS is the authorization server's metadata (RFC 8414).
	AS ServerMetadata
	// Expires is when the cached metadata must be fetched again.
	Expires time.Time
}

// Scopes are the scopes to ask for when the admin configured none: the
// challenge's, else the resource metadata's (MCP authorization spec,
// "Scope Selection Strategy").
func (m *Metadata) Scopes() []string {
	if len(m.ChallengeScopes) > 0 {
		return m.ChallengeScopes
	}
	return m.ResourceScopes
}

// ServerMetadata is the part of RFC 8414 (or OpenID Discovery) metadata
// the broker uses.
type ServerMetadata struct {
	Issuer                string   `json:"issuer"`
	AuthorizationEndpoint string   `json:"authorization_endpoint"`
	TokenEndpoint         string   `json:"token_endpoint"`
	RegistrationEndpoint  string   `json:"registration_endpoint"`
	RevocationEndpoint    string   `json:"revocation_endpoint"`
	CodeChallengeMethods  []string `json:"code_challenge_methods_supported"`
	TokenAuthMethods      []string `json:"token_endpoint_auth_methods_supported"`
	// MetadataDocument advertises client ID metadata documents.
	MetadataDocument bool `json:"client_id_metadata_document_supported"`
	// IssParameter advertises RFC 9207's iss parameter.
	IssParameter bool `json:"authorization_response_iss_parameter_supported"`
}

// resourceMetadata is RFC 9728 §2's document, the fields used.
type resourceMetadata struct {
	Resource             string   `json:"resource"`
	AuthorizationServers []string `json:"authorization_servers"`
	ScopesSupported      []string `json:"scopes_supported"`
}

// discover runs discovery for serverURL without the cache.
func (d *Discoverer) discover(ctx context.Context, serverURL string) (*Metadata, error) {
	server, err := url.Parse(serverURL)
	if err != nil || server.Host == "" {
		return nil, fmt.Errorf("mcp: server_url is not an absolute URL")
	}
	ch := d.probe(ctx, serverURL)
	prm, prmExpires, err := d.resourceMetadata(ctx, server, ch)
	if err != nil {
		return nil, err
	}
	as, asExpires, err := d.serverMetadata(ctx, prm.AuthorizationServers[0])
	if err != nil {
		return nil, err
	}
	if !slices.Contains(as.CodeChallengeMethods, "S256") {
		return nil, fmt.Errorf("%w (issuer %s)", ErrNoPKCE, as.Issuer)
	}
	return &Metadata{Resource: prm.Resource, ResourceScopes: prm.ScopesSupported, ChallengeScopes: ch.Scopes,
		AS: *as, Expires: earliest(prmExpires, asExpires)}, nil
}

// probe makes the unauthenticated request an MCP client starts with (an
// initialize POST, MCP authorization spec "Authorization Server
// Location") and reads the Bearer challenge of its 401. Any other answer,
// or none, gives an empty challenge: discovery goes on at the well-known
// URLs.
func (d *Discoverer) probe(ctx context.Context, serverURL string) Challenge {
	body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"oauth2broker","version":"1"}}}`
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, serverURL, strings.NewReader(body))
	if err != nil {
		return Challenge{}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := d.post.Do(req)
	if err != nil {
		return Challenge{}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusUnauthorized {
		return Challenge{}
	}
	c, _ := ParseChallenge(resp.Header.Values("WWW-Authenticate"))
	return c
}

// resourceMetadata fetches the protected resource metadata: at the
// challenge's resource_metadata URL, else at the RFC 9728 §3.1 well-known
// URL with the server's path, then at the root one. Its resource must
// name the server (same origin, a path prefix of the server's).
func (d *Discoverer) resourceMetadata(ctx context.Context, server *url.URL, ch Challenge) (*resourceMetadata, time.Time, error) {
	candidates := []string{ch.ResourceMetadata}
	if ch.ResourceMetadata == "" {
		candidates = wellKnown(server, "oauth-protected-resource")
	}
	var lastErr error
	for _, u := range candidates {
		var prm resourceMetadata
		expires, err := d.getJSON(ctx, u, &prm)
		if err != nil {
			lastErr = err
			continue
		}
		if !namesServer(prm.Resource, server) {
			return nil, time.Time{}, fmt.Errorf("mcp: protected resource metadata at %s names resource %q, not the server %s (RFC 9728 §3.3)", u, prm.Resource, server)
		}
		if len(prm.AuthorizationServers) == 0 {
			return nil, time.Time{}, fmt.Errorf("mcp: protected resource metadata at %s lists no authorization_servers", u)
		}
		return &prm, expires, nil
	}
	return nil, time.Time{}, fmt.Errorf("mcp: no protected resource metadata for %s (RFC 9728): %w", server, lastErr)
}

// serverMetadata fetches the authorization server's metadata at the URLs
// the MCP authorization spec lists, in its order: RFC 8414 with the
// issuer's path inserted, OpenID Discovery with it inserted, then
// appended; for an issuer without a path, RFC 8414 then OpenID
// Discovery. The issuer must be the one the URL was built from
// (RFC 8414 §3.3).
func (d *Discoverer) serverMetadata(ctx context.Context, issuer string) (*ServerMetadata, time.Time, error) {
	iss, err := url.Parse(issuer)
	if err != nil || iss.Host == "" || (iss.Scheme != "https" && iss.Scheme != "http") {
		return nil, time.Time{}, fmt.Errorf("mcp: authorization server %q is not an absolute URL", issuer)
	}
	oauthURLs := wellKnown(iss, "oauth-authorization-server")
	oidcURLs := wellKnown(iss, "openid-configuration")
	candidates := []string{oauthURLs[0], oidcURLs[0]}
	if p := strings.TrimSuffix(iss.Path, "/"); p != "" {
		appended := *iss
		appended.Path = p + "/.well-known/openid-configuration"
		candidates = append(candidates, appended.String())
	}
	var lastErr error
	for _, u := range candidates {
		var m ServerMetadata
		expires, err := d.getJSON(ctx, u, &m)
		if err != nil {
			lastErr = err
			continue
		}
		if m.Issuer != issuer {
			return nil, time.Time{}, fmt.Errorf("mcp: authorization server metadata at %s names issuer %q, not %q (RFC 8414 §3.3)", u, m.Issuer, issuer)
		}
		if m.AuthorizationEndpoint == "" || m.TokenEndpoint == "" {
			return nil, time.Time{}, fmt.Errorf("mcp: authorization server metadata at %s lacks authorization_endpoint or token_endpoint", u)
		}
		if !browserURL(m.AuthorizationEndpoint) {
			return nil, time.Time{}, fmt.Errorf("mcp: authorization server metadata at %s: authorization_endpoint is not an https URL", u)
		}
		return &m, expires, nil
	}
	return nil, time.Time{}, fmt.Errorf("mcp: no authorization server metadata for %s (RFC 8414, OpenID Discovery): %w", issuer, lastErr)
}

// wellKnown returns the well-known URLs of name for u (RFC 8615, with
// RFC 9728 §3.1 and RFC 8414 §3.1 path insertion): with u's path
// inserted after the well-known segment when it has one, then at the
// root.
func wellKnown(u *url.URL, name string) []string {
	root := url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/.well-known/" + name}
	p := strings.TrimSuffix(u.EscapedPath(), "/")
	if p == "" {
		return []string{root.String()}
	}
	return []string{root.String() + p, root.String()}
}

// namesServer reports whether resource names server: the same origin,
// and a path equal to the server's or a prefix of it ending at a
// segment (RFC 9728 §3.3, as draft-mcguinness-oauth-rfc9728bis widens
// it).
func namesServer(resource string, server *url.URL) bool {
	r, err := url.Parse(resource)
	if err != nil || r.Fragment != "" || r.RawQuery != "" || r.User != nil || !strings.EqualFold(r.Scheme, server.Scheme) || !strings.EqualFold(r.Host, server.Host) {
		return false
	}
	rp, sp := strings.TrimSuffix(r.EscapedPath(), "/"), strings.TrimSuffix(server.EscapedPath(), "/")
	return rp == sp || strings.HasPrefix(sp, rp+"/")
}

// browserURL reports whether an authorization endpoint may be sent to
// users' browsers: https (OAuth 2.1 §1.5), or plain http on loopback
// (dev, tests), without fragment (RFC 6749 §3.1). The broker's own calls
// are checked by the outbound policy when made; this one is not a call.
func browserURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Fragment != "" || u.User != nil {
		return false
	}
	return u.Scheme == "https" || (u.Scheme == "http" && outbound.IsLoopbackHost(u.Hostname()))
}

// getJSON fetches a metadata document and reads it into v; it returns
// when the answer's freshness ends (Cache-Control max-age).
func (d *Discoverer) getJSON(ctx context.Context, u string, v any) (time.Time, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return time.Time{}, fmt.Errorf("mcp: %s: %w", u, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := d.get.Do(req)
	if err != nil {
		return time.Time{}, fmt.Errorf("mcp: %s: %w", u, oauth.Classify("discovery", err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return time.Time{}, fmt.Errorf("mcp: %s: %w (status %d)", u, providers.ErrUpstream, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return time.Time{}, fmt.Errorf("mcp: %s: %w: not a JSON metadata document", u, providers.ErrUpstream)
	}
	return d.now().Add(maxAge(resp.Header.Get("Cache-Control"))), nil
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
