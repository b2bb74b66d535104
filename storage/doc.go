// Package storage defines the one persistence interface of oauth2broker and
// the records it holds: APIs, clients, users, providers, connections,
// issued-token records, signing keys and one-time authorization states.
//
// Storage holds no policy. Secrets arrive already sealed (see broker/seal)
// or hashed, as opaque bytes, and leave the same way. Backends live in
// sub-packages (storage/bbolt, later storage/etcd) and must pass the shared
// conformance suite in storage/storagetest.
//
// This package imports the standard library only.
package storage
