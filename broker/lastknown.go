package broker

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
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

	mu        sync.Mutex
	recs      map[lastKnownKey]lastKnownRec
	downUntil time.Time // see outagePause
}

func (lk *lastKnown) down() time.Time {
	lk.mu.Lock()
	defer lk.mu.Unlock()
	return lk.downUntil
}

type lastKnownKey struct{ kind, api, id string }

type lastKnownRec struct {
	json   []byte // the answer, as JSON: every use decodes its own copy
	readAt time.Time
}

func newLastKnown(s storage.Storage, now func() time.Time) *lastKnown {
	return &lastKnown{Storage: s, now: now, recs: map[lastKnownKey]lastKnownRec{}}
}

// outagePause is how long after the store answered "unavailable" the
// reads that have a last-known answer take it without asking the store:
// during an outage each would otherwise wait for the store's timeout. It
// is also how long after the store's return those reads may lag.
const outagePause = 5 * time.Second

// read answers a read of k: from the store, remembered; or, while the
// store is unavailable, the answer last remembered.
func read[T any](lk *lastKnown, k lastKnownKey, load func() (T, error)) (T, error) {
	if time.Now().Before(lk.down()) {
		if old, ok := lastKnownGet[T](lk, k); ok {
			return old, nil
		}
	}
	v, err := load()
	switch {
	case err == nil:
		lk.put(k, v)
	case errors.Is(err, storage.ErrUnavailable):
		lk.mu.Lock()
		lk.downUntil = time.Now().Add(outagePause)
		lk.mu.Unlock()
		if old, ok := lastKnownGet[T](lk, k); ok {
			return old, nil
		}
	case errors.Is(err, storage.ErrNotFound):
		lk.forget(k)
	}
	return v, err
}

func (lk *lastKnown) put(k lastKnownKey, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	lk.mu.Lock()
	defer lk.mu.Unlock()
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
