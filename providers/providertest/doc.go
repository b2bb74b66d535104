// Package providertest gives tests of the broker real upstreams to talk to,
// in-process and bound to 127.0.0.1 only:
//
//   - [StartOP] runs the example OpenID provider shipped with
//     github.com/zitadel/oidc/v3 (example/server/exampleop and its in-memory
//     example/server/storage) with one confidential web client, and
//     [OP.Login] drives its login page like a browser.
//   - [NewFake] runs a small hand-written OAuth 2.0 upstream whose answers a
//     test switches per case (form-encoded or mislabelled token answers,
//     missing expires_in, invalid_grant, 5xx, hangs, refresh-token
//     rotation) and which records every request, so tests can assert the
//     exact upstream request (RFC 6749 §4.1, RFC 7636, RFC 7009).
//
// It is test-only: import it from _test.go files and never from non-test
// code. It owns no broker logic and must not import broker or storage; it
// imports testing, golang.org/x/oauth2, golang.org/x/net/html and the
// zitadel example packages, none of which production code needs.
package providertest
