package grants

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/oauth2broker/oauth2broker/broker/protocol"
)

// errHashersBusy answers a password login that found the hashing queue
// full: at once, before any hash, and cheaply, so that a flood of logins
// costs the other routes no CPU beyond the answers themselves.
var errHashersBusy = protocol.ErrTemporarilyUnavailable.
	WithDescription("too many password logins are waiting; retry shortly").WithRetryAfter(time.Second)

// hashGate bounds the password checks running at once (each argon2id
// hash takes a core and 19 MiB for tens of milliseconds) and the logins
// waiting for one. Logins from an address the user logged in from
// (known) have a reserve as large again beyond that limit, which a flood
// of other logins cannot take: such a flood makes them wait, not fail.
type hashGate struct {
	slots   chan struct{}
	limit   int64        // slots plus queue
	entered atomic.Int64 // running plus waiting
}

func newHashGate(slots, queue int) *hashGate {
	return &hashGate{slots: make(chan struct{}, slots), limit: int64(slots + queue)}
}

// enter waits for a hashing slot and returns its release. When the
// running and waiting logins are already at the limit (twice the limit
// for a known login) it answers errHashersBusy at once; when ctx ends
// first, temporarily_unavailable.
func (g *hashGate) enter(ctx context.Context, known bool) (release func(), err error) {
	limit := g.limit
	if known {
		limit *= 2
	}
	if g.entered.Add(1) > limit {
		g.entered.Add(-1)
		return nil, errHashersBusy
	}
	select {
	case g.slots <- struct{}{}:
		return func() {
			<-g.slots
			g.entered.Add(-1)
		}, nil
	case <-ctx.Done():
		g.entered.Add(-1)
		return nil, protocol.ErrTemporarilyUnavailable.WithDescription("request cancelled").WithCause(ctx.Err())
	}
}
