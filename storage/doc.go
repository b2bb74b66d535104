// Package storage defines the one persistence interface of oauth2broker,
// Storage, and the records it holds: APIs, clients, users, providers,
// connections, issued-token records, signing keys, one-time states,
// pending webhook events, audit events and admin keys. It also defines
// the optional interfaces of stores that several broker processes share
// (Watcher, Elector) and of stores that can probe for room to write
// (WriteProber).
//
// Storage holds no policy. Secrets arrive already sealed (see broker/seal)
// or hashed, as opaque bytes, and leave the same way. Versions are the
// backend's: every Update returns the record it stored, version included.
// Backends live in sub-packages (storage/bbolt and storage/etcd) and must
// pass the shared conformance suite in storage/storagetest.
//
// This package imports the standard library only; never a backend, broker
// or providers.
package storage
