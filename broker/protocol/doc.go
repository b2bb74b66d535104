// Package protocol is the OAuth 2.0 vocabulary of the broker: grant and
// token-type names, the RFC 6749 §5.2 error type with one predeclared value
// per code, the one place errors and token answers are written, and the
// parsing of a request into a Request (JSON or form body, HTTP Basic or body
// client credentials, size limit).
//
// This package imports the standard library only.
package protocol
