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
//     memory, so that the larger growth factor never takes the heap past
//     it: near the limit the collector runs as often as it must. It bounds
//     peak RSS (about 100 MB under the bench's load, 140 MB at GOGC 400
//     without it); a broker with more live data raises it.
const (
	defaultGCPercent   = 400
	defaultMemoryLimit = 100 << 20
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
