package connections

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/oauth2broker/oauth2broker/providers"
)

// maxProviderFailures is how many transient failures in a row of one
// provider make a pass leave that provider's other connections for the
// next pass.
const maxProviderFailures = 3

// aheadPass runs the refreshes of one RefreshAhead pass: at most workers
// at once and, while several providers have work, at most perProvider for
// any one of them, providers taking turns. A slow or failing provider
// thus holds at most perProvider workers: one that throttles (429,
// Retry-After) is left alone for as long as it asks, one that refuses the
// broker's client credentials until its record changes (however long),
// and one that fails maxProviderFailures times in a row until the next
// pass.
type aheadPass struct {
	m           *Manager
	keys        []string // providers with work, in turn order
	queues      map[string][]dueConn
	busy        map[string]int // refreshes running, by provider
	failures    map[string]int // transient failures in a row, by provider
	workers     int
	perProvider int
	turn        int
	refreshed   int
}

// aheadDone is the outcome of one refresh of a pass.
type aheadDone struct {
	key string
	d   dueConn
	res *Result
	err error
}

func newAheadPass(m *Manager, queues map[string][]dueConn, workers int) *aheadPass {
	p := &aheadPass{m: m, queues: queues, busy: map[string]int{}, failures: map[string]int{}, workers: workers, perProvider: workers}
	for key, q := range queues {
		if len(q) > 0 {
			p.keys = append(p.keys, key)
		}
	}
	slices.Sort(p.keys)
	if len(p.keys) > 1 {
		p.perProvider = max(1, workers/2)
	}
	return p
}

// run starts refreshes while workers and work are free, and settles each
// one as it ends. It returns how many connections it refreshed. Once ctx
// ends it starts no more and waits for those running.
func (p *aheadPass) run(ctx context.Context) int {
	done := make(chan aheadDone)
	running := 0
	for {
		if running < p.workers && ctx.Err() == nil {
			if key, d, ok := p.next(); ok {
				running++
				p.busy[key]++
				go func() {
					res, err := p.m.refreshAheadOne(ctx, d)
					done <- aheadDone{key: key, d: d, res: res, err: err}
				}()
				continue
			}
		}
		if running == 0 {
			return p.refreshed
		}
		r := <-done
		running--
		p.busy[r.key]--
		p.settle(r)
	}
}

// next takes the next connection of the next provider in turn that has
// one and a free slot.
func (p *aheadPass) next() (string, dueConn, bool) {
	for i := range len(p.keys) {
		key := p.keys[(p.turn+i)%len(p.keys)]
		q := p.queues[key]
		if len(q) == 0 || p.busy[key] >= p.perProvider {
			continue
		}
		p.queues[key], p.turn = q[1:], (p.turn+i+1)%len(p.keys)
		return key, q[0], true
	}
	return "", dueConn{}, false
}

// settle counts a refresh, and stops the pass's work on a provider that
// throttles, refuses the broker's client or keeps failing.
func (p *aheadPass) settle(r aheadDone) {
	cause := r.err
	if cause == nil && r.res != nil {
		cause = r.res.failed
	}
	now := p.m.now()
	switch after, throttled := providers.RetryAfter(cause); {
	case cause == nil:
		p.failures[r.key] = 0
		if r.res != nil && r.res.refreshed {
			p.refreshed++
		}
		return
	case throttled:
		if after <= 0 {
			after = backoffBase
		}
		p.m.holdProvider(r.key, r.d.pol.version, now.Add(min(after, maxRetryAfter)))
		p.queues[r.key] = nil
	case errors.Is(cause, providers.ErrInvalidClient):
		// Every connection would fail alike (and keep its tokens):
		// refreshNow held the provider until an admin fixes it (its
		// record changes).
		p.queues[r.key] = nil
	case errors.Is(cause, providers.ErrUnavailable):
		if p.failures[r.key]++; p.failures[r.key] >= maxProviderFailures {
			p.queues[r.key] = nil
		}
	}
	if r.err != nil && !errors.Is(r.err, context.Canceled) {
		p.m.log.Warn("refresh ahead failed", "api", r.d.conn.API, "connection", r.d.conn.ID, "provider", r.d.conn.Provider, "err", r.err)
	}
}

// providerHold keeps refresh ahead away from one provider.
type providerHold struct {
	// until is when the hold ends; zero: only when the record changes
	// (or a refresh of the provider succeeds).
	until time.Time
	// version is the provider record's UpdatedAt when the hold began: an
	// updated record ends the hold.
	version time.Time
}

// holdProvider keeps refresh ahead away from a provider until until, or,
// when until is zero, until its record changes (a refused client: only an
// admin can fix it). The holds live in memory: they spare a provider the
// calls of a pass; the backoff of each connection that failed is on its
// record. A hold without a time limit is lost on restart, and then costs
// one batch of refreshes (which keep their tokens) to set again.
func (m *Manager) holdProvider(key string, version, until time.Time) {
	m.holdMu.Lock()
	defer m.holdMu.Unlock()
	if h, ok := m.holds[key]; ok && h.version.Equal(version) && (h.until.IsZero() || (!until.IsZero() && h.until.After(until))) {
		return
	}
	m.holds[key] = providerHold{until: until, version: version}
}

// clientAccepted ends a hold without a time limit: a refresh of the
// provider succeeded, so its client credentials work again (fixed at the
// provider, say, without a change of the record).
func (m *Manager) clientAccepted(key string) {
	m.holdMu.Lock()
	defer m.holdMu.Unlock()
	if h, ok := m.holds[key]; ok && h.until.IsZero() {
		delete(m.holds, key)
	}
}

// providerHeld reports whether refresh ahead must leave a provider alone
// now, forgetting holds that ended.
func (m *Manager) providerHeld(key string, version, now time.Time) bool {
	m.holdMu.Lock()
	defer m.holdMu.Unlock()
	h, ok := m.holds[key]
	if ok && (!h.version.Equal(version) || (!h.until.IsZero() && !now.Before(h.until))) {
		delete(m.holds, key)
		return false
	}
	return ok
}
