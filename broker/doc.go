// Package broker is the HTTP server of oauth2broker: the Gin engine, its
// routes (OAuth 2.0 endpoints per API, RFC 8414 metadata, the admin API,
// health) and middleware (body limit, request id, access log without
// secrets, error rendering).
//
// It is the only importer of gin. It builds on broker/grants,
// broker/tokens, broker/protocol, broker/seal, broker/secret, providers,
// outbound and storage; nothing below it imports it.
package broker
