package grants

import (
	"sync"
	"time"
)

// Login throttling: after freeFailures consecutive failures for one
// username, further attempts wait a delay that doubles with each failure up
// to maxDelay. The wait always ends by itself, so an attacker can slow a
// user's logins but never lock the user out for good, and brute force is
// bounded to a few attempts per maxDelay.
const (
	freeFailures  = 5
	baseDelay     = time.Second
	maxDelay      = 15 * time.Minute
	forgetAfter   = time.Hour
	maxTrackedKey = 100_000
)

type attempts struct {
	failures int
	until    time.Time // no attempt before this
	last     time.Time
}

// throttle tracks failed logins per key in memory.
type throttle struct {
	mu   sync.Mutex
	now  func() time.Time
	keys map[string]*attempts
}

func newThrottle(now func() time.Time) *throttle {
	return &throttle{now: now, keys: map[string]*attempts{}}
}

// wait returns how long the key must still wait, zero when it may try.
func (t *throttle) wait(key string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	a, ok := t.keys[key]
	if !ok {
		return 0
	}
	return max(a.until.Sub(t.now()), 0)
}

func (t *throttle) fail(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	a, ok := t.keys[key]
	if !ok || now.Sub(a.last) > forgetAfter {
		if len(t.keys) >= maxTrackedKey {
			t.sweep(now)
		}
		a = &attempts{}
		t.keys[key] = a
	}
	a.failures++
	a.last = now
	if over := a.failures - freeFailures; over >= 0 {
		delay := maxDelay
		if over < 20 {
			delay = min(baseDelay<<over, maxDelay)
		}
		a.until = now.Add(delay)
	}
}

func (t *throttle) succeed(key string) {
	t.mu.Lock()
	delete(t.keys, key)
	t.mu.Unlock()
}

// sweep forgets keys idle for forgetAfter; when none are, it forgets all
// but locked keys, so memory stays bounded under a spray of usernames.
func (t *throttle) sweep(now time.Time) {
	for k, a := range t.keys {
		if now.Sub(a.last) > forgetAfter {
			delete(t.keys, k)
		}
	}
	if len(t.keys) < maxTrackedKey {
		return
	}
	for k, a := range t.keys {
		if !now.Before(a.until) {
			delete(t.keys, k)
		}
	}
}
