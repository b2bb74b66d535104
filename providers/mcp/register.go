package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/providers/oauth"
)

// ErrNoRegistration is returned when the authorization server offers the
// broker no way to become its client: no client ID metadata document
// (or the broker has no https public URL to serve one) and no
// registration_endpoint. An admin must configure a pre-registered
// client_id.
var ErrNoRegistration error = &providers.UnusableError{Reason: "mcp: the MCP server's authorization server supports neither a client ID metadata document the broker can serve (that needs an https public URL) nor dynamic registration (registration_endpoint); configure a pre-registered client_id"}

// ClientName is the client_name the broker gives in its client metadata.
const ClientName = "oauth2broker"

// ClientMetadata is the client metadata the broker declares: its client
// ID metadata document (a public client using PKCE), or the body of an
// RFC 7591 §2 registration (with ClientID empty).
type ClientMetadata struct {
	ClientID                string   `json:"client_id,omitempty"`
	ClientName              string   `json:"client_name"`
	RedirectURIs            []string `json:"redirect_uris"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	Scope                   string   `json:"scope,omitempty"`
}

// NewClientMetadata returns the broker's client metadata for a provider
// whose callback is redirectURI.
func NewClientMetadata(clientID, redirectURI string) ClientMetadata {
	return ClientMetadata{
		ClientID: clientID, ClientName: ClientName, RedirectURIs: []string{redirectURI},
		GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"},
		TokenEndpointAuthMethod: "none",
	}
}

// registrationAuthMethod is the client authentication a dynamic
// registration asks for: the broker keeps secrets, so a confidential
// client (client_secret_basic, RFC 8414's default when the server lists
// none, else client_secret_post), and a public one ("none") only when
// the server offers nothing else.
func registrationAuthMethod(supported []string) string {
	if len(supported) == 0 || slices.Contains(supported, "client_secret_basic") {
		return "client_secret_basic"
	}
	if slices.Contains(supported, "client_secret_post") {
		return "client_secret_post"
	}
	return "none"
}

// registrationAnswer is RFC 7591 §3.2.1's answer, the fields used.
type registrationAnswer struct {
	ClientID                string `json:"client_id"`
	ClientSecret            string `json:"client_secret"`
	ClientSecretExpiresAt   int64  `json:"client_secret_expires_at"`
	ClientIDIssuedAt        int64  `json:"client_id_issued_at"`
	TokenEndpointAuthMethod string `json:"token_endpoint_auth_method"`
	// RedirectURIs are the redirect URIs the server registered, which
	// RFC 7591 §3.2.1 lets it change from those asked for.
	RedirectURIs []string `json:"redirect_uris"`
}

// registerRequest is what a registration is for.
type registerRequest struct {
	// metadataURL is where the broker serves the client ID metadata
	// document; empty when it serves none.
	metadataURL, redirectURI string
}

// usableMetadataURL reports whether the broker can name its client by
// metadataURL: https with a path (draft-ietf-oauth-client-id-metadata-document
// §3), or plain http on loopback, where only a local (dev, test)
// authorization server can fetch it.
func (r registerRequest) usableMetadataURL() bool {
	u, err := url.Parse(r.metadataURL)
	return err == nil && u.Path != "" && u.Path != "/" && browserURL(r.metadataURL)
}

// register makes a registration for r's redirect URI at md's
// authorization server: a client ID metadata document when the server
// advertises them and the broker serves one, else RFC 7591 dynamic
// registration (MCP authorization spec, client registration "priority
// order").
func register(ctx context.Context, client *http.Client, now time.Time, md *Metadata, r registerRequest) (*providers.Registration, error) {
	redirectURI := r.redirectURI
	reg := &providers.Registration{Issuer: md.AS.Issuer, Resource: md.Resource, RedirectURI: redirectURI, IssuedAt: now}
	if md.AS.MetadataDocument && r.usableMetadataURL() {
		reg.Kind, reg.ClientID, reg.TokenEndpointAuthMethod = providers.RegistrationMetadataDocument, r.metadataURL, "none"
		return reg, nil
	}
	if md.AS.RegistrationEndpoint == "" {
		return nil, fmt.Errorf("%w (issuer %s)", ErrNoRegistration, md.AS.Issuer)
	}
	cm := NewClientMetadata("", redirectURI)
	cm.TokenEndpointAuthMethod = registrationAuthMethod(md.AS.TokenAuthMethods)
	a, err := postRegistration(ctx, client, md.AS.RegistrationEndpoint, cm)
	if err != nil {
		return nil, err
	}
	reg.Kind, reg.ClientID, reg.ClientSecret = providers.RegistrationDynamic, a.ClientID, a.ClientSecret
	reg.TokenEndpointAuthMethod = a.TokenEndpointAuthMethod
	if reg.TokenEndpointAuthMethod == "" {
		reg.TokenEndpointAuthMethod = "none"
		if a.ClientSecret != "" {
			reg.TokenEndpointAuthMethod = "client_secret_basic" // RFC 7591 §2's default
		}
	}
	if a.ClientIDIssuedAt > 0 {
		reg.IssuedAt = time.Unix(a.ClientIDIssuedAt, 0).UTC()
	}
	if a.ClientSecretExpiresAt > 0 {
		reg.ExpiresAt = time.Unix(a.ClientSecretExpiresAt, 0).UTC()
	}
	return reg, nil
}

// postRegistration sends an RFC 7591 §3.1 registration request; it
// follows no redirect and reads a bounded answer.
func postRegistration(ctx context.Context, client *http.Client, endpoint string, cm ClientMetadata) (*registrationAnswer, error) {
	body, err := json.Marshal(cm)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("mcp: registration: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, oauth.Classify("registration", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body) // bounded by outbound.Guard
	if err != nil {
		return nil, oauth.Classify("registration", err)
	}
	var a registrationAnswer
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(raw, &e)
		return nil, fmt.Errorf("mcp: registration: %w (status %d, error %q)", registrationError(resp.StatusCode), resp.StatusCode, oauth.SafeCode(e.Error))
	}
	if err := json.Unmarshal(raw, &a); err != nil || a.ClientID == "" {
		return nil, fmt.Errorf("mcp: registration: %w: the answer has no client_id", providers.ErrUpstream)
	}
	// A client whose codes may go to other redirect URIs than the
	// broker's callback is not the broker's alone: refused.
	if a.RedirectURIs != nil && !slices.Equal(a.RedirectURIs, cm.RedirectURIs) {
		return nil, fmt.Errorf("mcp: registration: %w: the server registered other redirect_uris than the broker's callback", providers.ErrUpstream)
	}
	return &a, nil
}

func registrationError(status int) error {
	if status >= 500 || status == http.StatusTooManyRequests {
		return providers.ErrUnavailable
	}
	return providers.ErrUpstream
}
