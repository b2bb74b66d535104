// Package tokens issues and checks the broker's own tokens: RFC 9068 JWT
// access tokens signed with per-API keys (generated on first use, sealed at
// rest, rotated with the old key kept in the JWKS until its tokens expire),
// opaque refresh tokens that rotate on every use with reuse detection, RFC
// 7009 revocation records and RFC 7662 introspection.
//
// It imports storage, broker/seal, broker/jsonw and go-jose; never gin or
// broker.
package tokens
