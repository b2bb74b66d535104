// Package jobs runs the broker's background work: a job every interval
// (Every), a pause that ends with its context (Sleep), and, on a store
// shared by replicas (a storage.Elector), a job on one replica at a time
// (Leader).
//
// It owns no job itself: broker wires garbage collection, refresh ahead
// and the reseal at start onto it. It imports storage (for the Elector
// interface) and the standard library; never broker, another broker
// package, a storage backend or a provider.
package jobs
