// Package demomcp runs, in-process, a demo MCP server protected as the MCP
// authorization specification (2025-06-18, 2025-11-25) says, together with
// the small OAuth 2.1 authorization server that guards it. It is what
// `oauth2broker dev` offers as its demo MCP server, and what the tests of
// the broker's proxy and of its "mcp" provider type run against.
//
// The resource server is the official Go SDK's (github.com/modelcontextprotocol/go-sdk):
// its server, its Streamable HTTP handler and its bearer-token middleware.
// It answers an unauthenticated request 401 with
// `WWW-Authenticate: Bearer resource_metadata="…", scope="…"`, serves its
// RFC 9728 protected resource metadata at the well-known URLs, and answers
// a tool call whose token lacks the tool's scope 403 with an
// `error="insufficient_scope"` challenge naming the scopes needed.
//
// The authorization server publishes RFC 8414 metadata and serves the
// authorization code grant with PKCE S256 required, rotating refresh
// tokens, RFC 8707 resource indicators (required, bound into the token),
// RFC 9207 `iss` on every authorization response, RFC 7009 revocation,
// client ID metadata documents (fetched from an https or loopback URL)
// and RFC 7591 dynamic registration, next to pre-registered clients. Its
// login is not interactive: it approves every valid request as the
// configured user (or the request's login_hint), or asks Config.Approve.
//
// It is not a production server: clients, grants and tokens are opaque
// random strings kept in memory and vanish with the process.
//
// It imports no package of this module: it is a program other code runs.
package demomcp
