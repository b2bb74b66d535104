package broker

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/oauth2broker/oauth2broker/storage"
)

// Readiness hold-down after a store failure: at least minHold, doubling
// on each relapse up to maxHold, so that a store that takes small writes
// but fails real ones cannot flap /readyz at the load balancer's pace.
const (
	minHold    = 2 * time.Second
	maxHold    = 5 * time.Minute
	probeEvery = time.Second
)

// readiness remembers that the store failed a call with
// storage.ErrUnavailable (a full disk, a read-only file system, etcd
// without quorum), so that /readyz answers 503 and a load balancer stops
// sending writes. Failures are noted where errors are handled, so a
// successful call costs nothing. While down, /readyz probes the store (at
// most once per probeEvery, after the hold-down) and comes back up when
// the probe succeeds.
type readiness struct {
	store storage.Storage // the store as configured
	now   func() time.Time
	log   *slog.Logger

	probing sync.Mutex // one probe at a time
	mu      sync.Mutex
	down    bool
	cause   error     // the last failure
	failed  time.Time // when it happened
	probed  time.Time // the last probe
	upAt    time.Time // the last recovery
	hold    time.Duration
}

// note marks the store down when err says it cannot serve calls now.
func (r *readiness) note(err error) {
	if !errors.Is(err, storage.ErrUnavailable) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if !r.down {
		r.down = true
		// Down again soon after coming up: the probe was too kind; wait longer.
		if r.hold > 0 && now.Sub(r.upAt) < max(time.Minute, 2*r.hold) {
			r.hold = min(2*r.hold, maxHold)
		} else {
			r.hold = minHold
		}
		r.log.Warn("store unavailable; /readyz answers 503 until a probe succeeds", "err", err, "hold", r.hold)
	}
	r.cause, r.failed = err, now
}

// check returns nil when the store is ready, or how long a client should
// wait before asking again and the failure that keeps it down.
func (r *readiness) check(ctx context.Context) (time.Duration, error) {
	r.mu.Lock()
	down, cause, wait := r.down, r.cause, r.wait()
	r.mu.Unlock()
	if !down {
		return 0, nil
	}
	if wait > 0 || !r.probing.TryLock() {
		return max(wait, time.Second), cause
	}
	defer r.probing.Unlock()
	r.mu.Lock()
	r.probed = r.now()
	r.mu.Unlock()
	if err := r.probe(ctx); err != nil {
		r.note(err)
		return probeEvery, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failed.After(r.probed) { // a call failed while the probe ran
		return probeEvery, r.cause
	}
	r.down, r.upAt = false, r.now()
	r.log.Info("store available again; /readyz answers 200")
	return 0, nil
}

// wait is how long until the next probe may run. r.mu is held.
func (r *readiness) wait() time.Duration {
	next := r.failed.Add(r.hold)
	if p := r.probed.Add(probeEvery); p.After(next) {
		next = p
	}
	return next.Sub(r.now())
}

// probe checks that the store takes writes: by its own WriteProber, or
// else by storing and consuming a state of the reserved API "readyz".
func (r *readiness) probe(ctx context.Context) error {
	if p, ok := r.store.(storage.WriteProber); ok {
		return p.ProbeWrite(ctx)
	}
	now := r.now()
	st := storage.State{API: "readyz", ID: "probe-" + rand.Text(), CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
	if err := r.store.CreateState(ctx, st); err != nil {
		return err
	}
	_, err := r.store.ConsumeState(ctx, st.API, st.ID)
	return err
}
