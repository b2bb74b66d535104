// Package etcd is the storage backend of oauth2broker for several broker
// replicas sharing one etcd cluster, opened with [Open] (or [New] on a
// client the caller owns).
//
// It owns the key layout under a configurable prefix (DefaultPrefix): one
// key prefix per record type, records stored as JSON under
// prefix+type+"/"+api+"\x00"+id (APIs under prefix+"apis/"+name), and the
// schema version under prefix+"meta/schema_version". Because neither an API
// name nor an ID may contain the NUL byte, listing API "a" never returns the
// records of API "ab".
//
// Atomicity comes from etcd transactions, never from locks: Create writes
// only if the key's CreateRevision is 0, Update writes only if the key's
// ModRevision is still the one it read (and on a lost compare runs its
// function again on the fresh record, a bounded number of times, before
// answering storage.ErrConflict), Delete and the garbage collector delete
// under a compare too, and ConsumeState deletes the state and returns the
// deleted value in one request. A write that returned nil is committed by
// a quorum of the cluster, which syncs it to disk.
//
// Every call to etcd is bounded by Config.RequestTimeout, so a cluster
// without quorum, or no cluster at all, gives an error (wrapping
// storage.ErrUnavailable) instead of a hang. Within that budget a request
// that found the cluster unavailable (a member that died, a leader
// election, a member that froze) is tried again, each attempt getting a
// quarter of the budget:
// reads are safe to repeat, and every write is a compare-and-swap, so a
// repeat of one that was applied without its answer arriving fails its
// compare; Create and Update then recognise their own record byte for
// byte, Delete accepts the record being gone, and ConsumeState says the
// state may have been consumed. A write that failed may still have been
// applied.
//
// DB is also a storage.Watcher (one watch per watched record type,
// requiring a leader, resuming where it was after a cut) and a
// storage.Elector (etcd's concurrency.Election on a session lease of ten
// seconds).
//
// This package is the only importer of go.etcd.io/etcd/client/v3 (and of
// go.etcd.io/etcd/api/v3) besides its own test, which also imports
// go.etcd.io/etcd/server/v3/embed. It imports storage, etcd's client (and
// the gRPC status codes its errors carry) and the standard library only;
// never broker, providers or another backend.
package etcd
