// Package broker is the HTTP server of oauth2broker: the Gin engine, its
// middleware (body limit, request id, access log without secrets, error
// rendering, which maps connection errors with broker/connerr), the
// OAuth 2.0 and provider-federation routes per API, RFC 8414 metadata,
// health, readiness and metrics, and the wiring of the packages below it:
// the admin API and declarative apply (broker/admin, mounted here), the
// connect page (broker/connectpage), audit and webhooks (broker/events),
// the reseal after a key rotation (broker/reseal), and periodic jobs and
// leader election (broker/jobs). The token-path index, readiness and the
// store watch that drops caches stay here.
//
// Only it and the broker/* packages import gin; only it imports
// prometheus. It imports broker/*, providers, providers/catalog,
// providers/oauth (for a default timeout), outbound, storage and
// storage/lastknown; never another storage backend nor cmd. Nothing in
// the repository imports it but cmd/oauth2broker (layering_test.go at the
// repository root checks these rules).
package broker
