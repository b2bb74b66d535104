// Package broker is the HTTP server of oauth2broker: the Gin engine, its
// middleware (body limit, request id, access log without secrets, error
// rendering, which maps connection errors with broker/connerr), the
// OAuth 2.0 and provider-federation routes per API, RFC 8414 metadata,
// health, readiness and metrics, and the wiring of the packages below it.
// The admin API and declarative apply, the token-path index and the
// wiring of the background work (garbage collection, refresh ahead, the
// store watch that drops caches) still live here; the connect page is
// broker/connectpage, audit and webhooks are broker/events, the reseal
// after a key rotation is broker/reseal, and periodic jobs and leader
// election are broker/jobs.
//
// Only it and the broker/* packages import gin; only it imports
// prometheus. It imports broker/*, providers, providers/catalog,
// providers/oauth (for a default timeout), outbound, storage and
// storage/lastknown; never another storage backend nor cmd. Nothing in the repository imports it but cmd/oauth2broker
// (layering_test.go at the repository root checks these rules).
package broker
