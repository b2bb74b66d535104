// Package mcp is the upstream provider of an MCP server (type mcp),
// found from the server's URL alone, as the MCP authorization spec
// describes: the server's 401 challenge (RFC 9728 resource_metadata and
// scope), its protected resource metadata, its authorization server's
// RFC 8414 metadata (with the OpenID Discovery fallbacks), cached for
// their max-age; the client pre-registered, named by a client ID
// metadata document the broker serves, or registered by RFC 7591; and
// the code flow with PKCE S256 (servers without it are refused), the
// RFC 8707 resource on every request and RFC 9207 iss checked. The flows
// themselves run on providers/oauth.
//
// It imports providers, providers/oauth and outbound only; storing a
// registration is the broker's (providers.Registrar).
package mcp
