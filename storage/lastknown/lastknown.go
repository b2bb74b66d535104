package lastknown

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oauth2broker/oauth2broker/storage"
)

// ttl bounds how old a record read before the store became unavailable
// may be and still be served: the stale window, during an outage, of
// changes made on the other side of a network partition.
const ttl = 2 * time.Minute

// maxRecords bounds how many records a Store keeps.
const maxRecords = 100_000

// Store is a shared store (etcd) as the broker reads it: it remembers the
// last answer of each read of the settings records (APIs, clients, users,
// providers; the token issuer keeps signing keys) and, when the store is
// unavailable (no quorum), answers that instead, if it was read less than
// ttl ago. So a replica keeps issuing and verifying tokens through a
// quorum loss, when no one can change those records anyway. Reads whose
// staleness is never safe (revocations, connections, states) and every
// write still fail with storage.ErrUnavailable. A record that Changed
// names is forgotten at once.
type Store struct {
	storage.Storage
	now func() time.Time

	probing atomic.Bool // a read is asking the store whether it is back

	mu   sync.Mutex
	recs map[key]record
	down bool   // the store's last answer was "unavailable"
	gen  uint64 // counts changes heard, to spot one during a read
}

var _ storage.Storage = (*Store)(nil)

type key struct{ kind, api, id string }

type record struct {
	json   []byte // the answer, as JSON: every use decodes its own copy
	readAt time.Time
}

// Config configures a Store.
type Config struct {
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
}

// Wrap returns s reading through a Store. Its owner must pass every
// change the store's watch reports (storage.Watcher) to Changed, so that
// an outage never serves a record known to have changed.
func Wrap(s storage.Storage, cfg Config) *Store {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Store{Storage: s, now: now, recs: map[key]record{}}
}

// read answers a read of k: from the store, remembered; or, while the
// store is unavailable, the answer last remembered. While the store is
// down, one read at a time asks it whether it is back (and waits for its
// timeout if not); the others take their remembered answer at once.
func read[T any](lk *Store, k key, load func() (T, error)) (T, error) {
	lk.mu.Lock()
	down, gen := lk.down, lk.gen
	lk.mu.Unlock()
	if down {
		if old, ok := get[T](lk, k); ok {
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
		if old, ok := get[T](lk, k); ok {
			return old, nil
		}
	case errors.Is(err, storage.ErrNotFound):
		lk.up()
		lk.forget(k)
	}
	return v, err
}

// up records that the store answers.
func (lk *Store) up() {
	lk.mu.Lock()
	lk.down = false
	lk.mu.Unlock()
}

// put remembers v as the answer of k, unless a change was heard since
// the read began (gen): what was read may predate it.
func (lk *Store) put(k key, v any, gen uint64) {
	b, err := json.Marshal(v)
	lk.mu.Lock()
	defer lk.mu.Unlock()
	lk.down = false
	if err != nil || lk.gen != gen {
		return
	}
	if _, ok := lk.recs[k]; !ok && len(lk.recs) >= maxRecords {
		return
	}
	lk.recs[k] = record{json: b, readAt: lk.now()}
}

func get[T any](lk *Store, k key) (T, bool) {
	var v T
	lk.mu.Lock()
	rec, ok := lk.recs[k]
	lk.mu.Unlock()
	if !ok || lk.now().Sub(rec.readAt) > ttl {
		return v, false
	}
	return v, json.Unmarshal(rec.json, &v) == nil
}

func (lk *Store) forget(k key) {
	lk.mu.Lock()
	delete(lk.recs, k)
	lk.mu.Unlock()
}

// Changed forgets what a change heard from the store's watch makes
// stale; a Change with an empty Kind (changes were lost) forgets
// everything.
func (lk *Store) Changed(c storage.Change) {
	lk.mu.Lock()
	lk.gen++
	if c.Kind == "" { // changes were lost
		clear(lk.recs)
	}
	lk.mu.Unlock()
	switch c.Kind {
	case storage.KindAPIs:
		lk.forget(key{kind: storage.KindAPIs, api: c.API})
		lk.forget(key{kind: storage.KindAPIs})
	case storage.KindClients, storage.KindUsers, storage.KindProviders:
		lk.forget(key{kind: c.Kind, api: c.API, id: c.ID})
		lk.forget(key{kind: c.Kind, api: c.API}) // the list
	}
}

// GetAPI reads an API, or its last known answer while the store is down.
func (lk *Store) GetAPI(ctx context.Context, name string) (storage.API, error) {
	return read(lk, key{kind: storage.KindAPIs, api: name}, func() (storage.API, error) {
		return lk.Storage.GetAPI(ctx, name)
	})
}

// ListAPIs lists the APIs, or answers the last known list while the store is down.
func (lk *Store) ListAPIs(ctx context.Context) ([]storage.API, error) {
	return read(lk, key{kind: storage.KindAPIs}, func() ([]storage.API, error) {
		return lk.Storage.ListAPIs(ctx)
	})
}

// GetClient reads a client, or its last known answer while the store is down.
func (lk *Store) GetClient(ctx context.Context, api, id string) (storage.Client, error) {
	return read(lk, key{storage.KindClients, api, id}, func() (storage.Client, error) {
		return lk.Storage.GetClient(ctx, api, id)
	})
}

// GetUser reads a user, or its last known answer while the store is down.
func (lk *Store) GetUser(ctx context.Context, api, username string) (storage.User, error) {
	return read(lk, key{storage.KindUsers, api, username}, func() (storage.User, error) {
		return lk.Storage.GetUser(ctx, api, username)
	})
}

// GetProvider reads a provider, or its last known answer while the store is down.
func (lk *Store) GetProvider(ctx context.Context, api, name string) (storage.Provider, error) {
	return read(lk, key{storage.KindProviders, api, name}, func() (storage.Provider, error) {
		return lk.Storage.GetProvider(ctx, api, name)
	})
}

// ListProviders lists an API's providers, or answers the last known list while the store is down.
func (lk *Store) ListProviders(ctx context.Context, api string) ([]storage.Provider, error) {
	return read(lk, key{kind: storage.KindProviders, api: api}, func() ([]storage.Provider, error) {
		return lk.Storage.ListProviders(ctx, api)
	})
}
