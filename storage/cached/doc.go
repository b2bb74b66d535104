// Package cached is a storage decorator that answers the reads the broker
// makes on every request — an API, a client, a provider and an API's
// provider list — from memory, so that a token answer does not decode
// the same records from the store each time.
//
// It owns that cache and how it is kept current, and nothing else:
//   - every write of those records through the Store (or through
//     [Store.Forgetting], for writers that must reach the store
//     unwrapped) forgets what it changed once the write returns, whatever
//     it returned;
//   - a read that began before a write is never remembered after it;
//   - on a store that several processes share, the owner passes every
//     change the store's watch reports to [Store.Changed], and Config.TTL
//     bounds how long a record is answered without reading it again (the
//     window of a watch not yet open, or cut off).
//
// Secrets are still checked by the caller on every request: the cache
// holds the client record (its secret hash), never a verdict.
//
// This package imports storage and the standard library only (its tests
// also use storage/bbolt and storage/storagetest); never broker,
// providers or a backend.
package cached
