package main

import (
	"math"
	"runtime/debug"
	"testing"
)

// serve's collector target and memory limit are the defaults, unless
// GOGC or GOMEMLIMIT is set.
func TestTuneGC(t *testing.T) {
	before, beforeLimit := debug.SetGCPercent(100), debug.SetMemoryLimit(math.MaxInt64)
	defer func() { debug.SetGCPercent(before); debug.SetMemoryLimit(beforeLimit) }()
	tuneGC(func(string) (string, bool) { return "", false })
	if got, limit := debug.SetGCPercent(100), debug.SetMemoryLimit(math.MaxInt64); got != defaultGCPercent || limit != defaultMemoryLimit {
		t.Errorf("without GOGC, GOMEMLIMIT: got %d and a limit of %d, want %d and %d", got, limit, defaultGCPercent, defaultMemoryLimit)
	}
	tuneGC(func(k string) (string, bool) { return "set", k == "GOGC" || k == "GOMEMLIMIT" })
	if got, limit := debug.SetGCPercent(100), debug.SetMemoryLimit(math.MaxInt64); got != 100 || limit != math.MaxInt64 {
		t.Errorf("with GOGC and GOMEMLIMIT set: got %d and a limit of %d, want both left alone", got, limit)
	}
}
