// Package ceiling serves the Gin routes that `oauth2broker bench`
// compares the broker with: a bare route answering a constant JSON body
// (the HTTP ceiling of any Gin server on the machine), and a route that
// does what every token answer must (read a form and HTTP Basic
// credentials, build seven claims, make one ES256 signature, answer
// JSON), the ceiling of issuing a fresh JWT per request.
//
// It owns those two routes and nothing else. It imports gin (it is a
// broker package: layering_test.go keeps gin there) and broker/tokens for
// the signature; never the broker, storage or providers.
package ceiling
