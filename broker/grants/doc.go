// Package grants implements the token endpoint: one Grant per grant_type,
// each in its own file, and the Dispatcher that authenticates the client,
// checks that it may use the grant, checks the scope and the tenant, and
// only then runs the grant. Grants return values and never write HTTP.
//
// It imports broker/connections (the token-exchange grant serves a
// connection's tokens), broker/jsonw, broker/protocol, broker/seal,
// broker/secret, broker/tokens and storage; never gin, broker or a
// storage backend.
package grants
