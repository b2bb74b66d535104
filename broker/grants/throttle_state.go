package grants

import (
	"time"

	"github.com/oauth2broker/oauth2broker/broker/protocol"
)

// Throttle returns what this process counted of username's failed logins
// to api: the failures in a row and until when its logins are refused
// (zero when they are not). With address, it is the per-address layer
// for that client address; without, the per-username layer, which does
// not apply to the addresses the user logged in from lately. The
// counters are in memory: another replica has its own.
func (d *Dispatcher) Throttle(api, username, address string) (failures int, lockedUntil time.Time) {
	g, ok := d.grants[protocol.GrantPassword].(*password)
	if !ok {
		return 0, time.Time{}
	}
	if address != "" {
		return g.byAddress.state(throttleKey(api, username, sourceKey(address)))
	}
	return g.byUser.state(throttleKey(api, username))
}

// state returns key's failures and lock; a key forgotten (idle for
// forgetAfter) has none.
func (t *throttle) state(key [32]byte) (failures int, until time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	a, ok := t.keys[key]
	if !ok || now.Sub(a.last) > forgetAfter && a.pending == 0 {
		return 0, time.Time{}
	}
	if a.until.After(now) {
		until = a.until
	}
	return a.failures, until
}
