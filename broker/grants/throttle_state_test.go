package grants

import (
	"testing"
	"time"
)

// state tells the failures and the lock, and forgets an idle key.
func TestThrottleState(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	th := newThrottle(func() time.Time { return now }, maxDelay)
	k := throttleKey("api", "u")
	for range freeFailures {
		th.begin(k)
		th.end(k, true)
	}
	if n, until := th.state(k); n != freeFailures || !until.Equal(now.Add(baseDelay)) {
		t.Errorf("after %d failures: got %d, %v, want %d and locked %v", freeFailures, n, until, freeFailures, baseDelay)
	}
	now = now.Add(baseDelay)
	if n, until := th.state(k); n != freeFailures || !until.IsZero() {
		t.Errorf("after the lock: got %d, %v, want the failures and no lock", n, until)
	}
	now = now.Add(forgetAfter + time.Second)
	if n, _ := th.state(k); n != 0 {
		t.Errorf("after forgetAfter: got %d failures, want 0", n)
	}
	if n, until := th.state(throttleKey("api", "other")); n != 0 || !until.IsZero() {
		t.Errorf("unknown key: got %d, %v", n, until)
	}
}
