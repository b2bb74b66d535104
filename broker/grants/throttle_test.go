package grants

import (
	"testing"
	"time"
)

func TestThrottle(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	th := newThrottle(func() time.Time { return now }, maxDelay)
	u, v := throttleKey("api", "u"), throttleKey("api", "v")
	fail := func(k [32]byte) {
		t.Helper()
		if w := th.begin(k); w != 0 {
			t.Fatalf("begin: got wait %v, want 0", w)
		}
		th.end(k, true)
	}
	for i := 0; i < freeFailures; i++ {
		fail(u)
	}
	if w := th.begin(u); w != baseDelay {
		t.Fatalf("after %d failures: got wait %v, want %v", freeFailures, w, baseDelay)
	}
	if w := th.begin(v); w != 0 {
		t.Fatalf("another username: got wait %v, want 0", w)
	}
	th.end(v, false)
	for i := 0; i < 40; i++ {
		now = now.Add(maxDelay)
		fail(u)
	}
	if w := th.begin(u); w != maxDelay {
		t.Fatalf("after many failures: got wait %v, want the cap %v", w, maxDelay)
	}
	now = now.Add(maxDelay)
	if w := th.begin(u); w != 0 {
		t.Fatalf("after the cap elapsed: got wait %v, want 0 (no permanent lockout)", w)
	}
	th.end(u, false)
	fail(u)
	if w := th.begin(u); w != 0 {
		t.Fatalf("one failure after a success: got wait %v, want 0", w)
	}
	th.end(u, false)
}

// After a failure, attempts in flight cannot exceed the failures left.
func TestThrottleCountsAttemptsInFlight(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	th := newThrottle(func() time.Time { return now }, maxDelay)
	k := throttleKey("api", "u")
	th.begin(k)
	th.end(k, true)
	admitted := 0
	for i := 0; i < 40; i++ {
		if th.begin(k) == 0 {
			admitted++
		}
	}
	if admitted != freeFailures-1 {
		t.Fatalf("40 parallel attempts after one failure: %d admitted, want %d", admitted, freeFailures-1)
	}
}

func TestScopeHelpers(t *testing.T) {
	if got := parseScope(" a  b a "); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("parseScope: got %q, want [a b]", got)
	}
	if parseScope("") != nil {
		t.Errorf("parseScope(\"\"): want nil")
	}
	if !subset([]string{"a"}, []string{"a", "b"}) || subset([]string{"c"}, []string{"a"}) {
		t.Errorf("subset: wrong answer")
	}
	if got := intersect([]string{"a", "b", "c"}, []string{"c", "a"}); joinScope(got) != "a c" {
		t.Errorf("intersect: got %q, want \"a c\"", got)
	}
}

// A refused or verdict-less attempt leaves the counts as they were.
func TestThrottleCancelKeepsFailures(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	th := newThrottle(func() time.Time { return now }, maxDelay)
	k := throttleKey("api", "u")
	for i := 0; i < 3; i++ {
		th.begin(k)
		th.end(k, true)
	}
	th.begin(k)
	th.cancel(k)
	for i := 0; i < 2; i++ {
		th.begin(k)
		th.end(k, true)
	}
	if w := th.begin(k); w == 0 {
		t.Fatalf("after 5 failures and a cancelled attempt: not locked, want locked (a cancel must not reset)")
	}
}
