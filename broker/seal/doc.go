// Package seal encrypts secrets at rest: stored upstream tokens, upstream
// client secrets, signing keys and PKCE verifiers.
//
// A Keyring holds AES-256-GCM keys by key id. Seal always uses the primary
// key and writes its id into the output, so Open still works after the
// primary key is rotated as long as the old key stays in the ring.
//
// Label (labels.go) is the one list of what the broker seals: each sealed
// value's associated data is its label, API and record id, so that it
// opens only in its own place.
//
// This package imports the standard library only.
package seal
