// Package broker is the HTTP server of oauth2broker: the Gin engine, its
// routes (OAuth 2.0 endpoints per API, RFC 8414 metadata, the admin API
// and declarative apply, the connect page, webhooks and audit, health and
// metrics) and middleware (body limit, request id, access log without
// secrets, error rendering), and the wiring of the packages below it.
//
// It is the only importer of gin and of prometheus. It imports
// broker/connections, broker/grants, broker/tokens, broker/protocol,
// broker/seal, broker/secret, providers (with providers/catalog,
// providers/oauth and providers/oidc for the default opener), outbound,
// storage and go-jose (for the bench ceiling's signing); never a storage
// backend.
// Nothing in the repository imports it but cmd/oauth2broker.
package broker
