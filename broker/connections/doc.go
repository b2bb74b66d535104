// Package connections runs the federation side of the broker: the upstream
// authorization-code flow (one-time state, PKCE S256, OIDC nonce), the
// callback that stores a connection, serving a connection's tokens with
// exactly one upstream refresh at a time per connection (in-process
// single-flight plus a compare-and-swap on the record's version), the
// needs_reauth and degraded states, and revocation.
//
// Its failures are broker/connerr errors, said without HTTP: connerr maps
// them to RFC 6749 answers. It imports providers, storage, broker/seal and
// broker/connerr; never broker/protocol (connerr alone speaks it), gin,
// broker or the provider implementations (they arrive as an Opener).
package connections
