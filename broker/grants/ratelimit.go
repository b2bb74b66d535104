package grants

import (
	"net/netip"
	"sync"
	"time"
)

// maxSources bounds the addresses the source limiter remembers.
const maxSources = 65_536

// sourceLimiter is a token bucket of failed password logins per client
// address: an address may fail burst times at once and rate times a
// second on average. It is asked before anything is hashed and charged
// after a failed check, so successful logins never use it up (a panel's
// backend logging many users in from one address is not slowed down),
// and logins sent in parallel from one address all pass while it has a
// token: that excess is bounded by the hashing gate and paid back as
// debt afterwards.
type sourceLimiter struct {
	mu      sync.Mutex
	now     func() time.Time
	rate    float64 // tokens a second; off when not positive
	burst   float64
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64 // below zero: debt from parallel failures
	at     time.Time
}

func newSourceLimiter(now func() time.Time, rate float64, burst int) *sourceLimiter {
	return &sourceLimiter{now: now, rate: rate, burst: float64(max(burst, 1)), buckets: map[string]*bucket{}}
}

// sourceKey is the key of a client address: an IPv6 address counts as
// its /64 (one subscriber's network), an IPv4 address as itself.
func sourceKey(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// refill adds what has accrued since b was last seen, up to the burst.
func (l *sourceLimiter) refill(b *bucket, now time.Time) {
	if elapsed := now.Sub(b.at).Seconds(); elapsed > 0 {
		b.tokens = min(l.burst, b.tokens+elapsed*l.rate)
	}
	b.at = now
}

// wait returns how long src must wait before its next login; zero when
// it may try now. It reserves nothing.
func (l *sourceLimiter) wait(src string) time.Duration {
	if l.rate <= 0 {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[src]
	if !ok {
		return 0
	}
	l.refill(b, l.now())
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// charge takes a token from src for a failed login.
func (l *sourceLimiter) charge(src string) {
	if l.rate <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.buckets[src]
	if !ok {
		if len(l.buckets) >= maxSources {
			l.sweep(now)
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[src] = b
	}
	l.refill(b, now)
	b.tokens--
}

// sweep forgets the buckets that have refilled (they are as good as
// absent); when that is not enough, arbitrary ones, down to 7/8 of the
// bound, so memory stays bounded under a spray of addresses.
func (l *sourceLimiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if l.refill(b, now); b.tokens >= l.burst {
			delete(l.buckets, k)
		}
	}
	for k := range l.buckets {
		if len(l.buckets) < maxSources*7/8 {
			return
		}
		delete(l.buckets, k)
	}
}
