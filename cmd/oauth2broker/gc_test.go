package main

import (
	"runtime/debug"
	"testing"
)

// serve's collector target is defaultGCPercent, unless GOGC is set.
func TestTuneGC(t *testing.T) {
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	tuneGC(func(string) (string, bool) { return "", false })
	if got := debug.SetGCPercent(100); got != defaultGCPercent {
		t.Errorf("without GOGC: got %d, want %d", got, defaultGCPercent)
	}
	tuneGC(func(k string) (string, bool) { return "100", k == "GOGC" })
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC=100: got %d, want it left at 100", got)
	}
}
