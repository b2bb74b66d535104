package grants

import (
	"crypto/sha256"
	"sync"
	"time"
)

// Login throttling has two layers, so that brute force is bounded and no
// one can lock a user out for good:
//
//   - per (API, username, client address): after freeFailures consecutive
//     failures, attempts wait a delay that doubles with each failure up to
//     maxDelay (15 minutes). An attacker's own address gets locked.
//   - per (API, username), whatever the address: the same, capped at
//     userMaxDelay (30 seconds). A distributed attacker gets at most one
//     guess per 30 s per username.
//
// The per-username layer does not apply to an address the user logged in
// from successfully, with their current password, within knownFor (30
// days; see passwordDigest): a third party failing from other addresses
// can keep the username locked for new addresses, but not for the ones
// the user has used (see the security notes in the README).
// A client address is an IPv4 address or an IPv6 /64 (sourceKey).
//
// The password grant takes one of a few hashing slots before it reserves
// an attempt here, so guesses sent in parallel are checked a few at a
// time and each sees the failures before it; once a key has failed, no
// more attempts run at once than it has failures left. Before it queues
// for a slot it asks wait, so a locked key costs neither a slot nor a
// hash.
const (
	freeFailures  = 5
	baseDelay     = time.Second
	maxDelay      = 15 * time.Minute
	userMaxDelay  = 30 * time.Second
	forgetAfter   = time.Hour
	maxTrackedKey = 100_000
	knownFor      = 30 * 24 * time.Hour
)

type attempts struct {
	failures int
	pending  int
	until    time.Time // no attempt before this
	last     time.Time
}

// throttle tracks failed logins per key in memory. Keys are hashed, so
// memory per key is bounded whatever the username.
type throttle struct {
	mu       sync.Mutex
	now      func() time.Time
	maxDelay time.Duration
	keys     map[[32]byte]*attempts
}

func newThrottle(now func() time.Time, maxDelay time.Duration) *throttle {
	return &throttle{now: now, maxDelay: maxDelay, keys: map[[32]byte]*attempts{}}
}

func throttleKey(parts ...string) [32]byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// begin reserves an attempt for key. It returns how long to wait instead
// when the key is locked or has as many attempts in flight as it has
// failures left; end must follow every reservation.
func (t *throttle) begin(key [32]byte) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	a, ok := t.keys[key]
	if !ok || now.Sub(a.last) > forgetAfter && a.pending == 0 {
		if len(t.keys) >= maxTrackedKey {
			t.sweep(now)
		}
		a = &attempts{}
		t.keys[key] = a
	}
	if wait := a.until.Sub(now); wait > 0 {
		return wait
	}
	if a.failures > 0 && a.pending >= max(freeFailures-a.failures, 1) {
		// After a failure, no more guesses in flight than failures left.
		return baseDelay
	}
	a.pending++
	a.last = now
	return 0
}

// wait returns how long key is locked, reserving nothing: zero when an
// attempt may be tried now.
func (t *throttle) wait(key [32]byte) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if a, ok := t.keys[key]; ok {
		return max(a.until.Sub(t.now()), 0)
	}
	return 0
}

// cancel releases a reserved attempt that reached no verdict (refused by
// the other layer, cancelled, or a store error): nothing is recorded.
func (t *throttle) cancel(key [32]byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if a, ok := t.keys[key]; ok && a.pending > 0 {
		a.pending--
	}
}

// end records the outcome of a reserved attempt.
func (t *throttle) end(key [32]byte, failed bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	a, ok := t.keys[key]
	if !ok {
		return
	}
	a.pending--
	if !failed {
		if a.pending == 0 {
			delete(t.keys, key)
		} else {
			a.failures, a.until = 0, time.Time{}
		}
		return
	}
	a.failures++
	if over := a.failures - freeFailures; over >= 0 {
		delay := t.maxDelay
		if over < 20 {
			delay = min(baseDelay<<over, t.maxDelay)
		}
		a.until = t.now().Add(delay)
	}
}

// sweep forgets keys idle for forgetAfter; when none are, it forgets all
// but locked or busy keys, so memory stays bounded under a spray of
// usernames.
func (t *throttle) sweep(now time.Time) {
	for k, a := range t.keys {
		if now.Sub(a.last) > forgetAfter && a.pending == 0 {
			delete(t.keys, k)
		}
	}
	if len(t.keys) < maxTrackedKey {
		return
	}
	for k, a := range t.keys {
		if !now.Before(a.until) && a.pending == 0 {
			delete(t.keys, k)
		}
	}
}
