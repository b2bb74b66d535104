// Package bbolt is the default storage backend of oauth2broker: one bbolt
// file on local disk, opened with [Open].
//
// It owns the on-disk layout: one bucket per record type, records stored as
// JSON under the key api+"\x00"+id (APIs under their name alone), and a meta
// bucket holding the schema version. Every logical operation is one bbolt
// transaction, and every write is synced before it returns (NoSync is never
// set), so a call that returned nil survives a crash of the process.
//
// A write the file system cannot take (full, over quota, read-only, I/O
// error) is rolled back whole and returns an error wrapping
// storage.ErrUnavailable; writes go on once there is room again, without
// reopening. [DB.ProbeWrite] tells when that is.
//
// Update functions run inside the write transaction: they must not call back
// into the same DB, or they deadlock.
//
// This package is the only importer of go.etcd.io/bbolt. It imports
// storage, go.etcd.io/bbolt and the standard library only; never broker,
// providers or another backend.
package bbolt
