package broker

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oauth2broker/oauth2broker/storage"
)

// lastKnownTTL bounds how old a record read before the store became
// unavailable may be and still be served: the stale window, during an
// outage, of changes made on the other side of a network partition.
const lastKnownTTL = 2 * time.Minute

// maxLastKnown bounds how many records lastKnown keeps.
const maxLastKnown = 100_000

// lastKnown is the store as the broker reads it on a shared store (etcd):
// it remembers the last answer of each read of the settings records (APIs,
// clients, users, providers; the token issuer keeps signing keys) and, when the store is
// unavailable (no quorum), answers that instead, if it was read less than
// lastKnownTTL ago. So a replica keeps issuing and verifying tokens through
// a quorum loss, when no one can change those records anyway. Reads whose
// staleness is never safe (revocations, connections, states) and every
// write still fail with storage.ErrUnavailable. A record the watch says
// changed is forgotten at once.
type lastKnown struct {
	storage.Storage
	now func() time.Time

	probing atomic.Bool // a read is asking the store whether it is back

	mu   sync.Mutex
	recs map[lastKnownKey]lastKnownRec
	down bool   // the store's last answer was "unavailable"
	gen  uint64 // counts changes heard, to spot one during a read
}

type lastKnownKey struct{ kind, api, id string }

type lastKnownRec struct {
	json   []byte // the answer, as JSON: every use decodes its own copy
	readAt time.Time
}

func newLastKnown(s storage.Storage, now func() time.Time) *lastKnown {
	return &lastKnown{Storage: s, now: now, recs: map[lastKnownKey]lastKnownRec{}}
}

// read answers a read of k: from the store, remembered; or, while the
// store is unavailable, the answer last remembered. While the store is
// down, one read at a time asks it whether it is back (and waits for its
// timeout if not); the others take their remembered answer at once.
func read[T any](lk *lastKnown, k lastKnownKey, load func() (T, error)) (T, error) {
	lk.mu.Lock()
	down, gen := lk.down, lk.gen
	lk.mu.Unlock()
	if down {
		if old, ok := lastKnownGet[T](lk, k); ok {
			if !lk.probing.CompareAndSwap(false, true) {
				return old, nil
			}
			defer lk.probing.Store(false)
		}
	}
	v, err := load()
	switch {
	case err == nil:
		lk.put(k, v, gen)
	case errors.Is(err, storage.ErrUnavailable):
		lk.mu.Lock()
		lk.down = true
		lk.mu.Unlock()
		if old, ok := lastKnownGet[T](lk, k); ok {
			return old, nil
		}
	case errors.Is(err, storage.ErrNotFound):
		lk.up()
		lk.forget(k)
	}
	return v, err
}

// up records that the store answers.
func (lk *lastKnown) up() {
	lk.mu.Lock()
	lk.down = false
	lk.mu.Unlock()
}

// put remembers v as the answer of k, unless a change was heard since
// the read began (gen): what was read may predate it.
func (lk *lastKnown) put(k lastKnownKey, v any, gen uint64) {
	b, err := json.Marshal(v)
	lk.mu.Lock()
	defer lk.mu.Unlock()
	lk.down = false
	if err != nil || lk.gen != gen {
		return
	}
	if _, ok := lk.recs[k]; !ok && len(lk.recs) >= maxLastKnown {
		return
	}
	lk.recs[k] = lastKnownRec{json: b, readAt: lk.now()}
}

func lastKnownGet[T any](lk *lastKnown, k lastKnownKey) (T, bool) {
	var v T
	lk.mu.Lock()
	rec, ok := lk.recs[k]
	lk.mu.Unlock()
	if !ok || lk.now().Sub(rec.readAt) > lastKnownTTL {
		return v, false
	}
	return v, json.Unmarshal(rec.json, &v) == nil
}

func (lk *lastKnown) forget(k lastKnownKey) {
	lk.mu.Lock()
	delete(lk.recs, k)
	lk.mu.Unlock()
}

// changed forgets what a change heard from the store's watch makes stale.
func (lk *lastKnown) changed(c storage.Change) {
	lk.mu.Lock()
	lk.gen++
	if c.Kind == "" { // changes were lost
		clear(lk.recs)
	}
	lk.mu.Unlock()
	switch c.Kind {
	case storage.KindAPIs:
		lk.forget(lastKnownKey{kind: storage.KindAPIs, api: c.API})
		lk.forget(lastKnownKey{kind: storage.KindAPIs})
	case storage.KindClients, storage.KindUsers, storage.KindProviders:
		lk.forget(lastKnownKey{kind: c.Kind, api: c.API, id: c.ID})
		lk.forget(lastKnownKey{kind: c.Kind, api: c.API}) // the list
	}
}

func (lk *lastKnown) GetAPI(ctx context.Context, name string) (storage.API, error) {
	return read(lk, lastKnownKey{kind: storage.KindAPIs, api: name}, func() (storage.API, error) {
		return lk.Storage.GetAPI(ctx, name)
	})
}

func (lk *lastKnown) ListAPIs(ctx context.Context) ([]storage.API, error) {
	return read(lk, lastKnownKey{kind: storage.KindAPIs}, func() ([]storage.API, error) {
		return lk.Storage.ListAPIs(ctx)
	})
}

func (lk *lastKnown) GetClient(ctx context.Context, api, id string) (storage.Client, error) {
	return read(lk, lastKnownKey{storage.KindClients, api, id}, func() (storage.Client, error) {
		return lk.Storage.GetClient(ctx, api, id)
	})
}

func (lk *lastKnown) GetUser(ctx context.Context, api, username string) (storage.User, error) {
	return read(lk, lastKnownKey{storage.KindUsers, api, username}, func() (storage.User, error) {
		return lk.Storage.GetUser(ctx, api, username)
	})
}

func (lk *lastKnown) GetProvider(ctx context.Context, api, name string) (storage.Provider, error) {
	return read(lk, lastKnownKey{storage.KindProviders, api, name}, func() (storage.Provider, error) {
		return lk.Storage.GetProvider(ctx, api, name)
	})
}

func (lk *lastKnown) ListProviders(ctx context.Context, api string) ([]storage.Provider, error) {
	return read(lk, lastKnownKey{kind: storage.KindProviders, api: api}, func() ([]storage.Provider, error) {
		return lk.Storage.ListProviders(ctx, api)
	})
}
