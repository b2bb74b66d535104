package main

import "runtime/debug"

// The garbage collector's settings of serve (and of the bench's ceiling
// process), each unless its environment variable is set:
//
//   - defaultGCPercent (GOGC): the heap may grow to 5× what is live
//     before a collection, instead of Go's 2×. The broker's live heap is
//     small and every request allocates, so collections at 2× cost 10–20 %
//     of the CPU of a token answer; at 5× a third of that.
//   - defaultMemoryLimit (GOMEMLIMIT): a soft limit on the runtime's
//     memory, so that the larger growth factor cannot take a broker with
//     much live data to 5× it: near the limit the collector runs as
//     often as it must. It is far above what the broker needs under the
//     bench's load (peak RSS 137 MB at GOGC 400 with 10,000 connections
//     stored), so it does not bind there; a limit close to the live heap
//     would make the collector run all the time instead.
const (
	defaultGCPercent   = 400
	defaultMemoryLimit = 512 << 20
)

// tuneGC applies defaultGCPercent and defaultMemoryLimit, each unless
// GOGC or GOMEMLIMIT is set in the environment.
func tuneGC(lookupEnv func(string) (string, bool)) {
	if _, set := lookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
	if _, set := lookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}
