package cached

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/oauth2broker/oauth2broker/storage"
)

// maxRecords bounds how many records (and provider lists) a Store keeps;
// past it, reads go to the store.
const maxRecords = 100_000

// Config configures a Store.
type Config struct {
	// TTL, when positive, is how long a record is answered from memory
	// before it is read again; zero keeps it until a write or Changed
	// forgets it (a store only this process writes, such as bbolt).
	TTL time.Duration
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
}

// Store is a storage.Storage answering GetAPI, GetClient, GetProvider and
// ListProviders from memory (see the package documentation). Every other
// call goes to the store unchanged.
type Store struct {
	forgetter
	ttl time.Duration
	now func() time.Time

	mu        sync.RWMutex
	gen       uint64 // counts forgets, to spot one during a read
	n         int
	apis      map[string]entry[storage.API]
	clients   map[[2]string]entry[storage.Client]
	providers map[[2]string]entry[storage.Provider]
	lists     map[string]entry[[]storage.Provider]
}

var _ storage.Storage = (*Store)(nil)

type entry[T any] struct {
	v      T
	readAt time.Time
}

// Wrap returns s reading through a Store.
func Wrap(s storage.Storage, cfg Config) *Store {
	c := &Store{ttl: cfg.TTL, now: cfg.Now}
	if c.now == nil {
		c.now = time.Now
	}
	c.forgetter = forgetter{Storage: s, c: c}
	c.reset()
	return c
}

func (c *Store) reset() {
	c.apis = map[string]entry[storage.API]{}
	c.clients = map[[2]string]entry[storage.Client]{}
	c.providers = map[[2]string]entry[storage.Provider]{}
	c.lists = map[string]entry[[]storage.Provider]{}
	c.n = 0
}

// read answers k from m while it is fresh, else loads it and remembers
// it, unless something was forgotten while it loaded.
func read[K comparable, V any](c *Store, m map[K]entry[V], k K, clone func(V) V, load func() (V, error)) (V, error) {
	c.mu.RLock()
	e, ok := m[k]
	gen := c.gen
	c.mu.RUnlock()
	if ok && (c.ttl <= 0 || c.now().Sub(e.readAt) < c.ttl) {
		return clone(e.v), nil
	}
	readAt := c.now()
	v, err := load()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	if _, had := m[k]; c.gen == gen && (had || c.n < maxRecords) {
		if !had {
			c.n++
		}
		m[k] = entry[V]{v: clone(v), readAt: readAt}
	}
	c.mu.Unlock()
	return v, nil
}

// GetAPI reads an API.
func (c *Store) GetAPI(ctx context.Context, name string) (storage.API, error) {
	return read(c, c.apis, name, cloneAPI, func() (storage.API, error) { return c.Storage.GetAPI(ctx, name) })
}

// GetClient reads a client.
func (c *Store) GetClient(ctx context.Context, api, id string) (storage.Client, error) {
	return read(c, c.clients, [2]string{api, id}, cloneClient, func() (storage.Client, error) { return c.Storage.GetClient(ctx, api, id) })
}

// GetProvider reads a provider.
func (c *Store) GetProvider(ctx context.Context, api, name string) (storage.Provider, error) {
	return read(c, c.providers, [2]string{api, name}, cloneProvider, func() (storage.Provider, error) {
		return c.Storage.GetProvider(ctx, api, name)
	})
}

// ListProviders lists an API's providers.
func (c *Store) ListProviders(ctx context.Context, api string) ([]storage.Provider, error) {
	return read(c, c.lists, api, cloneProviders, func() ([]storage.Provider, error) { return c.Storage.ListProviders(ctx, api) })
}

// Changed forgets what a change heard from a shared store's watch makes
// stale; a Change with an empty Kind (changes were lost) forgets
// everything.
func (c *Store) Changed(ch storage.Change) {
	switch ch.Kind {
	case "":
		c.mu.Lock()
		c.gen++
		c.reset()
		c.mu.Unlock()
	case storage.KindAPIs, storage.KindClients, storage.KindProviders:
		c.forget(ch.Kind, ch.API, ch.ID)
	}
}

// forget drops the record (kind, api, id) and what lists it.
func (c *Store) forget(kind, api, id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	drop := func(ok bool) {
		if ok {
			c.n--
		}
	}
	switch kind {
	case storage.KindAPIs:
		_, ok := c.apis[api]
		drop(ok)
		delete(c.apis, api)
		_, ok = c.lists[api]
		drop(ok)
		delete(c.lists, api)
	case storage.KindClients:
		_, ok := c.clients[[2]string{api, id}]
		drop(ok)
		delete(c.clients, [2]string{api, id})
	case storage.KindProviders:
		_, ok := c.providers[[2]string{api, id}]
		drop(ok)
		delete(c.providers, [2]string{api, id})
		_, ok = c.lists[api]
		drop(ok)
		delete(c.lists, api)
	}
}

// Forgetting returns s (the store a Store wraps, or the same store
// unwrapped differently) with its writes of APIs, clients and providers
// making c forget what they change; its reads are not cached. It is for
// a writer that must reach the store itself (the resealer).
func (c *Store) Forgetting(s storage.Storage) storage.Storage {
	return forgetter{Storage: s, c: c}
}

func cloneAPI(a storage.API) storage.API {
	a.Tenants, a.TokenPaths = slices.Clone(a.Tenants), slices.Clone(a.TokenPaths)
	return a
}

func cloneClient(c storage.Client) storage.Client {
	c.SecretHash, c.GrantTypes, c.Scopes = slices.Clone(c.SecretHash), slices.Clone(c.GrantTypes), slices.Clone(c.Scopes)
	c.ReturnURLs = slices.Clone(c.ReturnURLs)
	c.SealedWebhookSecret, c.SealedOldWebhookSecret = slices.Clone(c.SealedWebhookSecret), slices.Clone(c.SealedOldWebhookSecret)
	return c
}

func cloneProvider(p storage.Provider) storage.Provider {
	p.Config, p.SealedClientSecret, p.SealedRegistration = slices.Clone(p.Config), slices.Clone(p.SealedClientSecret), slices.Clone(p.SealedRegistration)
	return p
}

func cloneProviders(ps []storage.Provider) []storage.Provider {
	if ps == nil {
		return nil
	}
	out := make([]storage.Provider, len(ps))
	for i, p := range ps {
		out[i] = cloneProvider(p)
	}
	return out
}
