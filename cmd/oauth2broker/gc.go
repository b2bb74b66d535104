package main

import "runtime/debug"

// defaultGCPercent is the garbage collector's target of serve (and of the
// bench's ceiling process) when GOGC is not set: the heap may grow to 5×
// what is live before a collection, instead of Go's 2×. The broker's live
// heap is small (tens of MB) and every request allocates, so collections
// at 2× cost 10–20 % of the CPU of a token answer; at 5× they cost a
// third of that, for about 15 MB more peak RSS. GOGC in the environment
// (and GOMEMLIMIT, which the runtime reads itself) still wins.
const defaultGCPercent = 400

// tuneGC sets defaultGCPercent unless GOGC is set in the environment.
func tuneGC(lookupEnv func(string) (string, bool)) {
	if _, set := lookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
}
