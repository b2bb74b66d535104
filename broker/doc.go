// Package broker is the HTTP server of oauth2broker: the Gin engine, its
// routes (OAuth 2.0 endpoints per API, RFC 8414 metadata, the connect
// page, webhooks and audit, health and metrics; the admin API and the
// declarative apply are broker/admin's, mounted here) and middleware
// (body limit, request id, access log without secrets, error rendering),
// and the wiring of the packages below it.
//
// With broker/admin it is the only importer of gin; it is the only one
// of prometheus. It imports broker/admin, broker/connections,
// broker/grants, broker/tokens, broker/protocol, broker/seal,
// broker/secret, providers (with providers/catalog, providers/oauth and
// providers/oidc for the default opener), outbound, storage and go-jose
// (for the bench ceiling's signing); never a storage backend.
// Nothing in the repository imports it but cmd/oauth2broker.
package broker
