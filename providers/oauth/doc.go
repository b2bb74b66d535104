// Package oauth is the generic upstream OAuth 2.0 provider, built on
// golang.org/x/oauth2: explicit endpoints, client authentication in the
// header or the body, extra authorize parameters, PKCE S256, refresh, and
// RFC 7009 revocation. providers/oidc and providers/catalog build on it.
//
// It imports providers, outbound (no redirects, bounded answers) and
// x/oauth2 only.
package oauth
