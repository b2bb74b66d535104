// Package jsonw writes the JSON of the broker's hot answers (token
// answers, introspection, access-token claims) without reflection: an
// Object appends members in the order given, byte for byte what
// encoding/json writes for the same values (strings encoding/json would
// escape go through encoding/json itself).
//
// It imports only the standard library.
package jsonw
