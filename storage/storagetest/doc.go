// Package storagetest is the conformance suite every storage.Storage
// backend runs from its own _test.go file, in the manner of dex's
// storage/conformance:
//
//	func TestStorage(t *testing.T) {
//		storagetest.RunTests(t, newStorage)
//		storagetest.RunConcurrencyTests(t, newStorage)
//	}
//
// It owns the executable form of the contracts written on storage.Storage:
// create, get, list, update and delete of every record type, the sentinel
// errors, per-API scoping, copy semantics, Update returning what a
// following Get returns, connection versions, one-time states, garbage
// collection and atomicity under concurrent callers.
//
// It imports storage, testing and the standard library only, and is
// imported only by backends' tests; never by production code.
package storagetest
