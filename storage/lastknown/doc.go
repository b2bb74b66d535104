// Package lastknown is a storage decorator for a store that several
// broker processes share (etcd): [Wrap] returns the store reading through
// a cache of the settings records (APIs, clients, users, providers) that
// answers them, while the store is unavailable, as they were last read,
// for up to two minutes. Every other read and every write goes to the
// store unchanged.
//
// It owns that outage cache and nothing else: which changes make a record
// stale comes from its owner, through [Store.Changed].
//
// This package imports storage and the standard library only (its tests
// also use storage/bbolt); never broker, providers or a backend.
package lastknown
