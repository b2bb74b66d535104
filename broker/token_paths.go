package broker

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/oauth2broker/oauth2broker/storage"
)

// tokenPathTTL bounds how long a replica serves a stale index of extra
// token paths after another replica changed an API, when no watch of the
// store told it at once.
const tokenPathTTL = 5 * time.Second

// tokenPathIndex maps the APIs' extra token paths to their API.
type tokenPathIndex struct {
	store    storage.Storage
	now      func() time.Time
	load     sync.Mutex // one reload at a time
	mu       sync.Mutex // guards the fields below
	byPath   map[string]string
	loadedAt time.Time
	stale    bool
	loading  bool
	gen      uint64 // counts invalidations, to spot one during a reload
}

// lookup returns the API that serves its token endpoint at path.
func (x *tokenPathIndex) lookup(ctx context.Context, path string) (storage.API, bool, error) {
	name, err := x.apiFor(ctx, path)
	if err != nil || name == "" {
		return storage.API{}, false, err
	}
	a, err := x.store.GetAPI(ctx, name)
	if err != nil {
		return storage.API{}, false, ignoreNotFound(err)
	}
	return a, true, nil
}

// apiFor returns the API name of path, reloading the index when it is
// stale. While one request reloads it, the others route with the index
// they have rather than wait for the store.
func (x *tokenPathIndex) apiFor(ctx context.Context, path string) (string, error) {
	x.mu.Lock()
	current := x.byPath != nil && !x.stale && x.now().Sub(x.loadedAt) <= tokenPathTTL
	if current || (x.byPath != nil && x.loading) {
		defer x.mu.Unlock()
		return x.byPath[path], nil
	}
	x.loading = true
	x.mu.Unlock()

	x.load.Lock()
	defer x.load.Unlock()
	x.mu.Lock()
	if x.byPath != nil && !x.stale && x.now().Sub(x.loadedAt) <= tokenPathTTL {
		defer x.mu.Unlock()
		x.loading = false
		return x.byPath[path], nil // reloaded by the request before this one
	}
	gen := x.gen
	x.mu.Unlock()
	apis, err := x.store.ListAPIs(ctx)
	x.mu.Lock()
	defer x.mu.Unlock()
	x.loading = false
	switch {
	case err != nil && x.byPath != nil && errors.Is(err, storage.ErrUnavailable):
		return x.byPath[path], nil // no quorum: route with the index known
	case err != nil:
		return "", err
	}
	x.byPath = map[string]string{}
	for _, a := range apis {
		for _, p := range a.TokenPaths {
			x.byPath[p] = a.Name
		}
	}
	x.loadedAt, x.stale = x.now(), x.gen != gen
	return x.byPath[path], nil
}

// invalidate marks the index stale after an API change, here or (heard
// through the store's watch) on another replica: the next lookup reloads.
func (x *tokenPathIndex) invalidate() {
	x.mu.Lock()
	x.stale = true
	x.gen++
	x.mu.Unlock()
}

func ignoreNotFound(err error) error {
	if err == storage.ErrNotFound {
		return nil
	}
	return err
}
