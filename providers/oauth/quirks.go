package oauth

import "github.com/oauth2broker/oauth2broker/providers"

// Quirks are the catalog-only ways a provider departs from RFC 6749
// (scope separator and parameter, nested paths of older entries, kept
// fields, revocation kind, callback checks). The zero value is plain RFC
// behaviour; providers/catalog fills them from its entries. The quirk
// classes a custom provider can set too live in providers.Quirks
// (Config.Config.Quirks); each class is handled once, in this package.
type Quirks struct {
	// ScopeSeparator joins scopes in the authorization URL; " " when
	// empty (RFC 6749 §3.3). Some providers want "," or "+".
	ScopeSeparator string
	// ScopeParam is the authorize parameter carrying the scopes; "scope"
	// when empty (Slack's user tokens use "user_scope").
	ScopeParam string
	// NoPKCE leaves the PKCE challenge out, for providers that refuse it.
	NoPKCE bool
	// Dot paths of the token answer's fields when they are nested
	// (Slack's "authed_user.access_token"); RFC 6749 names when empty.
	AccessTokenPath  string
	RefreshTokenPath string
	ExpiresInPath    string
	ScopePath        string
	TokenTypePath    string
	// Keep lists dot paths of answer fields handed back to the app in the
	// token set's Extra (Salesforce's instance_url, Slack's team.id).
	Keep []string
	// CallbackKeep lists callback query parameters kept the same way
	// (Intuit's realmId).
	CallbackKeep []string
	// Revocation says how to revoke; RFC 7009 at Config.RevocationURL
	// when its Kind is empty.
	Revocation Revocation
	// CallbackIssuer, when set, is the issuer that every authorization
	// response must name in its iss parameter (RFC 9207): the provider
	// advertises authorization_response_iss_parameter_supported.
	CallbackIssuer string
	// CallbackHMAC names how the provider signs its callback:
	// CallbackHMACShopify, or empty for no signature.
	CallbackHMAC string
	// PublicClient: the broker's client has no secret (an MCP server's
	// client ID metadata document, a registration with
	// token_endpoint_auth_method none), so each token and RFC 7009
	// revocation request whose client authentication is "none" carries
	// client_id in the body (RFC 6749 §3.2.1, §4.1.3; RFC 7009 §2.1).
	PublicClient bool
}

// Revocation kinds.
const (
	RevokeRFC7009     = "rfc7009"
	RevokeGitHubGrant = "github_grant"
	RevokeBearer      = "bearer"
	RevokeNone        = "none"
)

// Revocation describes a provider's revocation call: the kind, method,
// token and parameter renames a provider configuration can set too
// (providers.Revocation: Kind is RevokeRFC7009, RevokeGitHubGrant,
// RevokeBearer or RevokeNone), and the catalog's URL.
type Revocation struct {
	providers.Revocation
	// URL overrides Config.RevocationURL.
	URL string
}
