package grants

import (
	"sync"
	"time"
)

// maxKnownPerUser bounds the addresses remembered per username: past it
// a new one replaces the user's least recent, so that an account holder
// logging in from many addresses churns only their own.
const maxKnownPerUser = 8

// knownAddresses remembers, per (API, username), the client addresses of
// successful logins for knownFor, each with the password it logged in
// with (passwordDigest), in memory and bounded: at most max addresses in
// all.
type knownAddresses struct {
	mu    sync.Mutex
	now   func() time.Time
	max   int // addresses remembered in all (maxTrackedKey)
	n     int // addresses remembered now
	users map[[32]byte][]knownAddress
}

type knownAddress struct {
	source   string
	password [32]byte  // passwordDigest of that login
	at       time.Time // the last successful login from there
}

func newKnownAddresses(now func() time.Time) *knownAddresses {
	return &knownAddresses{now: now, max: maxTrackedKey, users: map[[32]byte][]knownAddress{}}
}

// add records a successful login of user from source with password.
func (k *knownAddresses) add(user [32]byte, source string, password [32]byte) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	list := k.users[user]
	for i := range list {
		if list[i].source == source {
			list[i].password, list[i].at = password, now
			return
		}
	}
	if len(list) >= maxKnownPerUser {
		oldest := 0
		for i := range list {
			if list[i].at.Before(list[oldest].at) {
				oldest = i
			}
		}
		list[oldest] = knownAddress{source, password, now}
		return
	}
	if k.n >= k.max {
		k.sweep(now)
		list = k.users[user]
	}
	k.users[user] = append(list, knownAddress{source, password, now})
	k.n++
}

// lookup returns the password of user's last successful login from
// source, when it was within knownFor.
func (k *knownAddresses) lookup(user [32]byte, source string) ([32]byte, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, a := range k.users[user] {
		if a.source == source {
			return a.password, k.now().Sub(a.at) <= knownFor
		}
	}
	return [32]byte{}, false
}

// sweep forgets the users whose addresses all expired; when that is not
// enough, arbitrary users, down to 7/8 of the bound. Only successful
// logins add users, so this happens only with that many users (with
// their current password) logged in lately, not under a spray.
func (k *knownAddresses) sweep(now time.Time) {
	for u, list := range k.users {
		if k.expired(list, now) {
			k.forget(u)
		}
	}
	for u := range k.users {
		if k.n < k.max*7/8 {
			return
		}
		k.forget(u)
	}
}

func (k *knownAddresses) expired(list []knownAddress, now time.Time) bool {
	for _, a := range list {
		if now.Sub(a.at) <= knownFor {
			return false
		}
	}
	return true
}

func (k *knownAddresses) forget(user [32]byte) {
	k.n -= len(k.users[user])
	delete(k.users, user)
}
