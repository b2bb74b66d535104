package grants

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"time"

	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/broker/secret"
	"github.com/oauth2broker/oauth2broker/broker/tokens"
	"github.com/oauth2broker/oauth2broker/storage"
)

// Defaults of PasswordLimits.
const (
	// DefaultPasswordRate is how many failed logins a second one client
	// address may have on average.
	DefaultPasswordRate = 2.0
	// DefaultPasswordBurst is how many failed logins one client address
	// may have at once.
	DefaultPasswordBurst = 10
	// defaultQueuePerHasher is the default queue length per hasher.
	defaultQueuePerHasher = 8
)

// PasswordLimits bound what password logins may cost, so that a flood of
// failed logins (each costing a full argon2id hash, so that usernames
// cannot be told apart) cannot starve the other routes. Zero values take
// the defaults.
type PasswordLimits struct {
	// Hashers is how many password checks run at once; max(1, NumCPU/2)
	// when zero, which leaves the other CPUs to the other routes.
	Hashers int
	// Queue is how many more logins may wait for a hasher; past it a
	// login is answered 503 temporarily_unavailable with Retry-After at
	// once, before any hash. 8 per hasher when zero, none when negative.
	// Logins from an address the user logged in from have a reserve of
	// Hashers+Queue more (hashGate).
	Queue int
	// Rate is how many failed logins a second one client address (an
	// IPv4 address or an IPv6 /64) may have on average; past it logins
	// from there are answered 429 slow_down with Retry-After before any
	// hash. DefaultPasswordRate when zero, no limit when negative.
	Rate float64
	// Burst is how many failed logins one address may have at once;
	// DefaultPasswordBurst when zero.
	Burst int
}

// withDefaults fills the zero values.
func (l PasswordLimits) withDefaults() PasswordLimits {
	if l.Hashers <= 0 {
		l.Hashers = max(1, runtime.NumCPU()/2)
	}
	switch {
	case l.Queue == 0:
		l.Queue = defaultQueuePerHasher * l.Hashers
	case l.Queue < 0:
		l.Queue = 0
	}
	if l.Rate == 0 {
		l.Rate = DefaultPasswordRate
	}
	if l.Burst <= 0 {
		l.Burst = DefaultPasswordBurst
	}
	return l
}

// Capacity is how many password logins may be in the broker at once
// with these limits, hashing or waiting for a hasher; past it they are
// answered 503 (logins from a known address: past twice that).
func (l PasswordLimits) Capacity() int {
	d := l.withDefaults()
	return d.Hashers + d.Queue
}

func newPassword(store storage.Storage, iss *tokens.Issuer, now func() time.Time, limits PasswordLimits) *password {
	l := limits.withDefaults()
	return &password{
		store: store, tokens: iss, check: secret.CheckPassword,
		byAddress: newThrottle(now, maxDelay), byUser: newThrottle(now, userMaxDelay), known: newKnownAddresses(now),
		gate: newHashGate(l.Hashers, l.Queue), sources: newSourceLimiter(now, l.Rate, l.Burst),
	}
}

func tooMany(wait time.Duration) error {
	return protocol.ErrInvalidGrant.WithStatus(http.StatusTooManyRequests).WithRetryAfter(wait).
		WithDescription(fmt.Sprintf("too many failed logins for this username; retry in %d s", int(wait.Seconds())+1))
}

func slowDown(wait time.Duration) error {
	return protocol.ErrSlowDown.WithRetryAfter(wait).
		WithDescription(fmt.Sprintf("too many failed logins from this address; retry in %d s", int(wait.Seconds())+1))
}

// loginKeys are the throttle keys of one login.
type loginKeys struct {
	source     string   // the client address (sourceKey)
	addr, user [32]byte // (API, username, source) and (API, username)
	known      bool     // the user logged in from source lately (isKnown)
}

// login checks username and password behind guards that hash nothing,
// cheapest first: the source's failure budget, the throttle's locks, a
// hashing slot (503 at once when too many wait); then it reserves an
// attempt with the throttle and checks the password.
func (g *password) login(ctx context.Context, req *Request, username, pw string) (storage.User, error) {
	k := loginKeys{source: sourceKey(req.Params.RemoteAddr)}
	if wait := g.sources.wait(k.source); wait > 0 {
		return storage.User{}, slowDown(wait)
	}
	k.addr, k.user = throttleKey(req.API.Name, username, k.source), throttleKey(req.API.Name, username)
	k.known = g.isKnown(ctx, req.API.Name, username, k)
	if wait := g.byAddress.wait(k.addr); wait > 0 {
		return storage.User{}, tooMany(wait)
	}
	if wait := g.byUser.wait(k.user); wait > 0 && !k.known {
		return storage.User{}, tooMany(wait)
	}
	release, err := g.gate.enter(ctx, k.known)
	if err != nil {
		return storage.User{}, err
	}
	defer release()
	return g.throttled(ctx, req.API.Name, username, pw, k)
}

// throttled reserves an attempt in both throttle layers (only the
// per-address one from a known address), checks the password and records
// the outcome.
func (g *password) throttled(ctx context.Context, api, username, pw string, k loginKeys) (storage.User, error) {
	if wait := g.byAddress.begin(k.addr); wait > 0 {
		return storage.User{}, tooMany(wait)
	}
	if !k.known {
		if wait := g.byUser.begin(k.user); wait > 0 {
			g.byAddress.cancel(k.addr)
			return storage.User{}, tooMany(wait)
		}
	}
	user, err := g.checkLogin(ctx, api, username, pw)
	failed := errors.Is(err, errBadLogin)
	if err != nil && !failed { // no verdict: the counters stay as they were
		g.byAddress.cancel(k.addr)
		if !k.known {
			g.byUser.cancel(k.user)
		}
		return user, err
	}
	g.byAddress.end(k.addr, failed)
	if !k.known {
		g.byUser.end(k.user, failed)
	}
	if failed {
		g.sources.charge(k.source)
	} else {
		g.known.add(k.user, k.source, passwordDigest(api, user))
	}
	return user, err
}

// passwordDigest identifies the user's current password hash: a known
// address counts only with the password it logged in with, so a new
// password (or a user deleted and created again) makes the addresses
// known before unknown again, and an address that once had a stolen
// password gains nothing after a reset.
func passwordDigest(api string, user storage.User) [32]byte {
	return throttleKey(api, user.Username, user.PasswordHash)
}

// isKnown reports whether the user logged in from k.source with their
// current password within knownFor. Only when memory says so does it read
// the user, to compare the password: the answers given before any hash
// then take the same path whether the user exists or not. A missing user
// or a store error is not known (checkLogin reads again and reports it).
func (g *password) isKnown(ctx context.Context, api, username string, k loginKeys) bool {
	password, ok := g.known.lookup(k.user, k.source)
	if !ok {
		return false
	}
	user, err := g.store.GetUser(ctx, api, username)
	return err == nil && passwordDigest(api, user) == password
}
