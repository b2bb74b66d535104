package providers

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Registration kinds: how the broker is known as a client at an MCP
// server's authorization server, in the MCP authorization spec's order of
// preference (client registration, "priority order").
const (
	// RegistrationPreRegistered is the client the admin configured
	// (Config.ClientID).
	RegistrationPreRegistered = "pre_registered"
	// RegistrationMetadataDocument is a client ID metadata document: the
	// client_id is the HTTPS URL where the broker serves it
	// (draft-ietf-oauth-client-id-metadata-document), used when the
	// authorization server advertises client_id_metadata_document_supported.
	RegistrationMetadataDocument = "client_id_metadata_document"
	// RegistrationDynamic is an RFC 7591 dynamic client registration.
	RegistrationDynamic = "dynamic"
)

// Registration is how the broker is known as a client at an MCP server's
// authorization server. The broker stores it sealed beside the provider
// (it may hold a client secret) and hands it back in Config.Registration
// when it opens the provider again.
type Registration struct {
	// Kind is one of the Registration* kinds.
	Kind string `json:"kind"`
	// Issuer is the authorization server the client belongs to: a client
	// is never used at another one (MCP authorization spec, "Clients MUST
	// maintain separate registration state per authorization server").
	Issuer string `json:"issuer"`
	// Resource is the MCP server's canonical URI (RFC 8707).
	Resource string `json:"resource,omitempty"`
	// RedirectURI is the broker callback the client was registered with.
	RedirectURI string `json:"redirect_uri,omitempty"`
	ClientID    string `json:"client_id"`
	// ClientSecret is RFC 7591's client_secret, when the server issued
	// one; never shown.
	ClientSecret string `json:"client_secret,omitempty"`
	// TokenEndpointAuthMethod is the registered client authentication:
	// "none" (a public client, the default), "client_secret_basic" or
	// "client_secret_post".
	TokenEndpointAuthMethod string `json:"token_endpoint_auth_method,omitempty"`
	// IssuedAt is when the client was registered; ExpiresAt when its
	// secret expires (RFC 7591 client_secret_expires_at; zero: never).
	IssuedAt  time.Time `json:"issued_at,omitzero"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// Discovered is what a provider view shows of a Registration: never the
// secret.
type Discovered struct {
	// Issuer is the authorization server the broker found.
	Issuer string `json:"issuer"`
	// Resource is the MCP server's canonical URI (RFC 8707).
	Resource string `json:"resource,omitempty"`
	// Registration is the registration kind.
	Registration string    `json:"registration"`
	ClientID     string    `json:"client_id"`
	ExpiresAt    time.Time `json:"expires_at,omitzero"`
}

// Discovered returns the view of r.
func (r Registration) Discovered() *Discovered {
	return &Discovered{Issuer: r.Issuer, Resource: r.Resource, Registration: r.Kind, ClientID: r.ClientID, ExpiresAt: r.ExpiresAt}
}

// SameClient reports whether r and o name the same client at the same
// server (what a view shows), whatever their secrets.
func (r Registration) SameClient(o Registration) bool {
	return r.Kind == o.Kind && r.Issuer == o.Issuer && r.Resource == o.Resource && r.ClientID == o.ClientID &&
		r.RedirectURI == o.RedirectURI && r.ExpiresAt.Equal(o.ExpiresAt)
}

// Registrar is a Provider that the broker must register as a client
// before use (an MCP server's: a client ID metadata document or RFC 7591
// dynamic registration). The broker stores the registration sealed,
// makes it once across replicas, and opens the provider again with it in
// Config.Registration.
type Registrar interface {
	// Registration returns the registration the provider uses (for the
	// view) and whether the broker must register first: none yet, its
	// secret expires within lead of now, or it was made for another
	// authorization server, resource or redirect URI.
	Registration(redirectURI string, lead time.Duration) (r Registration, needed bool)
	// Register makes a registration for redirectURI: a client ID metadata
	// document when the authorization server supports one and
	// Config.ClientMetadataURL is set, else RFC 7591 dynamic registration.
	// It does not change the provider. It may be called concurrently; the
	// broker keeps one result.
	Register(ctx context.Context, redirectURI string) (*Registration, error)
}

// UnusableError is an upstream the broker refuses to use, for a reason
// it can tell the app and the admin (Reason holds no secret): an MCP
// server whose authorization server lacks PKCE S256, or offers the broker
// no way to become its client.
type UnusableError struct {
	Reason string
}

func (e *UnusableError) Error() string { return e.Reason }

// ScopeAdvertiser is a Provider whose upstream advertises the scopes an
// app may ask for (an MCP server's protected resource metadata
// scopes_supported and its challenge's scope): the broker allows them at
// authorize besides the configured scopes and allowed_scopes.
type ScopeAdvertiser interface {
	AdvertisedScopes() []string
}

// Expiring is a Provider built on metadata that goes stale (an MCP
// server's discovery, kept for its max-age): the broker opens it again
// after Expires.
type Expiring interface {
	Expires() time.Time
}

// validateMCP checks the settings of an MCP provider: a server URL and
// no endpoint, which discovery finds; the error names the field.
func (c Config) validateMCP() error {
	if err := checkURL("server_url", c.ServerURL, true); err != nil {
		return err
	}
	if u, _ := url.Parse(c.ServerURL); u.RawQuery != "" || u.User != nil {
		return errors.New("providers: server_url must have no query and no user info")
	}
	for _, f := range []struct{ name, value string }{
		{"issuer", c.Issuer}, {"auth_url", c.AuthURL}, {"token_url", c.TokenURL},
		{"revocation_url", c.RevocationURL}, {"userinfo_url", c.UserinfoURL},
	} {
		if f.value != "" {
			return fmt.Errorf("providers: %s: type %s discovers its endpoints from server_url; leave it out", f.name, TypeMCP)
		}
	}
	if c.ClientSecret != "" && c.ClientID == "" {
		return errors.New("providers: client_secret needs client_id (a client pre-registered at the MCP server's authorization server)")
	}
	if c.Callback == CallbackShared {
		// The authorization server is whatever the MCP server names: its
		// own redirect URI keeps a code it sends from being redeemed for
		// another provider's flow, or another's for its (mix-up, RFC 9700
		// §4.4.2), whether or not it sends iss.
		return fmt.Errorf("providers: callback: type %s needs its own callback (%q), distinct from other providers'", TypeMCP, CallbackOwn)
	}
	return nil
}
